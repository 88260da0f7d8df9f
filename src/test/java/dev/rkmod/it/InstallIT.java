package dev.rkmod.it;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.rkmod.infra.cache.Cache;
import dev.rkmod.infra.fs.FileOps;
import dev.rkmod.infra.host.Chroot;
import dev.rkmod.infra.host.Host;
import dev.rkmod.infra.host.OverlayRoot;
import dev.rkmod.infra.process.ProcessResult;
import dev.rkmod.model.RootSpec;
import dev.rkmod.workflow.Context;
import dev.rkmod.workflow.toolchain.DebianRoots;
import com.google.gson.JsonElement;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static dev.rkmod.it.ItSetup.run;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * `rkmod install` / `uninstall` against host kmod's modprobe and depmod, with real modules: a Rust module built
 * against the 6.1 package, the 6.12 kernel's sample (a foreign vermagic), a C module calling a function the kernel
 * does not export (built with make M= against the package). And `rkmod kernel package`: the .deb installed by dpkg
 * in a view of the package-tools root boots under vmtest; the Arch package passes pacman -Qkk; two builds are
 * byte-identical.
 */
class InstallIT {
    static final String RELEASE = "6.1.192";
    static final Duration TIMEOUT = Duration.ofMinutes(5);
    @ItSetup.Work("rkmod-install")
    static Path work;
    static Path src61;
    static Path src612;
    static Path pkg61;
    static Path rustKo;
    static Path missingKo;
    static Path key;
    static Path cert;

    @BeforeAll
    static void setUp() throws Exception {
        src61 = ItSetup.kernel("6.1");
        src612 = ItSetup.kernel("6.12");
        pkg61 = ItSetup.pack(src61, work.resolve("pkg61"));
        Path dir = work.resolve("inst_demo");
        Rkmod.Result n = Rkmod.jar(Map.of(), "new", "inst_demo", "--kdir", pkg61.toString(), "--dir", dir.toString());
        assertThat(n.exit()).as(n.err()).isZero();
        Rkmod.Result b = Rkmod.jar(Map.of(), "build", dir.toString(), "--kdir", pkg61.toString());
        assertThat(b.exit()).as(b.out() + b.err()).isZero();
        rustKo = dir.resolve("inst_demo.ko");

        Path c = Files.createDirectories(work.resolve("missing_sym"));
        Files.writeString(c.resolve("missing_sym.c"), """
                #include <linux/module.h>
                #include <linux/init.h>
                extern void rkmod_it_not_exported(void);
                static int __init missing_init(void) { rkmod_it_not_exported(); return 0; }
                static void __exit missing_exit(void) { }
                module_init(missing_init);
                module_exit(missing_exit);
                MODULE_LICENSE("GPL");
                """);
        Files.writeString(c.resolve("Kbuild"), "obj-m := missing_sym.o\n");
        // modpost only warns about the undefined symbol, as for any external module
        run(List.of("make", "-C", pkg61.toString(), "M=" + c, "LLVM=1", "KBUILD_MODPOST_WARN=1", "modules"));
        missingKo = c.resolve("missing_sym.ko");

        key = work.resolve("key.pem");
        cert = work.resolve("cert.pem");
        run(List.of("openssl", "req", "-new", "-nodes", "-utf8", "-sha256", "-days", "36500", "-batch", "-x509",
                "-newkey", "rsa:2048", "-keyout", key.toString(), "-out", cert.toString(), "-subj", "/CN=rkmod install test/"));
        Files.setPosixFilePermissions(key, PosixFilePermissions.fromString("rw-------"));
    }

