package dev.rkmod.it;

import com.github.luben.zstd.ZstdOutputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.archivers.tar.TarConstants;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static dev.rkmod.it.ItSetup.run;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The catalogue of bad inputs ({@code src/test/resources/bad-inputs/catalogue.tsv}): every case runs the real
 * launcher on inputs made here by real tools (the cached 6.1 kernel's modules, a C module built with its make,
 * openssl keys, GNU tar and hand-made hostile archives, tmpfs mounts that are read-only or full) and asserts what a
 * user sees: the documented exit code, the message's words, one paragraph and no stack trace, and nothing
 * half-written: the case's directory holds exactly what it held before (but for the outputs the case allows), no
 * temporary file anywhere in it, and nothing extracted outside a destination.
 */
class BadInputsIT {
    static final Path CATALOGUE = Rkmod.repo().resolve("src/test/resources/bad-inputs/catalogue.tsv");
    static final Pattern PLACEHOLDER = Pattern.compile("\\{([^{}]+)}");
    /** Root without these capabilities meets file permissions as any user does. */
    static final List<String> NO_DAC = List.of("setpriv", "--bounding-set=-dac_override,-dac_read_search,-fowner");

    @ItSetup.Work("rkmod-bad-inputs")
    static Path work;
    static Path shared;
    static Path kdir61;
    static final List<Path> MOUNTS = new ArrayList<>();

    /** One line of the catalogue. */
    record Case(String id, int exit, List<String> words, List<String> changes, List<String> modes, List<String> argv) {
        String command() {
            return List.of("kernel", "headers", "dkms", "cache").contains(argv.get(0)) ? argv.get(0) + " " + argv.get(1) : argv.get(0);
        }
    }

    interface Maker {
        String make(Path caseDir) throws Exception;
    }

    /** Each placeholder: what it makes in the case's directory (or names, for shared read-only inputs). */
    static final Map<String, Maker> FIXTURES = new HashMap<>();

