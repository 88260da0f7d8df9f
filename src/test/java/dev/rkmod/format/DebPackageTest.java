package dev.rkmod.format;

import org.apache.commons.compress.archivers.ar.ArArchiveEntry;
import org.apache.commons.compress.archivers.ar.ArArchiveInputStream;
import org.apache.commons.compress.archivers.ar.ArArchiveOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Stream;
import java.util.zip.GZIPOutputStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** The .deb reader on packages dpkg-deb builds in the test. */
class DebPackageTest {
    private static final String VMLINUZ = "/usr/lib/modules/6.1.0-test/vmlinuz";
    private static final Set<String> DEPENDENCY_FIELDS = Set.of("depends", "pre-depends", "recommends", "suggests",
            "breaks", "conflicts", "enhances", "replaces", "provides", "built-using", "static-built-using");
    private static final String CONTROL = """
            Package: rkmod-test
            Version: 1:6.1.0-3+deb12u1
            Architecture: amd64
            Maintainer: Test Maintainer <test@example.org>
            Installed-Size: 312
            Section: kernel
            Priority: optional
            Depends: kmod, linux-base (>= 4.3~),
              initramfs-tools (>= 0.120+deb8u2) | linux-initramfs-tool
            X-Custom: first  \s
              second
            \tthird
            Description: a test package for rkmod   \s
             It has a long description.
             .
             With a paragraph break.
            """;

    @TempDir
    Path tmp;

    private static String run(Path dir, String... argv) throws Exception {
        Path err = Files.createTempFile(dir, "stderr", ".txt");
        Process p = new ProcessBuilder(argv).directory(dir.toFile()).redirectError(err.toFile()).start();
        byte[] out = p.getInputStream().readAllBytes();
        assertThat(p.waitFor(2, TimeUnit.MINUTES)).isTrue();
        assertThat(p.exitValue()).as("%s: %s", List.of(argv), Files.readString(err)).isZero();
        return new String(out, StandardCharsets.UTF_8);
    }

    private static boolean dpkgDebHasZstd() throws Exception {
        Path dir = Files.createTempDirectory("dpkg-deb-help");
        try {
            return run(dir, "dpkg-deb", "--help").contains("zstd");
        } finally {
            try (Stream<Path> s = Files.list(dir)) {
                for (Path p : s.toList()) {
                    Files.delete(p);
                }
            }
            Files.delete(dir);
        }
    }