    /** Runs a program and returns its exit code and output, whatever the code. */
    static ProcessResultLite tryRun(List<String> argv) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(argv).redirectErrorStream(true);
        pb.environment().put("PATH", ItSetup.SYSTEM_PATH);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes());
        assertThat(p.waitFor(5, TimeUnit.MINUTES)).isTrue();
        return new ProcessResultLite(p.exitValue(), out);
    }

    record ProcessResultLite(int exit, String out) { }

    static ProcessResultLite showDepends(Path root, String name) throws Exception {
        return tryRun(List.of("modprobe", "--dirname", root.toString(), "-S", RELEASE, "--show-depends", name));
    }

    /** Every entry of a tree with its type and, for a file, its sha256 and mode. */
    static Map<String, String> snapshot(Path root) throws IOException {
        Map<String, String> out = new TreeMap<>();
        try (Stream<Path> s = Files.walk(root)) {
            for (Path p : s.toList()) {
                String rel = root.relativize(p).toString();
                if (Files.isSymbolicLink(p)) {
                    out.put(rel, "link " + Files.readSymbolicLink(p));
                } else if (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
                    out.put(rel, "dir");
                } else {
                    out.put(rel, FileOps.sha256(p) + " " + PosixFilePermissions.toString(Files.getPosixFilePermissions(p)));
                }
            }
        }
        return out;
    }

    static List<String> files(Path root) throws IOException {
        try (Stream<Path> s = Files.walk(root)) {
            return s.filter(Files::isRegularFile).map(Path::toString).toList();
        }
    }

    @Test
    void installPutsTheModuleWhereModprobeFindsItAndUninstallTakesItAway() throws Exception {
        Path root = Files.createDirectories(work.resolve("root-plain"));
        Rkmod.Result i = Rkmod.jar(Map.of(), "install", rustKo.toString(), "--root", root.toString(), "--kdir", pkg61.toString());
        assertThat(i.exit()).as(i.err()).isZero();
        Path installed = root.resolve("lib/modules/" + RELEASE + "/updates/inst_demo.ko");
        assertThat(i.out()).contains("installed " + installed + " (kernel " + RELEASE + ")").contains("modprobe inst_demo");
        assertThat(installed).hasSameBinaryContentAs(rustKo);
        ProcessResultLite found = showDepends(root, "inst_demo");
        assertThat(found.exit()).as(found.out()).isZero();
        assertThat(found.out().strip()).isEqualTo("insmod " + installed);

        Rkmod.Result u = Rkmod.jar(Map.of(), "uninstall", "inst-demo", "--root", root.toString());
        assertThat(u.exit()).as(u.err()).isZero();
        assertThat(u.out()).contains("removed " + installed);
        ProcessResultLite gone = showDepends(root, "inst_demo");
        assertThat(gone.exit()).isNotZero();
        assertThat(gone.out()).contains("Module inst_demo not found");
        assertThat(files(root)).as("no file is left behind").isEmpty();

        Rkmod.Result again = Rkmod.jar(Map.of(), "uninstall", "inst_demo", "--root", root.toString());
        assertThat(again.exit()).isEqualTo(2);
        assertThat(again.err()).contains("No module 'inst_demo' is installed in " + root).doesNotContain("\tat ");
    }

    @Test
    void signedInstallIsAcceptedByVerifyAndJsonNamesTheHash() throws Exception {
        Path root = Files.createDirectories(work.resolve("root-signed"));
        Rkmod.Result i = Rkmod.jar(Map.of(), "install", rustKo.toString(), "--root", root.toString(), "--kdir", pkg61.toString(),
                "--sign", "--key", key.toString(), "--cert", cert.toString(), "--dir", "extra", "--json");
        assertThat(i.exit()).as(i.out() + i.err()).isZero();
        JsonObject o = JsonParser.parseString(i.out()).getAsJsonObject();
        JsonObject m = o.getAsJsonArray("installed").get(0).getAsJsonObject();
        Path installed = root.resolve("lib/modules/" + RELEASE + "/extra/inst_demo.ko");
        assertThat(m.get("name").getAsString()).isEqualTo("inst_demo");
        assertThat(m.get("file").getAsString()).isEqualTo(installed.toString());
        assertThat(m.get("signedWith").getAsString()).as("sign-file's default: the tree has no CONFIG_MODULE_SIG_HASH")
                .isEqualTo("sha256");
        assertThat(i.out() + i.err()).doesNotContain("PRIVATE KEY");
        Rkmod.Result v = Rkmod.jar(Map.of(), "verify", installed.toString(), "--cert", cert.toString());
        assertThat(v.exit()).as(v.out()).isZero();
        assertThat(v.out()).startsWith("valid");
        assertThat(Rkmod.jar(Map.of(), "verify", rustKo.toString(), "--cert", cert.toString()).exit())
                .as("the module given is not changed; only the installed copy is signed").isEqualTo(1);
        assertThat(showDepends(root, "inst_demo").out().strip()).isEqualTo("insmod " + installed);

        Rkmod.Result half = Rkmod.jar(Map.of(), "install", rustKo.toString(), "--root", root.toString(), "--sign",
                "--key", key.toString());
        assertThat(half.exit()).isEqualTo(2);
        assertThat(half.err()).contains("--sign needs --key and --cert");
    }

    @Test
    void badInputsGetOneParagraphEachAndLeaveTheRootAsItWas() throws Exception {
        Path root = Files.createDirectories(work.resolve("root-bad"));
        assertThat(Rkmod.jar(Map.of(), "install", rustKo.toString(), "--root", root.toString()).exit()).isZero();
        Map<String, String> before = snapshot(root);
        assertThat(before).containsKey("lib/modules/" + RELEASE + "/modules.dep");

        Rkmod.Result foreign = Rkmod.jar(Map.of(), "install", src612.resolve("samples/rust/rust_minimal.ko").toString(),
                "--root", root.toString(), "--kdir", pkg61.toString());
        assertThat(foreign.exit()).isEqualTo(1);
        assertThat(foreign.err()).contains("it was built for kernel 6.12.117, not for " + RELEASE)
                .contains("Invalid module format").contains("Nothing was installed");
        assertThat(snapshot(root)).isEqualTo(before);

        Rkmod.Result missing = Rkmod.jar(Map.of(), "install", missingKo.toString(), "--root", root.toString(), "--kdir",
                pkg61.toString());
        assertThat(missing.exit()).isEqualTo(1);
        assertThat(missing.err()).contains("undefined symbol rkmod_it_not_exported is exported neither by the kernel")
                .contains("Unknown symbol");
        assertThat(snapshot(root)).isEqualTo(before);

        // a good module with a bad one: neither is installed
        Path good = work.resolve("good_copy.ko");
        Files.copy(rustKo, good);
        Rkmod.Result mixed = Rkmod.jar(Map.of(), "install", good.toString(), missingKo.toString(), "--root", root.toString(),
                "--kdir", pkg61.toString());
        assertThat(mixed.exit()).isEqualTo(1);
        assertThat(snapshot(root)).isEqualTo(before);

        Path text = work.resolve("notes.txt");
        Files.writeString(text, "not a module\n");
        Path fake = work.resolve("fake.ko");
        Files.writeString(fake, "not a module either\n");
        for (Path p : List.of(text, fake)) {
            Rkmod.Result r = Rkmod.jar(Map.of(), "install", p.toString(), "--root", root.toString());
            assertThat(r.exit()).as(p.toString()).isEqualTo(2);
            assertThat(r.err()).contains("Cannot install " + p + ": it is not a kernel module").doesNotContain("\tat ");
            assertThat(r.err().strip().lines().count()).as("one paragraph").isEqualTo(1);
        }
        assertThat(snapshot(root)).isEqualTo(before);

        // a read-only bind mount of the root: as root, permissions alone would not stop a write
        Path ro = Files.createDirectories(work.resolve("root-ro"));
        run(List.of("mount", "--bind", root.toString(), ro.toString()));
        try {
            run(List.of("mount", "-o", "remount,ro,bind", ro.toString()));
            Rkmod.Result r = Rkmod.jar(Map.of(), "install", good.toString(), "--root", ro.toString());
            assertThat(r.exit()).isEqualTo(3);
            assertThat(r.err()).contains("Cannot write to " + ro.resolve("lib/modules/" + RELEASE + "/updates"))
                    .contains("read-only").contains("Nothing was installed or removed");
            Rkmod.Result u = Rkmod.jar(Map.of(), "uninstall", "inst_demo", "--root", ro.toString());
            assertThat(u.exit()).isEqualTo(3);
            assertThat(showDepends(ro, "inst_demo").exit()).as("still installed").isZero();
        } finally {
            run(List.of("umount", ro.toString()));
        }
        assertThat(snapshot(root)).isEqualTo(before);
    }

    /** The package-tools root (cached bookworm with dpkg, pacman) and a context to run in its views. */
    static Context ctx() {
        Host host = Host.current();
        return Context.create(host, new Cache(Cache.defaultRoot(host.env())), e -> { });
    }

    static Path kernelPackage(Path out, String format) throws Exception {
        Rkmod.Result r = Rkmod.jar(Map.of(), "kernel", "package", "--kdir", src61.toString(), "--out", out.toString(),
                "--format", format, "--json");
        assertThat(r.exit()).as(r.out() + r.err()).isZero();
        return Path.of(JsonParser.parseString(r.out()).getAsJsonObject().get("file").getAsString());
    }

    @Test
    void theKernelDebInstallsWithDpkgAndItsImageBootsUnderVmtest() throws Exception {
        Path deb = kernelPackage(work.resolve("kdeb1"), "deb");
        Path deb2 = kernelPackage(work.resolve("kdeb2"), "deb");
        assertThat(deb.getFileName().toString()).isEqualTo("linux-image-" + RELEASE + "_" + RELEASE + "-1_amd64.deb");
        assertThat(deb2).as("two builds are byte-identical").hasSameBinaryContentAs(deb);

        Context ctx = ctx();
        Path tools = new DebianRoots(ctx).ensure(RootSpec.PACKAGE_TOOLS);
        Path image = work.resolve("vmlinuz-from-the-deb");
        Path debs = deb.getParent();
        try (OverlayRoot view = OverlayRoot.mount(tools, work.resolve("view-deb"), ctx.runner(), ctx.host());
             Chroot c = view.enter(List.of(debs))) {
            ProcessResult i = ctx.runner().run(c.spec("/", List.of(), List.of("dpkg", "-i", deb.toString()))
                    .capture().quiet().noLog().timeout(TIMEOUT));
            assertThat(i.text()).contains("Setting up linux-image-" + RELEASE);
            Path vmlinuz = view.root().resolve("boot/vmlinuz-" + RELEASE);
            assertThat(vmlinuz).hasSameBinaryContentAs(src61.resolve("arch/x86/boot/bzImage"));
            assertThat(view.root().resolve("boot/System.map-" + RELEASE)).hasSameBinaryContentAs(src61.resolve("System.map"));
            List<String> listed = ctx.runner().run(c.spec("/", List.of(), List.of("dpkg", "-L", "linux-image-" + RELEASE))
                    .capture().quiet().noLog().timeout(TIMEOUT)).output();
            assertThat(listed).contains("/boot/config-" + RELEASE,
                    "/lib/modules/" + RELEASE + "/kernel/samples/rust/rust_minimal.ko", "/lib/modules/" + RELEASE + "/modules.dep");
            String deps = ctx.runner().run(c.spec("/", List.of(), List.of("modprobe", "-S", RELEASE, "--show-depends",
                    "rust_minimal")).capture().quiet().noLog().timeout(TIMEOUT)).text();
            assertThat(deps.strip()).isEqualTo("insmod /lib/modules/" + RELEASE + "/kernel/samples/rust/rust_minimal.ko");
            Files.copy(vmlinuz, image);
            ctx.runner().run(c.spec("/", List.of(), List.of("dpkg", "--purge", "linux-image-" + RELEASE))
                    .capture().quiet().noLog().timeout(TIMEOUT));
            assertThat(view.root().resolve("boot/vmlinuz-" + RELEASE)).doesNotExist();
            assertThat(view.root().resolve("lib/modules/" + RELEASE)).doesNotExist();
        }
        Rkmod.Result v = Rkmod.jar(Map.of(), "vmtest", rustKo.toString(), "--kernel", image.toString(), "--json");
        JsonObject o = JsonParser.parseString(v.out()).getAsJsonObject();
        assertThat(o.get("verdict").getAsString()).as(v.out() + v.err()).isEqualTo("pass");
        assertThat(v.exit()).isZero();
    }

    @Test
    void pacmanInstallsTheArchKernelPackageAndFindsEveryFileIntact() throws Exception {
        Path pkg = kernelPackage(work.resolve("karch1"), "arch");
        Path pkg2 = kernelPackage(work.resolve("karch2"), "arch");
        assertThat(pkg.getFileName().toString()).isEqualTo("linux-rust-" + RELEASE + "-1-x86_64.pkg.tar.zst");
        assertThat(pkg2).as("two builds are byte-identical").hasSameBinaryContentAs(pkg);

        Context ctx = ctx();
        Path tools = new DebianRoots(ctx).ensure(RootSpec.PACKAGE_TOOLS);
        Path pkgs = pkg.getParent();
        Path conf = pkgs.resolve("pacman.conf");
        Files.writeString(conf, "[options]\nArchitecture = auto\nSigLevel = Never\nLocalFileSigLevel = Never\n");
        String r = "/tmp/archroot";
        List<String> where = List.of("--root", r, "--dbpath", r + "/var/lib/pacman", "--config", conf.toString(),
                "--cachedir", r + "/var/cache/pacman/pkg", "--logfile", r + "/var/log/pacman.log", "--noconfirm");
        try (OverlayRoot view = OverlayRoot.mount(tools, work.resolve("view-arch"), ctx.runner(), ctx.host());
             Chroot c = view.enter(List.of(pkgs))) {
            Files.createDirectories(view.root().resolve("tmp/archroot/var/lib/pacman"));
            List<String> install = new ArrayList<>(List.of("pacman", "-U", "-dd", "--noscriptlet"));
            install.addAll(where);
            install.add(pkg.toString());
            ctx.runner().run(c.spec("/", List.of(), install).capture().quiet().noLog().timeout(TIMEOUT));
            assertThat(view.root().resolve("tmp/archroot/usr/lib/modules/" + RELEASE + "/vmlinuz"))
                    .hasSameBinaryContentAs(src61.resolve("arch/x86/boot/bzImage"));
            List<String> check = new ArrayList<>(List.of("pacman", "-Qkk"));
            check.addAll(where);
            check.add("linux-rust");
            ProcessResult q = ctx.runner().run(c.spec("/", List.of(), check).capture().quiet().noLog().timeout(TIMEOUT)
                    .allowFailure());
            assertThat(q.ok()).as(q.text()).isTrue();
            assertThat(q.text()).contains("linux-rust: ").contains(" 0 altered files").doesNotContain("warning");
        }
    }

    @Test
    void aKernelThatSignsItsModulesOnInstallGetsSignedModulesInItsPackage() throws Exception {
        // the MODULE_SIG_FORCE kernel SignedVmIT builds; never built here (a kernel build takes minutes)
        Rkmod.Result list = Rkmod.jar(Map.of(), "kernel", "list", "--json");
        Path tree = null;
        for (JsonElement e : JsonParser.parseString(list.out()).getAsJsonObject().getAsJsonArray("kernels")) {
            Path t = Path.of(e.getAsJsonObject().get("tree").getAsString());
            if (Files.readString(t.resolve(".config")).contains("CONFIG_MODULE_SIG_ALL=y")
                    && Files.isRegularFile(t.resolve("certs/signing_key.x509"))) {
                tree = t;
            }
        }
        Assumptions.assumeTrue(tree != null, "no cached kernel with CONFIG_MODULE_SIG_ALL (SignedVmIT builds one)");
        Rkmod.Result r = Rkmod.jar(Map.of(), "kernel", "package", "--kdir", tree.toString(), "--out",
                work.resolve("ksig").toString(), "--format", "deb", "--json");
        assertThat(r.exit()).as(r.err()).isZero();
        Path deb = Path.of(JsonParser.parseString(r.out()).getAsJsonObject().get("file").getAsString());
        Path x = work.resolve("ksig-x");
        run(List.of("dpkg-deb", "-x", deb.toString(), x.toString()));
        Path ko = x.resolve("lib/modules/" + RELEASE + "/kernel/samples/rust/rust_minimal.ko");
        Rkmod.Result v = Rkmod.jar(Map.of(), "verify", ko.toString(), "--cert", tree.resolve("certs/signing_key.x509").toString());
        assertThat(v.exit()).as(v.out()).isZero();
        assertThat(tree.resolve("samples/rust/rust_minimal.ko")).as("the tree's module is left unsigned")
                .satisfies(p -> assertThat(Files.size(p)).isLessThan(Files.size(ko)));
        try (Stream<Path> s = Files.walk(x)) {
            for (Path p : s.filter(Files::isRegularFile).toList()) {
                assertThat(Files.readString(p, java.nio.charset.StandardCharsets.ISO_8859_1)).as(p.toString())
                        .doesNotContain("PRIVATE KEY");
            }
        }
    }
}
