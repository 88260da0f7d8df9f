package dev.rkmod.cli;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.rkmod.infra.fs.FileOps;
import dev.rkmod.infra.host.Host;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * `rkmod install` / `uninstall` in-process on gcc-made module objects (a .modinfo with name and vermagic) and the
 * host's depmod; a failing depmod (a script first on PATH) must leave the root exactly as it was.
 */
class InstallCommandTest {
    static final String RELEASE = "6.1.0-rkmod-test";
    @TempDir
    Path fs;
    Path root;
    Path ko;
    Map<String, String> env;

    @BeforeEach
    void setUp() throws Exception {
        env = new HashMap<>(System.getenv());
        env.put("XDG_CACHE_HOME", fs.resolve("cache").toString());
        root = Files.createDirectories(fs.resolve("root"));
        ko = module("fake-mod", "fake_mod", RELEASE + " SMP mod_unload ");
    }

    private Path module(String file, String name, String vermagic) throws Exception {
        Path c = fs.resolve(file + ".c");
        Files.writeString(c, "__attribute__((section(\".modinfo\"), used)) static const char a[] = \"license=GPL\";\n"
                + "__attribute__((section(\".modinfo\"), used)) static const char b[] = \"name=" + name + "\";\n"
                + "__attribute__((section(\".modinfo\"), used)) static const char d[] = \"vermagic=" + vermagic + "\";\n"
                + "int f(void) { return 1; }\n");
        Path o = fs.resolve(file + ".ko");
        Process p = new ProcessBuilder("gcc", "-c", c.toString(), "-o", o.toString()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertThat(p.waitFor(5, TimeUnit.MINUTES)).isTrue();
        assertThat(p.exitValue()).as(out).isZero();
        return o;
    }

    private CliRun run(String... args) {
        return CliRun.run(new Host(fs, 0, env), args);
    }

    private static Map<String, String> snapshot(Path root) throws IOException {
        Map<String, String> out = new TreeMap<>();
        try (Stream<Path> s = Files.walk(root)) {
            for (Path p : s.toList()) {
                out.put(root.relativize(p).toString(), Files.isSymbolicLink(p) ? "link " + Files.readSymbolicLink(p)
                        : Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS) ? "dir" : FileOps.sha256(p));
            }
        }
        return out;
    }