    /** Builds a package with {@code dpkg-deb --build -Z<compression>} from the tree {@code fill} makes. */
    private Path build(String name, String compression, String control, TreeFiller fill) throws Exception {
        if (compression.equals("zstd")) {
            assumeTrue(dpkgDebHasZstd(), "dpkg-deb cannot build zstd packages here");
        }
        Path root = Files.createDirectories(tmp.resolve(name + "-" + compression));
        Files.setPosixFilePermissions(root, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path debian = Files.createDirectories(root.resolve("DEBIAN"));
        Files.setPosixFilePermissions(debian, PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.writeString(debian.resolve("control"), control);
        fill.fill(root);
        Path deb = tmp.resolve(name + "-" + compression + ".deb");
        run(tmp, "dpkg-deb", "--root-owner-group", "-Z" + compression, "--build", root.toString(), deb.toString());
        return deb;
    }

    @FunctionalInterface
    private interface TreeFiller {
        void fill(Path root) throws Exception;
    }

    private static byte[] randomBytes(long seed, int n) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    private static Path file(Path root, String path, byte[] content) throws IOException {
        Path f = root.resolve(path.substring(1));
        Files.createDirectories(f.getParent());
        Files.write(f, content);
        Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rw-r--r--"));
        return f;
    }

    private static void link(Path root, String path, String target) throws IOException {
        Path l = root.resolve(path.substring(1));
        Files.createDirectories(l.getParent());
        Files.createSymbolicLink(l, Path.of(target));
    }

    private Path kernelPackage(String compression) throws Exception {
        return build("kernel", compression, CONTROL, root -> {
            file(root, VMLINUZ, randomBytes(42, 300_000));
            Path tool = file(root, "/usr/bin/rkmod-tool", "#!/bin/sh\necho hi\n".getBytes(StandardCharsets.US_ASCII));
            Files.setPosixFilePermissions(tool, PosixFilePermissions.fromString("rwxr-xr-x"));
            link(root, "/boot/vmlinuz-6.1.0-test", "../usr/lib/modules/6.1.0-test/vmlinuz");
            link(root, "/boot/escape", "../../etc/passwd");
            link(root, "/boot/absolute", "/usr/lib/modules/6.1.0-test/vmlinuz");
            link(root, "/boot/chain", "vmlinuz-6.1.0-test");
            link(root, "/boot/dangling", "nothing-here");
            Path a = file(root, "/usr/share/doc/rkmod-test/a", "hard linked\n".getBytes(StandardCharsets.US_ASCII));
            Files.createLink(root.resolve("usr/share/doc/rkmod-test/b"), a);
        });
    }

    private static byte[] bytesOf(Path root, String path) throws IOException {
        return Files.readAllBytes(root.resolve(path.substring(1)));
    }

    // ---- control ----

    @ParameterizedTest
    @ValueSource(strings = {"xz", "gzip", "zstd", "none"})
    void controlFieldsAreWhatDpkgDebPrints(String compression) throws Exception {
        Path deb = kernelPackage(compression);
        DebPackage.Control c = DebPackage.control(deb);

        List<String> names = run(tmp, "dpkg-deb", "-f", deb.toString()).lines()
                .filter(l -> !l.isEmpty() && l.charAt(0) != ' ' && l.charAt(0) != '\t')
                .map(l -> l.substring(0, l.indexOf(':')))
                .toList();
        assertThat(c.fields().keySet()).containsExactlyElementsOf(names);
        for (String name : names) {
            String printed = run(tmp, "dpkg-deb", "-f", deb.toString(), name);
            String expected = printed.endsWith("\n") ? printed.substring(0, printed.length() - 1) : printed;
            String actual = c.fields().get(name);
            if (DEPENDENCY_FIELDS.contains(name.toLowerCase())) {
                // dpkg parses dependency fields and prints them re-formatted on one line
                assertThat(actual.replaceAll("\\s+", " ")).as(name).isEqualTo(expected);
            } else {
                assertThat(actual).as(name).isEqualTo(expected);
            }
        }
        assertThat(c.packageName()).isEqualTo("rkmod-test");
        assertThat(c.version()).isEqualTo("1:6.1.0-3+deb12u1");
        assertThat(c.architecture()).contains("amd64");
        assertThat(c.field("installed-size")).contains("312");
        assertThat(c.field("X-CUSTOM")).contains("first   \n  second\n\tthird");
        assertThat(c.field("Description")).contains(
                "a test package for rkmod    \n It has a long description.\n .\n With a paragraph break.");
        assertThat(c.field("Homepage")).isEmpty();
    }

    @Test
    void controlParsingRefusesMalformedStanzas() {
        DebPackage.Control c = DebPackage.Control.parse("\nPackage: p\nVersion: 1\nDescription: d\n more\n\n\n");
        assertThat(c.fields()).containsExactly(Map.entry("Package", "p"), Map.entry("Version", "1"),
                Map.entry("Description", "d\n more"));
        for (String bad : List.of("Package: p\nVersion: 1\npackage: q\n", "Package: p\nVersion: 1\n\nPackage: q\n",
                " continued\nPackage: p\nVersion: 1\n", "Package: p\nVersion: 1\nnot a field\n", "Package: p\n",
                "Package: p\nVersion:\n", "Pack age: p\nVersion: 1\n", "")) {
            assertThatThrownBy(() -> DebPackage.Control.parse(bad)).as(bad)
                    .isInstanceOfSatisfying(FormatException.class,
                            e -> assertThat(e.reason()).isEqualTo(FormatException.Reason.CORRUPT));
        }
    }

    // ---- data ----

    @ParameterizedTest
    @ValueSource(strings = {"xz", "gzip", "zstd", "none"})
    void dataPathsAreWhatDpkgDebLists(String compression) throws Exception {
        Path deb = kernelPackage(compression);
        List<String> listed = run(tmp, "dpkg-deb", "-c", deb.toString()).lines()
                .map(l -> l.split("\\s+", 6)[5])
                .map(n -> n.replaceAll(" (->|link to) .*$", ""))
                .map(n -> n.equals("./") ? "/" : n.substring(1).replaceAll("/$", ""))
                .toList();
        assertThat(DebPackage.dataPaths(deb)).containsExactlyElementsOf(listed)
                .contains("/", VMLINUZ, "/boot/vmlinuz-6.1.0-test", "/usr/share/doc/rkmod-test/b");
    }

    @ParameterizedTest
    @ValueSource(strings = {"xz", "gzip", "zstd", "none"})
    void extractsRegularFilesWithIdenticalBytes(String compression) throws Exception {
        Path deb = kernelPackage(compression);
        Path root = tmp.resolve("kernel-" + compression);
        Path out = tmp.resolve("out/new-dir/vmlinuz");
        assertThat(DebPackage.extractDataFile(deb, VMLINUZ, out)).isTrue();
        assertThat(Files.readAllBytes(out)).isEqualTo(bytesOf(root, VMLINUZ));
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(out))).isEqualTo("rw-r--r--");

        Path tool = tmp.resolve("out/tool");
        Files.writeString(tool, "old content");
        assertThat(DebPackage.extractDataFile(deb, "./usr/bin/rkmod-tool", tool)).isTrue();
        assertThat(tool).hasContent("#!/bin/sh\necho hi");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(tool))).isEqualTo("rwxr-xr-x");
        assertThat(DebPackage.extractDataFile(deb, "usr/share/doc/rkmod-test/a", tmp.resolve("out/a"))).isTrue();
        assertThat(DebPackage.extractDataFile(deb, "usr/share/doc/rkmod-test/b", tmp.resolve("out/b"))).isTrue();
        assertThat(tmp.resolve("out/a")).hasContent("hard linked");
        assertThat(tmp.resolve("out/b")).hasContent("hard linked");
        assertThat(leftovers(tmp.resolve("out"))).isEmpty();
    }

    @ParameterizedTest
    @ValueSource(strings = {"xz", "gzip", "zstd"})
    void followsARelativeSymlinkOnce(String compression) throws Exception {
        Path deb = kernelPackage(compression);
        Path out = tmp.resolve("out/vmlinuz");
        assertThat(DebPackage.extractDataFile(deb, "/boot/vmlinuz-6.1.0-test", out)).isTrue();
        assertThat(Files.readAllBytes(out)).isEqualTo(bytesOf(tmp.resolve("kernel-" + compression), VMLINUZ));

        assertThat(DebPackage.extractDataFile(deb, "/boot/dangling", tmp.resolve("out/dangling"))).isFalse();
        assertThatThrownBy(() -> DebPackage.extractDataFile(deb, "/boot/chain", tmp.resolve("out/chain")))
                .isInstanceOfSatisfying(FormatException.class,
                        e -> assertThat(e.reason()).isEqualTo(FormatException.Reason.UNSUPPORTED));
        assertThat(tmp.resolve("out/dangling")).doesNotExist();
        assertThat(tmp.resolve("out/chain")).doesNotExist();
    }

    @Test
    void refusesLinksThatLeaveThePackage() throws Exception {
        Path deb = kernelPackage("xz");
        for (String link : List.of("/boot/escape", "/boot/absolute")) {
            Path out = tmp.resolve("out/" + link.substring(6));
            assertThatThrownBy(() -> DebPackage.extractDataFile(deb, link, out)).as(link)
                    .isInstanceOfSatisfying(FormatException.class, e -> {
                        assertThat(e.reason()).isEqualTo(FormatException.Reason.CORRUPT);
                        assertThat(e.what()).contains(link);
                    });
            assertThat(out).doesNotExist();
        }
        assertThat(leftovers(tmp.resolve("out"))).isEmpty();
    }

    @Test
    void missingPathsAndDirectoriesAreAbsentAndLeaveTheDestinationAlone() throws Exception {
        Path deb = kernelPackage("gzip");
        Path out = Files.createDirectories(tmp.resolve("out")).resolve("kept");
        Files.writeString(out, "kept");
        assertThat(DebPackage.extractDataFile(deb, "/boot/vmlinuz-6.1.0-other", out)).isFalse();
        assertThat(DebPackage.extractDataFile(deb, "/usr/lib/modules", out)).isFalse();
        assertThat(DebPackage.extractDataFile(deb, "/usr/lib/modules/6.1.0-test/vmlinuz/x", out)).isFalse();
        assertThat(out).hasContent("kept");
        assertThat(leftovers(tmp.resolve("out"))).isEmpty();
        assertThatThrownBy(() -> DebPackage.extractDataFile(deb, "/../etc/passwd", out))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void enforcesTheSizeBound() throws Exception {
        Path deb = kernelPackage("gzip");
        Path out = tmp.resolve("out/vmlinuz");
        assertThatThrownBy(() -> DebPackage.extractDataFile(deb, VMLINUZ, out, 299_999))
                .isInstanceOfSatisfying(FormatException.class,
                        e -> assertThat(e.reason()).isEqualTo(FormatException.Reason.CORRUPT));
        assertThat(out).doesNotExist();
        assertThat(DebPackage.extractDataFile(deb, VMLINUZ, out, 300_000)).isTrue();
        assertThat(leftovers(tmp.resolve("out"))).isEmpty();
    }

    @ParameterizedTest
    @ValueSource(strings = {"xz", "zstd"})
    void extractsADirectoryTreeInOnePassWithoutItsLinks(String compression) throws Exception {
        Path deb = build("modules", compression, CONTROL, root -> {
            file(root, "/usr/lib/modules/6.1.0-test/kernel/fs/configfs/configfs.ko.xz", randomBytes(1, 5000));
            file(root, "/usr/lib/modules/6.1.0-test/kernel/lib/xor.ko.xz", randomBytes(2, 300));
            file(root, "/usr/lib/modules/6.1.0-other/kernel/x.ko", randomBytes(3, 10));
            file(root, "/usr/share/doc/rkmod-test/copyright", "text\n".getBytes(StandardCharsets.US_ASCII));
            link(root, "/usr/lib/modules/6.1.0-test/build", "/usr/src/linux-headers-6.1.0-test");
        });
        Path src = tmp.resolve("modules-" + compression);
        Path dest = tmp.resolve("out/lib/modules/6.1.0-test");
        DebPackage.TreeCount n = DebPackage.extractTree(deb, "./usr/lib/modules/6.1.0-test/", dest, 1 << 20);
        assertThat(n).isEqualTo(new DebPackage.TreeCount(2, 1));
        assertThat(Files.readAllBytes(dest.resolve("kernel/fs/configfs/configfs.ko.xz")))
                .isEqualTo(bytesOf(src, "/usr/lib/modules/6.1.0-test/kernel/fs/configfs/configfs.ko.xz"));
        assertThat(dest.resolve("kernel/lib/xor.ko.xz")).hasSize(300);
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(dest.resolve("kernel/lib/xor.ko.xz"))))
                .isEqualTo("rw-r--r--");
        assertThat(dest.resolve("build")).doesNotExist();
        try (Stream<Path> s = Files.walk(tmp.resolve("out"))) {
            assertThat(s.filter(Files::isRegularFile).count()).as("nothing outside the directory").isEqualTo(2);
        }
        // a directory the package lacks: nothing; the bound counts all files together
        assertThat(DebPackage.extractTree(deb, "/lib/modules/6.1.0-test", tmp.resolve("none"), 1 << 20))
                .isEqualTo(new DebPackage.TreeCount(0, 0));
        assertThatThrownBy(() -> DebPackage.extractTree(deb, "/usr/lib/modules/6.1.0-test", tmp.resolve("small"), 5100))
                .isInstanceOfSatisfying(FormatException.class, e -> {
                    assertThat(e.reason()).isEqualTo(FormatException.Reason.CORRUPT);
                    assertThat(e.why()).contains("larger than the limit of 5100 bytes");
                });
        assertThatThrownBy(() -> DebPackage.extractTree(deb, "/../etc", tmp.resolve("x"), 1))
                .isInstanceOf(IllegalArgumentException.class);
    }

    private static List<Path> leftovers(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.getFileName().toString().endsWith(".tmp")).toList();
        }
    }

    // ---- damaged and foreign files ----

    @ParameterizedTest
    @ValueSource(strings = {"xz", "gzip", "zstd"})
    void truncatedPackagesAreTruncatedOrCorrupt(String compression) throws Exception {
        Path deb = kernelPackage(compression);
        byte[] whole = Files.readAllBytes(deb);
        for (int cut : new int[] {whole.length / 2, 4, 8, 8 + 30, 8 + 60 + 2, 8 + 60 + 4 + 60 + 10, whole.length - 2}) {
            Path cutDeb = tmp.resolve("cut.deb");
            Files.write(cutDeb, Arrays.copyOf(whole, cut));
            for (Call call : calls(tmp.resolve("out/cut"))) {
                assertThatThrownBy(() -> call.run(cutDeb)).as("cut at %d, %s", cut, call)
                        .isInstanceOfSatisfying(FormatException.class, e -> assertThat(e.reason())
                                .isIn(FormatException.Reason.TRUNCATED, FormatException.Reason.CORRUPT));
            }
        }
        Files.write(tmp.resolve("half.deb"), Arrays.copyOf(whole, whole.length / 2));
        assertThatThrownBy(() -> DebPackage.control(tmp.resolve("half.deb")))
                .isInstanceOfSatisfying(FormatException.class,
                        e -> assertThat(e.reason()).isEqualTo(FormatException.Reason.TRUNCATED));
    }

    @Test
    void foreignFilesHaveBadMagic() throws Exception {
        byte[] random = randomBytes(7, 4096);
        random[0] = 'X';
        Files.write(tmp.resolve("random.deb"), random);
        Files.writeString(tmp.resolve("text.deb"), "Package: not-an-archive\n");
        for (String name : List.of("random.deb", "text.deb")) {
            for (Call call : calls(tmp.resolve("out/x"))) {
                assertThatThrownBy(() -> call.run(tmp.resolve(name))).as("%s, %s", name, call)
                        .isInstanceOfSatisfying(FormatException.class,
                                e -> assertThat(e.reason()).isEqualTo(FormatException.Reason.BAD_MAGIC));
            }
        }
        Files.write(tmp.resolve("empty.deb"), new byte[0]);
        assertThatThrownBy(() -> DebPackage.control(tmp.resolve("empty.deb")))
                .isInstanceOfSatisfying(FormatException.class,
                        e -> assertThat(e.reason()).isEqualTo(FormatException.Reason.TRUNCATED));
        // failures to read the file itself stay I/O errors
        assertThatThrownBy(() -> DebPackage.control(tmp.resolve("does-not-exist.deb")))
                .isInstanceOf(IOException.class);
        assertThatThrownBy(() -> DebPackage.dataPaths(Files.createDirectories(tmp.resolve("a-directory.deb"))))
                .isInstanceOf(IOException.class);
    }

    /** The members of a real package, to rearrange into broken ones. */
    private static Map<String, byte[]> members(Path deb) throws IOException {
        Map<String, byte[]> out = new LinkedHashMap<>();
        try (InputStream in = Files.newInputStream(deb); ArArchiveInputStream ar = new ArArchiveInputStream(in)) {
            ArArchiveEntry e;
            while ((e = ar.getNextEntry()) != null) {
                out.put(e.getName(), ar.readAllBytes());
            }
        }
        return out;
    }

    private Path ar(String name, Map<String, byte[]> members) throws IOException {
        Path deb = tmp.resolve(name);
        try (OutputStream os = Files.newOutputStream(deb); ArArchiveOutputStream ar = new ArArchiveOutputStream(os)) {
            for (Map.Entry<String, byte[]> m : members.entrySet()) {
                ar.putArchiveEntry(new ArArchiveEntry(m.getKey(), m.getValue().length));
                ar.write(m.getValue());
                ar.closeArchiveEntry();
            }
        }
        return deb;
    }

    private static FormatException.Reason reasonOf(Call call, Path deb) throws Exception {
        try {
            call.run(deb);
        } catch (FormatException e) {
            return e.reason();
        }
        return null;
    }

    @Test
    void rearrangedMembersAreCorruptOrUnsupported() throws Exception {
        Map<String, byte[]> real = members(kernelPackage("xz"));
        assertThat(real.keySet()).containsExactly("debian-binary", "control.tar.xz", "data.tar.xz");
        byte[] version = real.get("debian-binary");
        byte[] control = real.get("control.tar.xz");
        byte[] data = real.get("data.tar.xz");
        byte[] v3 = "3.0\n".getBytes(StandardCharsets.US_ASCII);

        Map<String, Map<String, byte[]>> cases = new LinkedHashMap<>();
        cases.put("ok-with-reserved.deb", ordered("debian-binary", version, "_extra", v3, "control.tar.xz", control,
                "_more", v3, "data.tar.xz", data, "trailing", v3));
        cases.put("no-data.deb", ordered("debian-binary", version, "control.tar.xz", control));
        cases.put("no-control.deb", ordered("debian-binary", version, "data.tar.xz", data));
        cases.put("no-version.deb", ordered("control.tar.xz", control, "data.tar.xz", data));
        cases.put("swapped.deb", ordered("debian-binary", version, "data.tar.xz", data, "control.tar.xz", control));
        cases.put("two-controls.deb", ordered("debian-binary", version, "control.tar.xz", control,
                "control.tar", control, "data.tar.xz", data));
        cases.put("stranger.deb", ordered("debian-binary", version, "control.tar.xz", control, "stranger", v3,
                "data.tar.xz", data));
        cases.put("bad-version.deb", ordered("debian-binary", "2.0".getBytes(StandardCharsets.US_ASCII),
                "control.tar.xz", control, "data.tar.xz", data));
        cases.put("v3.deb", ordered("debian-binary", v3, "control.tar.xz", control, "data.tar.xz", data));
        cases.put("bzip2.deb", ordered("debian-binary", version, "control.tar.bz2", control, "data.tar.xz", data));
        cases.put("lzma.deb", ordered("debian-binary", version, "control.tar.xz", control, "data.tar.lzma", data));
        cases.put("misnamed.deb", ordered("debian-binary", version, "control.tar.gz", control, "data.tar.xz", data));

        Map<String, FormatException.Reason> expected = new LinkedHashMap<>();
        expected.put("ok-with-reserved.deb", null);
        expected.put("no-data.deb", FormatException.Reason.CORRUPT);
        expected.put("no-control.deb", FormatException.Reason.CORRUPT);
        expected.put("no-version.deb", FormatException.Reason.CORRUPT);
        expected.put("swapped.deb", FormatException.Reason.CORRUPT);
        expected.put("two-controls.deb", FormatException.Reason.CORRUPT);
        expected.put("stranger.deb", FormatException.Reason.CORRUPT);
        expected.put("bad-version.deb", FormatException.Reason.CORRUPT);
        expected.put("v3.deb", FormatException.Reason.UNSUPPORTED);
        expected.put("bzip2.deb", FormatException.Reason.UNSUPPORTED);
        expected.put("lzma.deb", FormatException.Reason.UNSUPPORTED);
        expected.put("misnamed.deb", FormatException.Reason.CORRUPT);

        Path out = tmp.resolve("out/vmlinuz");
        for (Map.Entry<String, Map<String, byte[]>> c : cases.entrySet()) {
            Path deb = ar(c.getKey(), c.getValue());
            assertThat(reasonOf(d -> DebPackage.control(d), deb)).as("control of %s", c.getKey())
                    .isEqualTo(expected.get(c.getKey()));
        }
        assertThat(DebPackage.extractDataFile(tmp.resolve("ok-with-reserved.deb"), VMLINUZ, out)).isTrue();
        assertThat(Files.readAllBytes(out)).isEqualTo(bytesOf(tmp.resolve("kernel-xz"), VMLINUZ));
    }

    private static Map<String, byte[]> ordered(Object... nameThenBytes) {
        Map<String, byte[]> m = new LinkedHashMap<>();
        for (int i = 0; i < nameThenBytes.length; i += 2) {
            m.put((String) nameThenBytes[i], (byte[]) nameThenBytes[i + 1]);
        }
        return m;
    }

    @Test
    void aMemberLargerThanTheRestOfTheFileIsTruncated() throws Exception {
        Map<String, byte[]> real = members(kernelPackage("gzip"));
        ByteArrayOutputStream bos = new ByteArrayOutputStream();
        bos.writeBytes("!<arch>\n".getBytes(StandardCharsets.US_ASCII));
        for (Map.Entry<String, byte[]> m : real.entrySet()) {
            long claimed = m.getKey().startsWith("data") ? 999_999_999L : m.getValue().length;
            bos.writeBytes(String.format("%-16s%-12s%-6s%-6s%-8s%-10d`\n", m.getKey(), "0", "0", "0", "100644", claimed)
                    .getBytes(StandardCharsets.US_ASCII));
            bos.writeBytes(m.getValue());
            if (m.getValue().length % 2 == 1) {
                bos.write('\n');
            }
        }
        Path deb = tmp.resolve("liar.deb");
        Files.write(deb, bos.toByteArray());
        for (Call call : calls(tmp.resolve("out/x"))) {
            assertThat(reasonOf(call, deb)).as(call.toString()).isEqualTo(FormatException.Reason.TRUNCATED);
        }
    }

    @Test
    void oversizedHeadersAreRefusedBeforeTheyAreBuffered() throws Exception {
        Map<String, byte[]> real = members(kernelPackage("gzip"));
        // a 17 MiB GNU long name: tar headers between two entries are bounded at 16 MiB
        ByteArrayOutputStream data = new ByteArrayOutputStream();
        try (OutputStream gz = new GZIPOutputStream(data)) {
            int nameLength = 17 << 20;
            gz.write(tarHeader("././@LongLink", 'L', nameLength + 1));
            byte[] name = new byte[(nameLength + 1 + 511) & ~511];
            Arrays.fill(name, 0, nameLength, (byte) 'n');
            gz.write(name);
            gz.write(tarHeader("./n", '0', 1));
            byte[] content = new byte[512];
            content[0] = 'x';
            gz.write(content);
            gz.write(new byte[1024]);
        }
        Path longName = ar("long-name.deb", ordered("debian-binary", real.get("debian-binary"),
                "control.tar.gz", real.get("control.tar.gz"), "data.tar.gz", data.toByteArray()));
        assertThat(DebPackage.control(longName).packageName()).isEqualTo("rkmod-test");
        assertThat(reasonOf(DebPackage::dataPaths, longName)).isEqualTo(FormatException.Reason.CORRUPT);

        // a 100 KiB GNU ar name table: ar headers before one member are bounded at 64 KiB
        ByteArrayOutputStream bos = new ByteArrayOutputStream();
        bos.writeBytes("!<arch>\n".getBytes(StandardCharsets.US_ASCII));
        bos.writeBytes(String.format("%-16s%-12s%-6s%-6s%-8s%-10d`\n", "//", "", "", "", "", 100 << 10)
                .getBytes(StandardCharsets.US_ASCII));
        bos.writeBytes("n".repeat(100 << 10).getBytes(StandardCharsets.US_ASCII));
        byte[] valid = Files.readAllBytes(longName);
        bos.write(valid, 8, valid.length - 8); // the members of a readable package follow
        Path nameTable = tmp.resolve("name-table.deb");
        Files.write(nameTable, bos.toByteArray());
        assertThat(reasonOf(DebPackage::control, nameTable)).isEqualTo(FormatException.Reason.CORRUPT);
    }

    /** A ustar header block, written by hand so that its size is not limited by a tar writer. */
    private static byte[] tarHeader(String name, char type, long size) {
        byte[] h = new byte[512];
        byte[] n = name.getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(n, 0, h, 0, n.length);
        putAscii(h, 100, "0000644\0");
        putAscii(h, 108, "0000000\0");
        putAscii(h, 116, "0000000\0");
        putAscii(h, 124, String.format("%011o\0", size));
        putAscii(h, 136, "00000000000\0");
        putAscii(h, 148, "        ");
        h[156] = (byte) type;
        putAscii(h, 257, "ustar  \0");
        int sum = 0;
        for (byte b : h) {
            sum += b & 0xFF;
        }
        putAscii(h, 148, String.format("%06o\0 ", sum));
        return h;
    }

    private static void putAscii(byte[] h, int at, String s) {
        byte[] b = s.getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(b, 0, h, at, b.length);
    }

    // ---- mutations ----

    @FunctionalInterface
    private interface Call {
        Object run(Path deb) throws Exception;
    }

    private static List<Call> calls(Path out) {
        return List.of(
                named("control", DebPackage::control),
                named("dataPaths", DebPackage::dataPaths),
                named("extract file", d -> DebPackage.extractDataFile(d, "/usr/share/rkmod/hello", out)),
                named("extract link", d -> DebPackage.extractDataFile(d, "/usr/share/rkmod/link", out, 1 << 20)));
    }

    private static Call named(String name, Call call) {
        return new Call() {
            @Override
            public Object run(Path deb) throws Exception {
                return call.run(deb);
            }

            @Override
            public String toString() {
                return name;
            }
        };
    }

    @Test
    void mutatedPackagesOnlyEverFailWithFormatExceptions() throws Exception {
        String control = "Package: tiny\nVersion: 1.0\nArchitecture: all\nMaintainer: T <t@example.org>\n"
                + "Description: tiny\n a tiny package\n";
        List<byte[]> bases = new ArrayList<>();
        List<String> compressions = new ArrayList<>(List.of("xz", "gzip", "none"));
        if (dpkgDebHasZstd()) {
            compressions.add("zstd");
        }
        for (String c : compressions) {
            Path deb = build("tiny", c, control, root -> {
                file(root, "/usr/share/rkmod/hello", "hello, world\n".repeat(20).getBytes(StandardCharsets.US_ASCII));
                link(root, "/usr/share/rkmod/link", "hello");
            });
            bases.add(Files.readAllBytes(deb));
        }
        Path mutant = tmp.resolve("mutant.deb");
        Path out = tmp.resolve("mutant-out/hello");
        List<Call> calls = calls(out);
        Random rnd = new Random(0x5EEDL);
        Map<FormatException.Reason, Integer> reasons = new EnumMap<>(FormatException.Reason.class);
        int normal = 0;
        ExecutorService pool = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "deb-mutant");
            t.setDaemon(true);
            return t;
        });
        try {
            for (int i = 0; i < 2000; i++) {
                byte[] base = bases.get(i % bases.size());
                byte[] m = base.clone();
                int op = rnd.nextInt(5);
                switch (op) {
                    case 0 -> { // flip a few bytes anywhere
                        for (int k = 1 + rnd.nextInt(4); k > 0; k--) {
                            m[rnd.nextInt(m.length)] ^= (byte) (1 + rnd.nextInt(255));
                        }
                    }
                    case 1 -> m[rnd.nextInt(Math.min(m.length, 200))] ^= (byte) (1 + rnd.nextInt(255)); // ar headers
                    case 2 -> m = Arrays.copyOf(m, rnd.nextInt(m.length)); // truncate
                    case 3 -> m[8 + rnd.nextInt(Math.min(m.length - 8, 200))] = (byte) " 0123456789`/"
                            .charAt(rnd.nextInt(13)); // plausible ar header characters
                    default -> { // a run of random bytes
                        int at = rnd.nextInt(m.length);
                        for (int k = at; k < Math.min(m.length, at + 1 + rnd.nextInt(16)); k++) {
                            m[k] = (byte) rnd.nextInt(256);
                        }
                    }
                }
                Files.write(mutant, m);
                for (Call call : calls) {
                    String what = "mutant " + i + " (operation " + op + "), " + call;
                    Future<Object> f = pool.submit(() -> call.run(mutant));
                    try {
                        f.get(10, TimeUnit.SECONDS);
                        normal++;
                    } catch (TimeoutException e) {
                        f.cancel(true);
                        fail(what + " took more than 10 s");
                    } catch (ExecutionException e) {
                        if (e.getCause() instanceof FormatException fe) {
                            reasons.merge(fe.reason(), 1, Integer::sum);
                            assertThat(fe.what()).as(what).isNotBlank();
                        } else {
                            throw new AssertionError(what + " threw " + e.getCause(), e.getCause());
                        }
                    }
                }
            }
        } finally {
            pool.shutdownNow();
        }
        // the fixtures carry build times, so counts vary from run to run; both outcomes always occur
        assertThat(normal).as("normal results").isPositive();
        assertThat(reasons).containsKeys(FormatException.Reason.TRUNCATED, FormatException.Reason.CORRUPT);
        assertThat(leftovers(out.getParent())).isEmpty();
    }
}