    static {
        FIXTURES.put("dir", d -> d.toString());
        FIXTURES.put("kdir61", d -> kdir61.toString());
        FIXTURES.put("mixed-pkg", d -> shared.resolve("mixed-pkg").toString());
        for (String f : List.of("good.ko", "good2.ko", "trunc.ko", "trunc.ko.xz", "bomb.ko.zst", "arm64.ko", "c.ko", "pe.efi",
                "signed.ko", "é.ko", "with space.ko", "key", "key-000", "key-644", "cert", "cert-000", "cert-other",
                "nul.config", "arm64.config", "crlf.config", "hardlink-out.tar", "dotdot.tar", "dynamic-prog", "arm64-prog",
                "python.sh", "crlf.sh", "prog.sh-000", "dep_user.ko", "bzImage")) {
            FIXTURES.put(f, d -> copy(f, d));
        }
        FIXTURES.put("symlink-out.tar", d -> tar(d, "symlink-out.tar", false, out -> {
            link(out, "escape", d.resolve("outside").toString());
            file(out, "escape/written-outside", "x");
        }));
        for (String c : List.of("dotdot", "absolute", "symlink-out", "write-through", "hardlink-out", "device", "huge", "bomb")) {
            FIXTURES.put(c + ".tar.zst", d -> hostileZst(c, d));
        }
        FIXTURES.put("project", d -> project(d.resolve("project")).toString());
        FIXTURES.put("spaced project", d -> project(d.resolve("spaced project")).toString());
        FIXTURES.put("nonempty", d -> {
            Files.createDirectories(d.resolve("nonempty"));
            Files.writeString(d.resolve("nonempty/notes.txt"), "not a module\n");
            return d.resolve("nonempty").toString();
        });
        // a module directory whose rkmod.toml runs a script the VM cannot run
        FIXTURES.put("tomlmod.ko", d -> {
            Path m = Files.createDirectories(d.resolve("tomlmod/tests"));
            Files.copy(shared.resolve("python.sh"), m.resolve("check.py"));
            Files.writeString(m.getParent().resolve("rkmod.toml"), "name = \"rust_minimal\"\n[vmtest]\nrun = [\"tests/check.py\"]\n");
            return Files.copy(shared.resolve("good.ko"), m.getParent().resolve("rust_minimal.ko")).toString();
        });
        FIXTURES.put("locked", d -> {
            Path p = Files.createDirectories(d.resolve("locked"));
            Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("r-xr-xr-x"));
            return p.toString();
        });
        FIXTURES.put("ro", d -> mount(d.resolve("ro"), "size=64k,ro", false).toString());
        FIXTURES.put("full", d -> mount(d.resolve("full"), "size=1m", true).toString());
        FIXTURES.put("nonutf8dir", d -> {
            run(List.of("bash", "-c", "cp \"$1\" \"$2/$(printf 'bad\\377').ko\"", "bash", shared.resolve("good.ko").toString(),
                    d.toString()));
            return d.toString();
        });
    }

    @BeforeAll
    static void setUp() throws Exception {
        shared = Files.createDirectories(work.resolve("shared"));
        kdir61 = ItSetup.kernel("6.1");
        Path good = kdir61.resolve("samples/rust/rust_minimal.ko");
        byte[] ko = Files.readAllBytes(good);
        Files.write(shared.resolve("good.ko"), ko);
        Files.write(shared.resolve("good2.ko"), ko);
        Files.write(shared.resolve("é.ko"), ko);
        Files.write(shared.resolve("with space.ko"), ko);
        Files.write(shared.resolve("trunc.ko"), Arrays.copyOf(ko, 3000));
        byte[] arm64 = ko.clone();
        arm64[18] = (byte) 183; // e_machine EM_AARCH64, little-endian
        arm64[19] = 0;
        Files.write(shared.resolve("arm64.ko"), arm64);
        run(List.of("bash", "-c", "cd \"$1\" && xz -c good.ko | head -c 2000 > trunc.ko.xz"
                + " && head -c 600M /dev/zero | zstd -q -1 -c > bomb.ko.zst", "bash", shared.toString()));
        // a PE file with no x86 boot header: what a bzImage is not
        byte[] pe = new byte[4096];
        pe[0] = 'M';
        pe[1] = 'Z';
        pe[0x3c] = (byte) 0x80;
        System.arraycopy("PE\0\0".getBytes(StandardCharsets.ISO_8859_1), 0, pe, 0x80, 4);
        pe[0x84] = 0x64;
        pe[0x85] = (byte) 0x86;
        Files.write(shared.resolve("pe.efi"), pe);
        programs();
        long t0 = System.nanoTime();
        keys();
        configs();
        long t1 = System.nanoTime();
        cModule();
        long t2 = System.nanoTime();
        tar(shared, "dotdot.tar", false, out -> file(out, "linux/../../escaped-dotdot", "x"));
        tar(shared, "hardlink-out.tar", false, out -> hardlink(out, "passwd", "/etc/passwd"));
        // a package whose libkernel.rmeta claims another compiler than the other crates
        Path mixed = ItSetup.pack(kdir61, shared.resolve("mixed-pkg"));
        Path rmeta = mixed.resolve("rust/libkernel.rmeta");
        byte[] r = Files.readAllBytes(rmeta);
        String text = new String(r, StandardCharsets.ISO_8859_1);
        int at = text.indexOf("rustc 1.63.0");
        assertThat(at).as("rustc version in the rmeta header").isGreaterThanOrEqualTo(0);
        r[at + "rustc 1.6".length()] = '4';
        Files.delete(rmeta);
        Files.write(rmeta, r);
        System.out.printf("BadInputsIT setup: keys %d ms, C module %d ms, mixed package %d ms%n", (t1 - t0) / 1_000_000,
                (t2 - t1) / 1_000_000, (System.nanoTime() - t2) / 1_000_000);
    }

    @AfterAll
    static void unmountAll() throws Exception {
        for (Path m : MOUNTS) {
            unmount(m);
        }
    }

    static void keys() throws Exception {
        Path key = shared.resolve("key");
        Path cert = shared.resolve("cert");
        run(List.of("openssl", "req", "-new", "-nodes", "-batch", "-x509", "-newkey", "rsa:2048", "-keyout", key.toString(),
                "-out", cert.toString(), "-subj", "/CN=rkmod bad inputs/"));
        run(List.of("openssl", "req", "-new", "-nodes", "-batch", "-x509", "-newkey", "rsa:2048", "-keyout",
                shared.resolve("key-other").toString(), "-out", shared.resolve("cert-other").toString(), "-subj", "/CN=another/"));
        Files.setPosixFilePermissions(key, PosixFilePermissions.fromString("rw-------"));
        Files.copy(key, shared.resolve("key-000"));
        Files.copy(key, shared.resolve("key-644"));
        Files.copy(cert, shared.resolve("cert-000"));
        Files.setPosixFilePermissions(shared.resolve("key-644"), PosixFilePermissions.fromString("rw-r--r--"));
        Files.write(shared.resolve("signed.ko"), Files.readAllBytes(shared.resolve("good.ko")));
        Rkmod.Result s = Rkmod.jar(Map.of(), "sign", shared.resolve("signed.ko").toString(), "--key", key.toString(),
                "--cert", cert.toString());
        assertThat(s.exit()).as(s.err()).isZero();
    }

    /** Programs for vmtest --run that the VM cannot run: linked by gcc here, or scripts for what busybox lacks. */
    static void programs() throws Exception {
        Path c = Files.writeString(shared.resolve("prog.c"), "int main(void) { return 0; }\n");
        run(List.of("gcc", "-o", shared.resolve("dynamic-prog").toString(), c.toString()));
        run(List.of("gcc", "-static", "-o", shared.resolve("arm64-prog").toString(), c.toString()));
        byte[] arm = Files.readAllBytes(shared.resolve("arm64-prog"));
        arm[18] = (byte) 183; // e_machine EM_AARCH64
        arm[19] = 0;
        Files.write(shared.resolve("arm64-prog"), arm);
        Files.writeString(shared.resolve("python.sh"), "#!/usr/bin/python3\nprint(open('/proc/modules').read())\n");
        Files.writeString(shared.resolve("crlf.sh"), "#!/bin/sh\r\ncat /proc/modules\r\n");
        Files.writeString(shared.resolve("prog.sh-000"), "#!/bin/sh\ncat /proc/modules\n");
    }

    static void configs() throws Exception {
        Files.writeString(shared.resolve("crlf.config"), "CONFIG_RUST=y\r\nCONFIG_MODULES=y\r\nCONFIG_PRINTK=y\r\n");
        Files.write(shared.resolve("nul.config"), "CONFIG_RUST=y\nCONFIG_\0MODULES=y\n".getBytes(StandardCharsets.ISO_8859_1));
        Files.writeString(shared.resolve("arm64.config"),
                "#\n# Automatically generated file; DO NOT EDIT.\n# Linux/arm64 6.1.0 Kernel Configuration\n#\nCONFIG_ARM64=y\nCONFIG_RUST=y\n");
    }

    /** A C module built by the 6.1 tree's own make: a .ko with no Rust in it. */
    static void cModule() throws Exception {
        Path dir = Files.createDirectories(shared.resolve("cmod"));
        Files.writeString(dir.resolve("Kbuild"), "obj-m := c_demo.o\n");
        Files.writeString(dir.resolve("c_demo.c"), """
                #include <linux/module.h>
                static int __init c_demo_init(void) { pr_info("c_demo: hello\\n"); return 0; }
                static void __exit c_demo_exit(void) { }
                module_init(c_demo_init);
                module_exit(c_demo_exit);
                MODULE_LICENSE("GPL");
                """);
        run(List.of("make", "-s", "-C", kdir61.toString(), "M=" + dir, "LLVM=1", "modules"));
        Files.copy(dir.resolve("c_demo.ko"), shared.resolve("c.ko"));
        // a module that depends on another out-of-tree one (modpost writes depends=dep_provider): alone, its dependency
        // is in none of the kernel's own modules
        Path deps = Files.createDirectories(shared.resolve("depmods"));
        Files.writeString(deps.resolve("Kbuild"), "obj-m := dep_provider.o dep_user.o\n");
        Files.writeString(deps.resolve("dep_provider.c"), """
                #include <linux/module.h>
                int dep_provider_value(void) { return 42; }
                EXPORT_SYMBOL_GPL(dep_provider_value);
                MODULE_LICENSE("GPL");
                """);
        Files.writeString(deps.resolve("dep_user.c"), """
                #include <linux/module.h>
                int dep_provider_value(void);
                static int __init dep_user_init(void) { pr_info("dep_user: %d\\n", dep_provider_value()); return 0; }
                static void __exit dep_user_exit(void) { }
                module_init(dep_user_init);
                module_exit(dep_user_exit);
                MODULE_LICENSE("GPL");
                """);
        run(List.of("make", "-s", "-C", kdir61.toString(), "M=" + deps, "LLVM=1", "modules"));
        Files.copy(deps.resolve("dep_user.ko"), shared.resolve("dep_user.ko"));
        Files.copy(kdir61.resolve("arch/x86/boot/bzImage"), shared.resolve("bzImage"));
    }

    static String copy(String name, Path caseDir) throws IOException {
        Path to = caseDir.resolve(name);
        Files.copy(shared.resolve(name), to, java.nio.file.LinkOption.NOFOLLOW_LINKS);
        Files.setPosixFilePermissions(to, Files.getPosixFilePermissions(shared.resolve(name)));
        if (name.endsWith("-000")) {
            Files.setPosixFilePermissions(to, PosixFilePermissions.fromString("---------"));
        }
        return to.toString();
    }

    static Path project(Path dir) throws IOException {
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("Kbuild"), "obj-m := bad_demo.o\n");
        Files.writeString(dir.resolve("Makefile"), "KDIR ?= /lib/modules/$(shell uname -r)/build\n"
                + "modules:\n\t$(MAKE) -C $(KDIR) M=$(CURDIR) modules\n");
        Files.writeString(dir.resolve("bad_demo.rs"), "// never compiled: every case stops before make\n");
        return dir;
    }

    interface Entries {
        void write(TarArchiveOutputStream out) throws IOException;
    }

    static String tar(Path dir, String name, boolean zstd, Entries entries) throws IOException {
        Path file = dir.resolve(name);
        try (OutputStream raw = Files.newOutputStream(file);
             OutputStream os = zstd ? new ZstdOutputStream(raw, 1) : raw;
             TarArchiveOutputStream out = new TarArchiveOutputStream(os)) {
            out.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
            entries.write(out);
            out.finish();
        }
        return file.toString();
    }

    static void file(TarArchiveOutputStream out, String name, String content) throws IOException {
        byte[] b = content.getBytes(StandardCharsets.UTF_8);
        TarArchiveEntry e = new TarArchiveEntry(name, true);
        e.setSize(b.length);
        out.putArchiveEntry(e);
        out.write(b);
        out.closeArchiveEntry();
    }

    static void dir(TarArchiveOutputStream out, String name) throws IOException {
        out.putArchiveEntry(new TarArchiveEntry(name + "/", true));
        out.closeArchiveEntry();
    }

    static void link(TarArchiveOutputStream out, String name, String target) throws IOException {
        TarArchiveEntry e = new TarArchiveEntry(name, TarConstants.LF_SYMLINK, true);
        e.setLinkName(target);
        out.putArchiveEntry(e);
        out.closeArchiveEntry();
    }

    static void hardlink(TarArchiveOutputStream out, String name, String target) throws IOException {
        TarArchiveEntry e = new TarArchiveEntry(name, TarConstants.LF_LINK, true);
        e.setLinkName(target);
        out.putArchiveEntry(e);
        out.closeArchiveEntry();
    }

    /** The hostile package archives for rkmod's own extractor (matrix --kernel PKG.tar.zst). */
    static String hostileZst(String kind, Path d) throws IOException {
        String name = kind + ".tar.zst";
        String outside = d.resolve("outside").toString();
        switch (kind) {
            case "dotdot" -> tar(d, name, true, out -> file(out, "linux/../../../../../../../escaped-dotdot", "x"));
            case "absolute" -> tar(d, name, true, out -> file(out, outside + "-absolute", "x"));
            case "symlink-out" -> tar(d, name, true, out -> {
                link(out, "escape", outside);
                file(out, "escape/written-outside", "x");
            });
            case "write-through" -> tar(d, name, true, out -> {
                dir(out, "sub");
                link(out, "inner", "sub");
                file(out, "inner/through", "x");
            });
            case "hardlink-out" -> tar(d, name, true, out -> hardlink(out, "passwd", "/etc/passwd"));
            case "device" -> tar(d, name, true, out -> {
                TarArchiveEntry e = new TarArchiveEntry("null", TarConstants.LF_CHR, true);
                e.setDevMajor(1);
                e.setDevMinor(3);
                out.putArchiveEntry(e);
                out.closeArchiveEntry();
            });
            case "huge" -> {
                // a header that claims a 10 GiB file (GNU base-256 size), followed by one block of data
                TarArchiveEntry e = new TarArchiveEntry("sparse-10g.img", true);
                e.setSize(10L << 30);
                byte[] header = new byte[512];
                e.writeEntryHeader(header, org.apache.commons.compress.archivers.zip.ZipEncodingHelper.getZipEncoding("UTF-8"), true);
                try (OutputStream os = new ZstdOutputStream(Files.newOutputStream(d.resolve(name)), 1)) {
                    os.write(header);
                    os.write(new byte[512 * 3]);
                }
            }
            case "bomb" -> {
                // 256 MiB of zeros in a few KiB: the extractor must stop long before the disk is full
                TarArchiveEntry e = new TarArchiveEntry("zeros.bin", true);
                long size = 256L << 20;
                e.setSize(size);
                try (OutputStream os = new ZstdOutputStream(Files.newOutputStream(d.resolve(name)), 3);
                     TarArchiveOutputStream out = new TarArchiveOutputStream(os)) {
                    out.putArchiveEntry(e);
                    byte[] zeros = new byte[1 << 20];
                    for (long w = 0; w < size; w += zeros.length) {
                        out.write(zeros);
                    }
                    out.closeArchiveEntry();
                    out.finish();
                }
            }
            default -> throw new IllegalArgumentException(kind);
        }
        return d.resolve(name).toString();
    }

    static Path mount(Path dir, String options, boolean fill) throws Exception {
        Files.createDirectories(dir);
        run(List.of("mount", "-t", "tmpfs", "-o", options, "tmpfs", dir.toString()));
        MOUNTS.add(dir);
        if (fill) {
            run(List.of("sh", "-c", "dd if=/dev/zero of=\"$1/filler\" bs=4k 2>/dev/null; true", "sh", dir.toString()));
        }
        return dir;
    }

    static void unmount(Path dir) throws Exception {
        ProcessBuilder pb = new ProcessBuilder("sh", "-c", "mountpoint -q \"$1\" && umount \"$1\" || true", "sh", dir.toString());
        pb.redirectErrorStream(true).start().waitFor();
    }

    static List<Case> catalogue() throws IOException {
        List<Case> out = new ArrayList<>();
        for (String line : Files.readAllLines(CATALOGUE, StandardCharsets.UTF_8)) {
            if (line.isBlank() || line.startsWith("#")) {
                continue;
            }
            String[] c = line.split("\t");
            assertThat(c).as("six tab-separated columns: " + line).hasSize(6);
            out.add(new Case(c[0], Integer.parseInt(c[1]), List.of(c[2].split(";")), c[3].equals("-") ? List.of() : List.of(c[3].split(",")),
                    c[4].equals("-") ? List.of() : List.of(c[4].split(",")), tokens(c[5])));
        }
        return out;
    }

    /** The command's arguments: split at spaces, but not inside a {placeholder} (whose name may hold one). */
    static List<String> tokens(String line) {
        List<String> out = new ArrayList<>();
        StringBuilder cur = new StringBuilder();
        int depth = 0;
        for (char ch : line.toCharArray()) {
            depth += ch == '{' ? 1 : ch == '}' ? -1 : 0;
            if (ch == ' ' && depth == 0) {
                if (cur.length() > 0) {
                    out.add(cur.toString());
                }
                cur.setLength(0);
            } else {
                cur.append(ch);
            }
        }
        if (cur.length() > 0) {
            out.add(cur.toString());
        }
        return out;
    }

    @TestFactory
    Stream<DynamicTest> everyCase() throws IOException {
        List<Case> cases = catalogue();
        assertThat(cases.stream().map(Case::id).distinct().count()).as("unique ids").isEqualTo(cases.size());
        assertThat(cases).as("at least 40 cases").hasSizeGreaterThanOrEqualTo(40);
        Map<String, Integer> perCommand = new TreeMap<>();
        cases.forEach(c -> perCommand.merge(c.argv().get(0), 1, Integer::sum));
        System.out.println("BadInputsIT: " + cases.size() + " cases " + perCommand);
        // -Drkmod.badInputs.only=REGEX runs the matching cases only (while working on one)
        Pattern only = Pattern.compile(System.getProperty("rkmod.badInputs.only", ".*"));
        return cases.stream().filter(c -> only.matcher(c.id()).matches()).map(c -> DynamicTest.dynamicTest(c.id(), () -> runCase(c)));
    }

    static void runCase(Case c) throws Exception {
        Path dir = Files.createDirectories(work.resolve("cases").resolve(c.id()));
        Map<String, String> made = new LinkedHashMap<>();
        List<String> argv = new ArrayList<>();
        try {
            for (String token : c.argv()) {
                argv.add(substitute(token, dir, made));
            }
            List<String> words = new ArrayList<>();
            for (String w : c.words()) {
                words.add(substitute(w, dir, made));
            }
            Map<String, String> before = snapshot(dir);
            Rkmod.Result r = launch(c, dir, argv);
            String all = r.out() + "\n" + r.err();
            String shown = "rkmod " + String.join(" ", argv) + "\nexit " + r.exit() + "\n--- stdout\n" + r.out() + "--- stderr\n" + r.err();

            assertThat(r.exit()).as("exit code of\n" + shown).isEqualTo(c.exit());
            for (String w : words) {
                assertThat(all.toLowerCase(Locale.ROOT)).as("'" + w + "' in\n" + shown).contains(w.toLowerCase(Locale.ROOT));
            }
            assertThat(all).as("no stack trace or Java exception name in\n" + shown)
                    .doesNotContain("\tat ").doesNotContain("Exception").doesNotContain("Caused by").doesNotContain("Internal error");
            onParagraphEach(r.err(), shown);
            if (c.exit() >= 2) {
                assertThat(r.err().isBlank() && r.out().isBlank()).as("an error message in\n" + shown).isFalse();
            }

            Map<String, String> after = snapshot(dir);
            Map<String, String> changed = new TreeMap<>();
            for (String p : union(before.keySet(), after.keySet())) {
                if (!String.valueOf(before.get(p)).equals(String.valueOf(after.get(p))) && !allowed(c, p)) {
                    changed.put(p, before.get(p) + " -> " + after.get(p));
                }
            }
            assertThat(changed).as("nothing created or changed but " + c.changes() + "\n" + shown).isEmpty();
            assertThat(leftovers(dir)).as("temporary files or extracted content left behind\n" + shown).isEmpty();
        } finally {
            for (Path m : List.copyOf(MOUNTS)) {
                if (m.startsWith(dir)) {
                    unmount(m);
                    MOUNTS.remove(m);
                }
            }
        }
    }

    static String substitute(String token, Path dir, Map<String, String> made) throws Exception {
        Matcher m = PLACEHOLDER.matcher(token);
        StringBuilder sb = new StringBuilder();
        while (m.find()) {
            String name = m.group(1);
            String value = made.get(name);
            if (value == null) {
                Maker maker = FIXTURES.get(name);
                assertThat(maker).as("a fixture maker for {" + name + "}").isNotNull();
                value = maker.make(dir);
                made.put(name, value);
            }
            m.appendReplacement(sb, Matcher.quoteReplacement(value));
        }
        m.appendTail(sb);
        return sb.toString();
    }

    static Rkmod.Result launch(Case c, Path dir, List<String> args) throws Exception {
        List<String> argv = new ArrayList<>();
        Map<String, String> env = new HashMap<>();
        if (c.modes().contains("nodac")) {
            argv.addAll(NO_DAC);
        }
        if (c.modes().contains("nonutf8")) {
            // Java cannot pass bytes that are not UTF-8; bash puts them in
            argv.addAll(List.of("bash", "-c", "n=$(printf 'bad\\377'); exec \"${@//@NONUTF8@/$n}\"", "bash"));
        }
        argv.addAll(List.of("bash", Rkmod.repo().resolve("rkmod").toString()));
        argv.addAll(args);
        if (!c.modes().contains("shared-cache")) {
            env.put("XDG_CACHE_HOME", dir.resolve("cache").toString());
        }
        if (c.modes().contains("lc-c")) {
            env.put("LC_ALL", "C");
            env.put("LANG", "C");
        }
        return Rkmod.exec(argv, env, 600);
    }

    /** Each 'rkmod: error:' message runs to the next one (a batch names each bad file) and has no blank line. */
    static void onParagraphEach(String err, String shown) {
        for (String part : err.split("(?m)^(?=rkmod: error: )")) {
            if (part.startsWith("rkmod: error: ")) {
                assertThat(part.strip()).as("one paragraph in\n" + shown).doesNotContain("\n\n");
            }
        }
    }

    /** Every path under {@code dir} (the scratch cache aside) with its type, and size and time for files. */
    static Map<String, String> snapshot(Path dir) throws Exception {
        Process p = new ProcessBuilder("find", dir.toString(), "-mindepth", "1", "-path", dir.resolve("cache").toString(),
                "-prune", "-o", "-printf", "%P\\t%y\\t%s %T@ %m\\n").redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        p.waitFor();
        Map<String, String> map = new TreeMap<>();
        for (String line : out.split("\n")) {
            String[] f = line.split("\t");
            if (f.length == 3 && !f[0].equals("cache")) {
                map.put(f[0], f[1].equals("d") ? "dir" : f[1] + " " + f[2]); // a directory's time changes with a removed temp file
            }
        }
        return map;
    }

    static boolean allowed(Case c, String path) {
        return c.changes().stream().anyMatch(a -> path.equals(a) || path.startsWith(a + "/"));
    }

    /** Temporary files anywhere in the case (scratch cache included), and package archives extracted and left. */
    static List<String> leftovers(Path dir) throws Exception {
        Process p = new ProcessBuilder("find", dir.toString(), "-mindepth", "1", "(", "-name", "*.tmp", "-o", "-name", "*rkmod-tmp*",
                "-o", "-name", ".rkmod-probe*", "-o", "-path", "*/cache/rkmod/tmp/*", "-o", "-path", "*/cache/rkmod/matrix/*/kdir/*", ")",
                "-print").redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        p.waitFor();
        return out.lines().filter(l -> !l.isBlank()).toList();
    }

    static <T> List<T> union(java.util.Set<T> a, java.util.Set<T> b) {
        java.util.Set<T> all = new java.util.LinkedHashSet<>(a);
        all.addAll(b);
        return new ArrayList<>(all);
    }
}