    @Test
    void installsRunsDepmodPrintsTheModprobeNameAndUninstallRemovesEverything() throws Exception {
        CliRun i = run("install", ko.toString(), "--root", root.toString());
        assertThat(i.exit()).as(i.err()).isZero();
        Path target = root.resolve("lib/modules/" + RELEASE + "/updates/fake-mod.ko");
        assertThat(i.out()).contains("installed " + target + " (kernel " + RELEASE + ")", "modprobe fake_mod",
                "not checked against a kernel tree");
        assertThat(target).hasSameBinaryContentAs(ko);
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(target))).isEqualTo("rw-r--r--");
        assertThat(root.resolve("lib/modules/" + RELEASE + "/modules.dep")).content()
                .contains("updates/fake-mod.ko:");

        CliRun u = run("uninstall", "fake-mod", "--root", root.toString(), "--json");
        assertThat(u.exit()).as(u.err()).isZero();
        JsonObject o = JsonParser.parseString(u.out()).getAsJsonObject();
        assertThat(o.getAsJsonArray("removed").get(0).getAsJsonObject().get("release").getAsString()).isEqualTo(RELEASE);
        try (Stream<Path> s = Files.walk(root)) {
            assertThat(s.filter(Files::isRegularFile).toList()).isEmpty();
        }
    }

    @Test
    void aFailingDepmodPutsTheRootBackAsItWas() throws Exception {
        // a second module stays in the release, so uninstall must run depmod
        Path keep = module("keep_mod", "keep_mod", RELEASE + " SMP mod_unload ");
        assertThat(run("install", ko.toString(), keep.toString(), "--root", root.toString()).exit()).isZero();
        Map<String, String> before = snapshot(root);
        Path bin = Files.createDirectories(fs.resolve("bin"));
        Path depmod = bin.resolve("depmod");
        Files.writeString(depmod, "#!/bin/sh\necho 'depmod: ERROR: simulated failure' >&2\n: > \"$2/lib/modules/$3/modules.dep\"\nexit 1\n");
        Files.setPosixFilePermissions(depmod, PosixFilePermissions.fromString("rwxr-xr-x"));
        env.put("PATH", bin + ":" + env.getOrDefault("PATH", "/usr/bin:/bin"));

        Path other = module("other_mod", "other_mod", RELEASE + " SMP mod_unload ");
        Path otherRelease = module("third_mod", "third_mod", "6.9.9-other SMP mod_unload ");
        CliRun i = run("install", other.toString(), otherRelease.toString(), "--root", root.toString());
        assertThat(i.exit()).as(i.out() + i.err()).isEqualTo(3);
        assertThat(i.err()).contains("failed (exit 1)").contains("simulated failure").contains("The root was put back as it was");
        assertThat(snapshot(root)).isEqualTo(before);

        CliRun u = run("uninstall", "fake_mod", "--root", root.toString());
        assertThat(u.exit()).as(u.out() + u.err()).isEqualTo(3);
        assertThat(u.err()).contains("simulated failure");
        assertThat(snapshot(root)).as("the removed file is back, and depmod's index").isEqualTo(before);
    }

    @Test
    void refusalsAreOneParagraphWithTheirExitCodes() throws Exception {
        assertThat(run("install", ko.toString(), "--root", root.toString()).exit()).isZero();
        Map<String, String> before = snapshot(root);
        Path text = fs.resolve("readme.txt");
        Files.writeString(text, "text\n");
        Path fake = fs.resolve("fake.ko");
        Files.writeString(fake, "text\n");
        Path noModinfo = fs.resolve("plain.ko");
        Path c = fs.resolve("plain.c");
        Files.writeString(c, "int g(void) { return 2; }\n");
        Process p = new ProcessBuilder("gcc", "-c", c.toString(), "-o", noModinfo.toString()).start();
        assertThat(p.waitFor(5, TimeUnit.MINUTES)).isTrue();
        for (Path bad : List.of(text, fake, noModinfo, fs.resolve("missing.ko"))) {
            CliRun r = run("install", bad.toString(), "--root", root.toString());
            assertThat(r.exit()).as(bad.toString()).isEqualTo(2);
            assertThat(r.err()).startsWith("rkmod: error: Cannot install " + bad).doesNotContain("\tat ");
            assertThat(r.err().strip().lines().count()).isEqualTo(1);
        }
        assertThat(run("install", noModinfo.toString(), "--root", root.toString()).err()).contains("no .modinfo section");
        assertThat(snapshot(root)).isEqualTo(before);

        CliRun half = run("install", ko.toString(), "--root", root.toString(), "--key", "k.pem");
        assertThat(half.exit()).isEqualTo(2);
        assertThat(half.err()).contains("--sign needs --key and --cert");

        CliRun unknown = run("uninstall", "nope", "--root", root.toString());
        assertThat(unknown.exit()).isEqualTo(2);
        assertThat(unknown.err()).contains("No module 'nope' is installed in " + root);

        Path other = module("fake-mod-2", "fake_mod", "6.9.9-other SMP mod_unload ");
        Files.createDirectories(fs.resolve("again"));
        Files.move(other, fs.resolve("again/fake-mod.ko"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        assertThat(run("install", fs.resolve("again/fake-mod.ko").toString(), "--root", root.toString()).exit()).isZero();
        CliRun ambiguous = run("uninstall", "fake_mod", "--root", root.toString());
        assertThat(ambiguous.exit()).isEqualTo(2);
        assertThat(ambiguous.err()).contains("installed for several kernels: 6.1.0-rkmod-test, 6.9.9-other")
                .contains("--release");
        assertThat(run("uninstall", "fake_mod", "--root", root.toString(), "--release", "6.9.9-other").exit()).isZero();
        assertThat(snapshot(root)).isEqualTo(before);
    }

    @Test
    void withoutKdirTheRootsInstalledHeadersAreTheTreeChecked() throws Exception {
        // distro headers in the root, linked as Debian links them: absolute, inside the root
        Path headers = Files.createDirectories(root.resolve("usr/src/linux-headers-" + RELEASE + "/include/config"));
        Files.writeString(headers.resolve("kernel.release"), RELEASE + "\n");
        Path hdir = headers.getParent().getParent();
        Files.writeString(hdir.resolve(".config"), "CONFIG_MODULES=y\nCONFIG_SMP=y\nCONFIG_MODULE_UNLOAD=y\n");
        Files.writeString(hdir.resolve("Module.symvers"), "0x00000000\tprintk\tvmlinux\tEXPORT_SYMBOL\t\n");
        Path modules = Files.createDirectories(root.resolve("lib/modules/" + RELEASE));
        Files.createSymbolicLink(modules.resolve("build"), Path.of("/usr/src/linux-headers-" + RELEASE));
        Map<String, String> before = snapshot(root);

        Path c = fs.resolve("calls.c");
        Files.writeString(c, "__attribute__((section(\".modinfo\"), used)) static const char b[] = \"name=calls\";\n"
                + "__attribute__((section(\".modinfo\"), used)) static const char d[] = \"vermagic=" + RELEASE + " SMP mod_unload \";\n"
                + "extern void not_exported_here(void);\nvoid f(void) { not_exported_here(); }\n");
        Path calls = fs.resolve("calls.ko");
        Process p = new ProcessBuilder("gcc", "-c", c.toString(), "-o", calls.toString()).start();
        assertThat(p.waitFor(5, TimeUnit.MINUTES)).isTrue();
        CliRun r = run("install", calls.toString(), "--root", root.toString());
        assertThat(r.exit()).as(r.out() + r.err()).isEqualTo(1);
        assertThat(r.err()).contains("does not fit the kernel in " + hdir).contains("undefined symbol not_exported_here");
        assertThat(snapshot(root)).isEqualTo(before);

        CliRun ok = run("install", ko.toString(), "--root", root.toString(), "--json");
        assertThat(ok.exit()).as(ok.err()).isZero();
        assertThat(JsonParser.parseString(ok.out()).getAsJsonObject().get("checkedAgainst").getAsString()).isEqualTo(hdir.toString());
    }
}
