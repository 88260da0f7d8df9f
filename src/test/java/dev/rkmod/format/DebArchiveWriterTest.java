package dev.rkmod.format;

import org.apache.commons.compress.archivers.ar.ArArchiveEntry;
import org.apache.commons.compress.archivers.ar.ArArchiveInputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tukaani.xz.XZInputStream;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class DebArchiveWriterTest {
    @TempDir
    Path tmp;

    static final String LONG_DIR = "usr/src/" + "a-rather-long-directory-name/".repeat(6) + "leaf";
    static final String LONG_FILE = LONG_DIR + "/" + "f".repeat(120) + ".h";

    /** A tree with an executable, a plain file, an empty file, a long path, an inner link and a link outside. */
    static Path tree(Path root) throws IOException {
        Files.createDirectories(root.resolve("usr/bin"));
        Files.createDirectories(root.resolve("etc"));
        Files.createDirectories(root.resolve(LONG_DIR));
        Files.writeString(root.resolve("usr/bin/tool"), "#!/bin/sh\necho hi\n");
        Files.setPosixFilePermissions(root.resolve("usr/bin/tool"), PosixFilePermissions.fromString("rwx------"));
        Files.write(root.resolve("usr/bin/data"), new byte[1025]);
        Files.setPosixFilePermissions(root.resolve("usr/bin/data"), PosixFilePermissions.fromString("rw-------"));
        Files.write(root.resolve("usr/bin/empty"), new byte[0]);
        Files.writeString(root.resolve(LONG_FILE), "long\n");
        Files.writeString(root.resolve("etc/tool.conf"), "x=1\n");
        Files.createSymbolicLink(root.resolve("usr/bin/inner"), Path.of("tool"));
        Files.setPosixFilePermissions(root.resolve("usr"), PosixFilePermissions.fromString("rwx------"));
        return root;
    }

    static Map<String, String> control(String pkg) {
        Map<String, String> c = new LinkedHashMap<>();
        c.put("Package", pkg);
        c.put("Version", "1.2-1");
        c.put("Architecture", "amd64");
        c.put("Maintainer", "rkmod tests <tests@example.org>");
        c.put("Depends", "libc6");
        c.put("Section", "devel");
        c.put("Priority", "optional");
        c.put("Description", "a test package\nIt has a long description.\n\nAnd a second paragraph.");
        return c;
    }

    private DebArchiveWriter.Spec spec(PackageTree t) {
        return new DebArchiveWriter.Spec(control("rkmod-test"),
                Map.of("postinst", "#!/bin/sh\nset -e\n".getBytes(StandardCharsets.UTF_8)), List.of("/etc/tool.conf"), t);
    }

    private PackageTree packageTree(Path root) throws IOException {
        return PackageTree.builder().addTree("", root)
                .addSymlink("lib/modules/6.1.0/build", "/" + LONG_DIR)
                .build();
    }

    /** The members of the .deb, decompressed: name to bytes. */
    static Map<String, byte[]> members(Path deb) throws IOException {
        Map<String, byte[]> out = new LinkedHashMap<>();
        try (ArArchiveInputStream ar = new ArArchiveInputStream(Files.newInputStream(deb))) {
            ArArchiveEntry e;
            while ((e = ar.getNextEntry()) != null) {
                byte[] b = ar.readAllBytes();
                if (e.getName().endsWith(".xz")) {
                    b = new XZInputStream(new ByteArrayInputStream(b)).readAllBytes();
                } else if (e.getName().endsWith(".zst")) {
                    b = new com.github.luben.zstd.ZstdInputStream(new ByteArrayInputStream(b)).readAllBytes();
                }
                out.put(e.getName(), b);
            }
        }
        return out;
    }

    /** The entries of a tar: name to entry, and the file contents under name + "#content". */
    static Map<String, Object> tarEntries(byte[] tar) throws IOException {
        Map<String, Object> out = new LinkedHashMap<>();
        try (TarArchiveInputStream in = new TarArchiveInputStream(new ByteArrayInputStream(tar))) {
            TarArchiveEntry e;
            while ((e = in.getNextEntry()) != null) {
                out.put(e.getName(), e);
                if (e.isFile()) {
                    out.put(e.getName() + "#content", in.readAllBytes());
                }
            }
        }
        return out;
    }

    private static String md5(byte[] b) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("MD5").digest(b));
    }

    @Test
    void roundTripsThroughTheDebReader() throws Exception {
        Path root = tree(tmp.resolve("tree"));
        Path deb = tmp.resolve("out/rkmod-test_1.2-1_amd64.deb");
        var r = DebArchiveWriter.write(deb, spec(packageTree(root)), DebArchiveWriter.Options.defaults());

        assertThat(r.bytes()).isEqualTo(Files.size(deb));
        DebPackage.Control c = DebPackage.control(deb);
        assertThat(c.fields().keySet()).containsExactly("Package", "Version", "Architecture", "Maintainer",
                "Installed-Size", "Depends", "Section", "Priority", "Description");
        assertThat(c.field("Description").orElseThrow())
                .isEqualTo("a test package\n It has a long description.\n .\n And a second paragraph.");
        assertThat(DebPackage.dataPaths(deb)).containsExactly("/", "/etc", "/etc/tool.conf", "/lib", "/lib/modules",
                "/lib/modules/6.1.0", "/lib/modules/6.1.0/build", "/usr", "/usr/bin", "/usr/bin/data", "/usr/bin/empty",
                "/usr/bin/inner", "/usr/bin/tool", "/usr/src", "/usr/src/a-rather-long-directory-name",
                "/usr/src/a-rather-long-directory-name/a-rather-long-directory-name",
                "/usr/src/a-rather-long-directory-name/a-rather-long-directory-name/a-rather-long-directory-name",
                "/usr/src/a-rather-long-directory-name/a-rather-long-directory-name/a-rather-long-directory-name"
                        + "/a-rather-long-directory-name",
                "/usr/src/a-rather-long-directory-name/a-rather-long-directory-name/a-rather-long-directory-name"
                        + "/a-rather-long-directory-name/a-rather-long-directory-name",
                "/" + LONG_DIR.substring(0, LONG_DIR.length() - "/leaf".length()), "/" + LONG_DIR, "/" + LONG_FILE);
        Path out = tmp.resolve("extracted");
        assertThat(DebPackage.extractDataFile(deb, LONG_FILE, out)).isTrue();
        assertThat(out).hasContent("long");
        assertThat(Files.list(deb.getParent()).toList()).as("no temporary file is left").containsExactly(deb);

        Map<String, byte[]> m = members(deb);
        assertThat(m.keySet()).containsExactly("debian-binary", "control.tar.xz", "data.tar.xz");
        assertThat(new String(m.get("debian-binary"), StandardCharsets.US_ASCII)).isEqualTo("2.0\n");
        Map<String, Object> ctl = tarEntries(m.get("control.tar.xz"));
        assertThat(ctl.keySet().stream().filter(k -> !k.endsWith("#content")))
                .containsExactly("./", "./conffiles", "./control", "./md5sums", "./postinst");
        assertThat(((TarArchiveEntry) ctl.get("./postinst")).getMode()).isEqualTo(0100755);
        assertThat(((TarArchiveEntry) ctl.get("./control")).getMode()).isEqualTo(0100644);
        assertThat(new String((byte[]) ctl.get("./conffiles#content"), StandardCharsets.UTF_8)).isEqualTo("/etc/tool.conf\n");
        assertThat(new String((byte[]) ctl.get("./control#content"), StandardCharsets.UTF_8)).isEqualTo(r.control());
    }

    @Test
    void md5sumsListEveryRegularFileButTheConffilesSortedAsDhMd5sumsDoes() throws Exception {
        Path root = tree(tmp.resolve("tree"));
        Path deb = tmp.resolve("p.deb");
        var r = DebArchiveWriter.write(deb, spec(packageTree(root)), DebArchiveWriter.Options.defaults());
        String expected = md5(Files.readAllBytes(root.resolve(LONG_FILE))) + "  " + LONG_FILE;
        List<String> lines = List.of(r.md5sums().split("\n"));
        assertThat(lines).containsExactly(
                md5(new byte[1025]) + "  usr/bin/data",
                md5(new byte[0]) + "  usr/bin/empty",
                md5("#!/bin/sh\necho hi\n".getBytes(StandardCharsets.UTF_8)) + "  usr/bin/tool",
                expected);
        Map<String, Object> ctl = tarEntries(members(deb).get("control.tar.xz"));
        assertThat(new String((byte[]) ctl.get("./md5sums#content"), StandardCharsets.UTF_8)).isEqualTo(r.md5sums());
        // and every line matches the data member's content
        Map<String, Object> data = tarEntries(members(deb).get("data.tar.xz"));
        for (String line : lines) {
            String[] f = line.split("  ", 2);
            assertThat(md5((byte[]) data.get("./" + f[1] + "#content"))).as(f[1]).isEqualTo(f[0]);
        }
    }

    @Test
    void installedSizeFollowsDpkgGencontrolsRule() throws Exception {
        Path root = Files.createDirectories(tmp.resolve("t/usr/lib"));
        Files.write(root.resolve("one-byte"), new byte[1]);
        Files.write(root.resolve("exactly-1k"), new byte[1024]);
        Files.write(root.resolve("1k-and-1"), new byte[1025]);
        Files.write(root.resolve("empty"), new byte[0]);
        Files.createSymbolicLink(root.resolve("link"), Path.of("one-byte"));
        PackageTree t = PackageTree.builder().addTree("", tmp.resolve("t")).build();
        // directories: /, usr, usr/lib = 3; files: 1 + 1 + 2 + 0; the link (8 bytes of target): 1
        assertThat(t.installedSizeKiB()).isEqualTo(3 + 4 + 1);
        var r = DebArchiveWriter.write(tmp.resolve("s.deb"), new DebArchiveWriter.Spec(control("sizes"), Map.of(), List.of(), t),
                DebArchiveWriter.Options.defaults());
        assertThat(r.installedSizeKiB()).isEqualTo(8);
        assertThat(DebPackage.control(tmp.resolve("s.deb")).field("Installed-Size")).contains("8");
    }

    @Test
    void modesOwnersAndTimesAreNormalised() throws Exception {
        Path root = tree(tmp.resolve("tree"));
        Files.setLastModifiedTime(root.resolve("usr/bin/tool"), FileTime.fromMillis(4_000_000_000_000L));
        Path deb = tmp.resolve("p.deb");
        DebArchiveWriter.write(deb, spec(packageTree(root)), DebArchiveWriter.Options.defaults().withEpoch(1_600_000_000L));
        Map<String, Object> data = tarEntries(members(deb).get("data.tar.xz"));
        TarArchiveEntry tool = (TarArchiveEntry) data.get("./usr/bin/tool");
        TarArchiveEntry plain = (TarArchiveEntry) data.get("./usr/bin/data");
        TarArchiveEntry usr = (TarArchiveEntry) data.get("./usr/");
        TarArchiveEntry link = (TarArchiveEntry) data.get("./usr/bin/inner");
        assertThat(tool.getMode()).isEqualTo(0100755);
        assertThat(plain.getMode()).isEqualTo(0100644);
        assertThat(usr.getMode()).isEqualTo(040755);
        assertThat(link.isSymbolicLink()).isTrue();
        assertThat(link.getLinkName()).isEqualTo("tool");
        for (Object o : data.values()) {
            if (o instanceof TarArchiveEntry e) {
                assertThat(e.getLongUserId()).isZero();
                assertThat(e.getLongGroupId()).isZero();
                assertThat(e.getUserName()).isEqualTo("root");
                assertThat(e.getGroupName()).isEqualTo("root");
                assertThat(e.getModTime().getTime()).as(e.getName()).isEqualTo(1_600_000_000_000L);
            }
        }
        try (ArArchiveInputStream ar = new ArArchiveInputStream(Files.newInputStream(deb))) {
            ArArchiveEntry e;
            while ((e = ar.getNextEntry()) != null) {
                assertThat(e.getLastModified()).isEqualTo(1_600_000_000L);
                assertThat(e.getUserId()).isZero();
                assertThat(e.getMode()).isEqualTo(0100644);
            }
        }
    }

    @Test
    void twoBuildsAreByteIdenticalWhateverTheFileTimesAndThreadsAndTheEpochIsHonoured() throws Exception {
        Path root = tree(tmp.resolve("tree"));
        Path one = tmp.resolve("one.deb");
        DebArchiveWriter.write(one, spec(packageTree(root)), DebArchiveWriter.Options.defaults().withThreads(1));
        Files.setLastModifiedTime(root.resolve("usr/bin/tool"), FileTime.fromMillis(123_456_789L));
        Path two = tmp.resolve("two.deb");
        DebArchiveWriter.write(two, spec(packageTree(root)), DebArchiveWriter.Options.defaults().withThreads(4));
        assertThat(Files.readAllBytes(two)).isEqualTo(Files.readAllBytes(one));

        Path zOne = tmp.resolve("z1.deb");
        Path zTwo = tmp.resolve("z2.deb");
        var zstd = DebArchiveWriter.Options.defaults().withCompression(DebArchiveWriter.Compression.ZSTD);
        DebArchiveWriter.write(zOne, spec(packageTree(root)), zstd.withThreads(1));
        DebArchiveWriter.write(zTwo, spec(packageTree(root)), zstd.withThreads(3));
        assertThat(Files.readAllBytes(zTwo)).isEqualTo(Files.readAllBytes(zOne));
        assertThat(members(zOne).keySet()).containsExactly("debian-binary", "control.tar.zst", "data.tar.zst");
        assertThat(DebPackage.dataPaths(zOne)).isEqualTo(DebPackage.dataPaths(one));

        Path later = tmp.resolve("later.deb");
        DebArchiveWriter.write(later, spec(packageTree(root)), DebArchiveWriter.Options.defaults().withEpoch(1_750_000_000L));
        assertThat(Files.readAllBytes(later)).isNotEqualTo(Files.readAllBytes(one));
        TarArchiveEntry e = (TarArchiveEntry) tarEntries(members(later).get("data.tar.xz")).get("./usr/bin/tool");
        assertThat(e.getModTime().getTime()).isEqualTo(1_750_000_000_000L);
        assertThat(PackageFiles.epoch("1750000000")).isEqualTo(1_750_000_000L);
        assertThat(PackageFiles.epoch(null)).isEqualTo(PackageFiles.DEFAULT_EPOCH);
        assertThatThrownBy(() -> PackageFiles.epoch("yesterday")).isInstanceOf(FormatException.class)
                .hasMessageContaining("SOURCE_DATE_EPOCH");
    }

    @Test
    void aLinkPointingOutsideIsStoredAsALinkAndNeverFollowed() throws Exception {
        Path outside = Files.createDirectories(tmp.resolve("outside"));
        Files.writeString(outside.resolve("secret"), "TOP-SECRET-CONTENT");
        Path root = Files.createDirectories(tmp.resolve("tree/usr/share"));
        Files.createSymbolicLink(root.resolve("secret"), outside.resolve("secret"));
        Files.createSymbolicLink(root.resolve("dir"), outside);
        Files.createSymbolicLink(root.resolve("up"), Path.of("../../../outside/secret"));
        Path deb = tmp.resolve("h.deb");
        DebArchiveWriter.write(deb, new DebArchiveWriter.Spec(control("hostile"), Map.of(), List.of(),
                PackageTree.builder().addTree("", tmp.resolve("tree")).build()), DebArchiveWriter.Options.defaults());
        Map<String, Object> data = tarEntries(members(deb).get("data.tar.xz"));
        assertThat(((TarArchiveEntry) data.get("./usr/share/secret")).getLinkName()).isEqualTo(outside.resolve("secret").toString());
        assertThat(((TarArchiveEntry) data.get("./usr/share/dir")).isSymbolicLink()).isTrue();
        assertThat(((TarArchiveEntry) data.get("./usr/share/up")).getLinkName()).isEqualTo("../../../outside/secret");
        assertThat(data.keySet()).noneMatch(k -> k.startsWith("./usr/share/dir/"));
        assertThat(new String(members(deb).get("data.tar.xz"), StandardCharsets.ISO_8859_1)).doesNotContain("TOP-SECRET");
    }

    @Test
    void refusesSocketsAndALinkAsTheTreeAndLeavesTheOutputAsItWas() throws Exception {
        Path root = Files.createDirectories(tmp.resolve("tree"));
        Files.writeString(root.resolve("ok"), "ok");
        try (ServerSocketChannel s = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            s.bind(UnixDomainSocketAddress.of(root.resolve("sock")));
            assertThatThrownBy(() -> PackageTree.builder().addTree("", root))
                    .isInstanceOfSatisfying(FormatException.class, e -> {
                        assertThat(e.reason()).isEqualTo(FormatException.Reason.UNSUPPORTED);
                        assertThat(e.getMessage()).contains("sock").contains("neither a file");
                    });
        }
        Files.deleteIfExists(root.resolve("sock"));
        Path link = Files.createSymbolicLink(tmp.resolve("link-to-tree"), root);
        assertThatThrownBy(() -> PackageTree.builder().addTree("", link)).isInstanceOf(FormatException.class)
                .hasMessageContaining("not a directory");

        Path deb = tmp.resolve("out/p.deb");
        Files.createDirectories(deb.getParent());
        Files.writeString(deb, "previous");
        PackageTree t = PackageTree.builder().addTree("", root).build();
        Files.delete(root.resolve("ok"));
        assertThatThrownBy(() -> DebArchiveWriter.write(deb, new DebArchiveWriter.Spec(control("gone"), Map.of(), List.of(), t),
                DebArchiveWriter.Options.defaults())).isInstanceOf(FormatException.class)
                .hasMessageContaining("changed while it was packaged");
        assertThat(deb).hasContent("previous");
        assertThat(Files.list(deb.getParent()).toList()).containsExactly(deb);
    }

    @Test
    void aFileThatGrowsAfterTheTreeWasReadIsRefused() throws Exception {
        Path root = Files.createDirectories(tmp.resolve("tree"));
        Files.writeString(root.resolve("f"), "short");
        PackageTree t = PackageTree.builder().addTree("", root).build();
        Files.writeString(root.resolve("f"), "much longer now");
        assertThatThrownBy(() -> DebArchiveWriter.write(tmp.resolve("g.deb"),
                new DebArchiveWriter.Spec(control("grows"), Map.of(), List.of(), t), DebArchiveWriter.Options.defaults()))
                .isInstanceOfSatisfying(FormatException.class, e -> assertThat(e.getMessage()).contains("changed"));
        assertThat(tmp.resolve("g.deb")).doesNotExist();
    }

    @Test
    void refusesBadControlDataScriptsConffilesAndDuplicates() throws Exception {
        PackageTree t = PackageTree.builder().addFile("etc/a.conf", new byte[] {1}, false).build();
        Map<String, String> noDesc = control("x1");
        noDesc.remove("Description");
        Map<String, String> sized = control("x1");
        sized.put("Installed-Size", "3");
        Map<String, String> badName = control("Bad_Name");
        for (Map<String, String> c : List.of(noDesc, sized, badName)) {
            assertThatThrownBy(() -> DebArchiveWriter.write(tmp.resolve("x.deb"),
                    new DebArchiveWriter.Spec(c, Map.of(), List.of(), t), DebArchiveWriter.Options.defaults()))
                    .isInstanceOf(IllegalArgumentException.class);
        }
        assertThatThrownBy(() -> DebArchiveWriter.write(tmp.resolve("x.deb"), new DebArchiveWriter.Spec(control("x1"),
                Map.of("postinst", "no shebang".getBytes(StandardCharsets.UTF_8)), List.of(), t), DebArchiveWriter.Options.defaults()))
                .hasMessageContaining("#!");
        assertThatThrownBy(() -> DebArchiveWriter.write(tmp.resolve("x.deb"), new DebArchiveWriter.Spec(control("x1"),
                Map.of("config", "#!/bin/sh".getBytes(StandardCharsets.UTF_8)), List.of(), t), DebArchiveWriter.Options.defaults()))
                .hasMessageContaining("not a maintainer script");
        assertThatThrownBy(() -> DebArchiveWriter.write(tmp.resolve("x.deb"), new DebArchiveWriter.Spec(control("x1"),
                Map.of(), List.of("/etc/missing.conf"), t), DebArchiveWriter.Options.defaults()))
                .hasMessageContaining("not a regular file of the package");
        assertThat(tmp.resolve("x.deb")).doesNotExist();

        assertThatThrownBy(() -> PackageTree.builder().addFile("a/b", new byte[0], false).addSymlink("a/b", "c"))
                .isInstanceOf(FormatException.class).hasMessageContaining("twice");
        assertThatThrownBy(() -> PackageTree.builder().addFile("a", new byte[0], false).addFile("a/b", new byte[0], false).build())
                .isInstanceOf(FormatException.class).hasMessageContaining("would hold both a and a/b");
        assertThatThrownBy(() -> PackageTree.builder().addFile("a/../b", new byte[0], false))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> PackageTree.builder().addFile("a\nb", new byte[0], false))
                .isInstanceOf(FormatException.class).hasMessageContaining("control character");
    }

    @Test
    void entriesAreDepthFirstWithSortedSiblings() {
        PackageTree t = PackageTree.builder().addFile("a-b", new byte[0], false).addFile("a/c", new byte[0], false)
                .addFile("a/B", new byte[0], false).addFile("A", new byte[0], false).build();
        assertThat(t.entries().stream().map(PackageTree.Entry::path)).containsExactly("", "A", "a", "a/B", "a/c", "a-b");
    }

    @Test
    void theDataTarIsInGnuFormatWithoutPaxHeaders() throws Exception {
        Path root = tree(tmp.resolve("tree"));
        Path deb = tmp.resolve("p.deb");
        DebArchiveWriter.write(deb, spec(packageTree(root)), DebArchiveWriter.Options.defaults().withCompression(
                DebArchiveWriter.Compression.NONE));
        byte[] tar = members(deb).get("data.tar");
        assertThat(tar.length % 512).isZero();
        boolean longName = false;
        for (int off = 0; off + 512 <= tar.length; off += 512) {
            byte type = tar[off + 156];
            assertThat(type).as("pax headers are refused by dpkg").isNotIn((byte) 'x', (byte) 'g');
            if (type == 'L') {
                longName = true;
                assertThat(new String(tar, off, 13, StandardCharsets.US_ASCII)).isEqualTo("././@LongLink");
            }
            if (type == 'L' || type == '0' || type == '5' || type == '2') {
                long size = Long.parseLong(new String(tar, off + 124, 11, StandardCharsets.US_ASCII).trim(), 8);
                off += (int) ((size + 511) / 512 * 512);
            }
        }
        assertThat(longName).isTrue();
    }

    @Test
    void aDirectoryComesRightBeforeItsContents() {
        Map<String, String> sorted = new TreeMap<>(PackageTree::compare);
        sorted.put("usr/src/x-y", "");
        sorted.put("usr/src/x/z", "");
        sorted.put("usr/src/x", "");
        assertThat(sorted.keySet()).containsExactly("usr/src/x", "usr/src/x/z", "usr/src/x-y");
    }
}
