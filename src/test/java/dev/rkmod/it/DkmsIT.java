package dev.rkmod.it;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.rkmod.infra.cache.Cache;
import dev.rkmod.infra.host.Chroot;
import dev.rkmod.infra.host.Host;
import dev.rkmod.infra.host.OverlayRoot;
import dev.rkmod.infra.process.ProcessResult;
import dev.rkmod.model.FailureCatalogue;
import dev.rkmod.model.RootSpec;
import dev.rkmod.workflow.Context;
import dev.rkmod.workflow.toolchain.DebianRoots;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The real DKMS (bookworm's dkms 3.0.10) in a copy-on-write view of the cached package-tools root, never on the
 * host: a module made by 'rkmod new' and 'rkmod dkms init' is added, built and installed for the clang-built tiny
 * 6.1 kernel (its package linked as /lib/modules/RELEASE/build), loads in vmtest from where DKMS installed it, and
 * 'dkms remove' leaves nothing behind; a hidden rustc and headers without the Rust metadata fail 'dkms build' with
 * rkmod's explanation in make.log; a kernel upgrade (a second release of the same kernel, RELEASE-rkmod2) gets the
 * module through 'dkms autoinstall'. The view is thrown away afterwards; the cached root does not change.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class DkmsIT {
    static final String NAME = "hello_dkms";
    static final String VERSION = "0.1";
    static final String MV = NAME + "/" + VERSION;
    static final Duration TIMEOUT = Duration.ofMinutes(10);

    @ItSetup.Work("rkmod-dkms")
    static Path work;
    @ItSetup.Work("rkmod-dkms-view")
    static Path viewDir;

    static Context ctx;
    static Path kdir61;
    static Path pkg;
    static String release;
    static Path module;
    static OverlayRoot view;
    static Chroot chroot;
    static List<String> before;
    static long started;

    @BeforeAll
    static void setUp() throws Exception {
        started = System.nanoTime();
        Host host = Host.current();
        ctx = Context.create(host, new Cache(Cache.defaultRoot(host.env())), e -> { });
        Path root = new DebianRoots(ctx).ensure(RootSpec.PACKAGE_TOOLS);
        kdir61 = ItSetup.kernel("6.1");
        release = Files.readString(kdir61.resolve("include/config/kernel.release")).strip();
        pkg = ItSetup.pack(kdir61, work.resolve("linux-" + release + "-rust"));
        module = work.resolve(NAME);
        Rkmod.Result n = Rkmod.jar(Map.of(), "new", NAME, "--kdir", pkg.toString(), "--dir", module.toString());
        assertThat(n.exit()).as(n.err()).isZero();
        Rkmod.Result init = Rkmod.jar(Map.of(), "dkms", "init", module.toString(), "--version", VERSION);
        assertThat(init.exit()).as(init.err()).isZero();
        assertThat(init.out()).contains("dkms.conf", "rkmod-dkms-build", "rkmod-dkms.mk");

        view = OverlayRoot.mount(root, viewDir.resolve("view"), ctx.runner(), ctx.host());
        chroot = view.enter(List.of(work));
        // where a source package (or 'dkms add DIR') puts a DKMS module, and where a headers package links the headers
        ok("cp -r " + module + " /usr/src/" + NAME + "-" + VERSION
                + " && mkdir -p /lib/modules/" + release + " && ln -s " + pkg + " /lib/modules/" + release + "/build");
        before = files();
    }

    @AfterAll
    static void tearDown() {
        try {
            if (chroot != null) {
                chroot.close();
            }
        } finally {
            if (view != null) {
                view.close();
            }
            System.out.println("DkmsIT took " + Duration.ofNanos(System.nanoTime() - started).toSeconds() + " s");
        }
    }

    static ProcessResult sh(String script) {
        return ctx.runner().run(chroot.spec("/", List.of(), List.of("/bin/bash", "-c", script)).capture().quiet().noLog()
                .timeout(TIMEOUT).allowFailure());
    }

    static String ok(String script) {
        ProcessResult r = sh(script);
        assertThat(r.exitCode()).as(script + "\n" + r.text()).isZero();
        return r.text();
    }

    /** Every path of the view that differs from the root below (the overlay's upper layer), directories marked. */
    static List<String> files() throws IOException {
        Path upper = viewDir.resolve("view/upper");
        List<String> out = new ArrayList<>();
        try (Stream<Path> s = Files.walk(upper)) {
            for (Path p : s.sorted().toList()) {
                String rel = upper.relativize(p).toString();
                if (rel.isEmpty() || rel.equals("proc") || rel.startsWith("proc/") || rel.equals("root")
                        || rel.startsWith(work.toString().substring(1))) {
                    continue;
                }
                out.add(rel + (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS) ? "/" : ""));
            }
        }
        return out;
    }

    static String buildLog() throws IOException {
        Path log = view.root().resolve("var/lib/dkms/" + MV + "/build/make.log");
        return Files.exists(log) ? Files.readString(log) : "";
    }

    @Test
    @Order(1)
    void aMissingRustcFailsTheBuildWithTheVersionToInstallInMakeLog() throws Exception {
        ok("dkms add " + MV);
        ok("mv /usr/bin/rustc /usr/bin/rustc.hidden");
        try {
            ProcessResult b = sh("dkms build " + MV + " -k " + release);
            assertThat(b.exitCode()).as(b.text()).isNotZero();
            assertThat(b.text()).contains("Bad return status for module build on kernel: " + release);
            String log = buildLog();
            System.out.println("make.log of the build without rustc:\n" + log);
            assertThat(log).contains("rkmod-dkms-build: error: No rustc on this machine prints 'rustc 1.63.0'",
                    "Install rustc 1.63.0,").doesNotContain("error[E0");
            assertThat(FailureCatalogue.get().explain(log.lines().toList())).extracting(m -> m.entry().id())
                    .containsExactly("dkms.no-rustc");
        } finally {
            ok("mv /usr/bin/rustc.hidden /usr/bin/rustc");
        }
    }

    @Test
    @Order(2)
    void headersWithoutTheRustMetadataFailTheBuildWithRkmodsExplanation() throws Exception {
        // the package with the Rust set taken out, as a distribution's headers package ships it, for a second release
        String bare = release + "-norust";
        ok("mkdir -p /usr/src/linux-headers-" + bare + " /lib/modules/" + bare
                + " && cp -rs " + pkg + "/. /usr/src/linux-headers-" + bare
                + " && rm -f /usr/src/linux-headers-" + bare + "/rust/*.rmeta /usr/src/linux-headers-" + bare + "/rust/*.so"
                + " /usr/src/linux-headers-" + bare + "/rust/target.json /usr/src/linux-headers-" + bare + "/rust-toolchain"
                + " && ln -s /usr/src/linux-headers-" + bare + " /lib/modules/" + bare + "/build");
        try {
            ProcessResult b = sh("dkms build " + MV + " -k " + bare);
            assertThat(b.exitCode()).as(b.text()).isNotZero();
            String log = buildLog();
            System.out.println("make.log of the build against headers without the Rust set:\n" + log);
            assertThat(log).contains("lack the Rust metadata", "rust/libcore.rmeta",
                    "rkmod headers complete --kdir /lib/modules/" + bare + "/build", "linux-rust-meta-" + release)
                    .doesNotContain("error[E0463]");
            assertThat(FailureCatalogue.get().explain(log.lines().toList())).extracting(m -> m.entry().id())
                    .containsExactly("dkms.missing-rust-metadata");
            // rkmod dkms check predicts the same on the same headers (seen from the host through the view)
            Rkmod.Result check = Rkmod.jar(Map.of(), "dkms", "check", module.toString(), "--kdir",
                    view.root().resolve("usr/src/linux-headers-" + bare).toString(), "--json");
            assertThat(check.exit()).as(check.out()).isEqualTo(1);
            assertThat(JsonParser.parseString(check.out()).getAsJsonObject().get("decision").getAsString())
                    .isEqualTo("missing-rust-metadata");
        } finally {
            ok("rm -rf /usr/src/linux-headers-" + bare + " /lib/modules/" + bare + " /var/lib/dkms/" + MV + "/" + bare);
        }
    }

    @Test
    @Order(3)
    void addBuildInstallForTheClangBuiltKernelPassDkmssClangArgumentsAndLoadInTheVm() throws Exception {
        String build = ok("dkms build " + MV + " -k " + release);
        System.out.println(build);
        String log = Files.readString(view.root().resolve("var/lib/dkms/" + MV + "/" + release + "/x86_64/log/make.log"));
        System.out.println("make.log:\n" + log);
        // dkms 3.0.10 saw CONFIG_CC_IS_CLANG/CONFIG_LD_IS_LLD and appended CC=clang LD=ld.lld; they reached the kernel's
        // make once each, with its -j and KERNELRELEASE; the build step added RUSTC= and no LLVM=1
        String step = log.lines().filter(l -> l.startsWith("rkmod-dkms-build: make -C ")).findFirst().orElseThrow();
        assertThat(step).startsWith("rkmod-dkms-build: make -C /lib/modules/" + release + "/build M=/var/lib/dkms/" + MV
                + "/build RUSTC=/usr/bin/rustc, with DKMS's: ");
        List<String> passed = List.of(step.substring(step.indexOf("with DKMS's: ") + "with DKMS's: ".length()).split(" "));
        assertThat(passed).containsOnlyOnce("CC=clang", "LD=ld.lld", "KERNELRELEASE=" + release).noneMatch(a -> a.startsWith("LLVM="));
        assertThat(log).contains("rkmod-dkms-build: Linux " + release + " was built with 'rustc 1.63.0'");
        String comment = ok("readelf -p .comment /var/lib/dkms/" + MV + "/" + release + "/x86_64/module/" + NAME + ".ko");
        assertThat(comment).as("the C parts were compiled by clang").contains("clang version");

        String install = ok("dkms install " + MV + " -k " + release);
        System.out.println(install);
        Path ko = view.root().resolve("lib/modules/" + release + "/updates/dkms/" + NAME + ".ko");
        assertThat(ko).isRegularFile();
        assertThat(ok("modinfo -F vermagic /lib/modules/" + release + "/updates/dkms/" + NAME + ".ko").strip())
                .startsWith(release + " ");
        assertThat(ok("dkms status " + NAME)).contains(release).contains("installed");

        Rkmod.Result v = Rkmod.jar(Map.of(), "vmtest", ko.toString(), "--kdir", kdir61.toString(), "--json");
        assertThat(v.exit()).as(v.out() + v.err()).isZero();
        JsonObject verdict = JsonParser.parseString(v.out()).getAsJsonObject();
        assertThat(verdict.get("verdict").getAsString()).isEqualTo("pass");
        assertThat(verdict.getAsJsonArray("moduleLines").toString()).contains(NAME + ": Rust out-of-tree module (init)");
    }

    /**
     * A kernel upgrade: a second tiny 6.1 kernel built with the same rustc and released as RELEASE-rkmod2 (the 6.1
     * profile with CONFIG_LOCALVERSION="-rkmod2"; built once, a cache hit afterwards) has its package laid in as
     * /lib/modules/RELEASE-rkmod2/build, as its headers package would, and the hook its kernel package's postinst
     * runs (/etc/kernel/postinst.d/dkms, which runs 'dkms autoinstall --kernelver RELEASE-rkmod2') builds the
     * module for it, with the rustc the build step picks, and installs it beside the first kernel's; that very file
     * loads on the second kernel. Then 'dkms remove -k' takes that release away again and the first stays.
     */
    @Test
    @Order(4)
    void aKernelUpgradeGetsTheModuleBuiltForTheNewReleaseByDkmsAutoinstall() throws Exception {
        Path fragment = Path.of(System.getProperty("user.home"), ".cache", "rkmod-test", "dkms-upgrade", "rkmod2.config");
        Files.createDirectories(fragment.getParent());
        Files.writeString(fragment, "CONFIG_LOCALVERSION=\"-rkmod2\"\n");
        long t0 = System.nanoTime();
        Rkmod.Result k = Rkmod.jar(Map.of(), "kernel", "build", "--profile", "6.1", "--fragment", fragment.toString(), "--json", "-q");
        assertThat(k.exit()).as(k.err()).isZero();
        Path tree2 = Path.of(JsonParser.parseString(k.out()).getAsJsonObject().get("tree").getAsString());
        System.out.println("the -rkmod2 kernel took " + Duration.ofNanos(System.nanoTime() - t0).toSeconds() + " s (a cache hit after its first build)");
        String rel2 = Files.readString(tree2.resolve("include/config/kernel.release")).strip();
        assertThat(rel2).isEqualTo(release + "-rkmod2");
        assertThat(tree2.resolve(".config")).content().contains("CONFIG_RUSTC_VERSION_TEXT=\"rustc 1.63.0\"");
        Path pkg2 = ItSetup.pack(tree2, work.resolve("linux-" + rel2 + "-rust"));
        String mv2 = MV + "/" + rel2 + "/x86_64";
        assertThat(ok("dkms status " + NAME)).contains(MV + ", " + release + ", x86_64: installed").doesNotContain(rel2);
        try {
            ok("mkdir -p /lib/modules/" + rel2 + " && ln -s " + pkg2 + " /lib/modules/" + rel2 + "/build");
            String out = ok("/etc/kernel/postinst.d/dkms " + rel2);
            System.out.println(out);
            assertThat(out).contains("running auto installation service for kernel " + rel2, "Building module");

            String ko = "/lib/modules/" + rel2 + "/updates/dkms/" + NAME + ".ko";
            assertThat(view.root().resolve(ko.substring(1))).isRegularFile();
            assertThat(ok("modinfo -F vermagic " + ko).strip()).startsWith(rel2 + " ");
            assertThat(ok("dkms status " + NAME).lines().map(String::strip)).contains(
                    MV + ", " + release + ", x86_64: installed", MV + ", " + rel2 + ", x86_64: installed");
            // the first release's module is still its own
            assertThat(ok("modinfo -F vermagic /lib/modules/" + release + "/updates/dkms/" + NAME + ".ko").strip())
                    .startsWith(release + " ");

            String log = Files.readString(view.root().resolve("var/lib/dkms/" + mv2 + "/log/make.log"));
            System.out.println("make.log for " + rel2 + ":\n" + log);
            assertThat(log).contains("rkmod-dkms-build: Linux " + rel2 + " was built with 'rustc 1.63.0'");
            String step = log.lines().filter(l -> l.startsWith("rkmod-dkms-build: make -C ")).findFirst().orElseThrow();
            assertThat(step).startsWith("rkmod-dkms-build: make -C /lib/modules/" + rel2 + "/build M=/var/lib/dkms/" + MV
                    + "/build RUSTC=/usr/bin/rustc, with DKMS's: ");
            assertThat(List.of(step.substring(step.indexOf("with DKMS's: ") + "with DKMS's: ".length()).split(" ")))
                    .containsOnlyOnce("KERNELRELEASE=" + rel2);

            Rkmod.Result v = Rkmod.jar(Map.of(), "vmtest", view.root().resolve(ko.substring(1)).toString(),
                    "--kdir", tree2.toString(), "--json");
            assertThat(v.exit()).as(v.out() + v.err()).isZero();
            JsonObject verdict = JsonParser.parseString(v.out()).getAsJsonObject();
            assertThat(verdict.get("verdict").getAsString()).isEqualTo("pass");
            assertThat(verdict.getAsJsonArray("moduleLines").toString()).contains(NAME + ": Rust out-of-tree module (init)");
        } finally {
            System.out.println(sh("dkms remove " + MV + " -k " + rel2).text());
            ok("rm -rf /lib/modules/" + rel2);
        }
        assertThat(ok("dkms status " + NAME)).contains(MV + ", " + release + ", x86_64: installed").doesNotContain(rel2);
    }

    @Test
    @Order(9)
    void removeLeavesNothingBehind() throws Exception {
        System.out.println(ok("dkms remove " + MV + " --all"));
        assertThat(view.root().resolve("lib/modules/" + release + "/updates/dkms/" + NAME + ".ko")).doesNotExist();
        assertThat(view.root().resolve("var/lib/dkms/" + NAME)).doesNotExist();
        List<String> after = files();
        TreeSet<String> added = new TreeSet<>(after);
        added.removeAll(before);
        TreeSet<String> gone = new TreeSet<>(before);
        gone.removeAll(after);
        System.out.println("after dkms remove, new in the view: " + added + "; gone: " + gone);
        assertThat(gone).isEmpty();
        // not changes: directories the root has too (copied up when something was created in them and removed
        // again), and files equal to the root's (the rustc this test hid and put back)
        added.removeIf(p -> {
            Path lower = view.lower().resolve(p.endsWith("/") ? p.substring(0, p.length() - 1) : p);
            try {
                return p.endsWith("/") ? Files.isDirectory(lower, LinkOption.NOFOLLOW_LINKS)
                        : Files.isRegularFile(lower, LinkOption.NOFOLLOW_LINKS)
                        && Files.mismatch(lower, viewDir.resolve("view/upper").resolve(p)) == -1L;
            } catch (IOException e) {
                return false;
            }
        });
        // depmod's index of the kernel's modules, which dkms install and remove rebuild: it names no module of ours
        String depmod = "usr/lib/modules/" + release + "/modules.";
        for (String p : added) {
            if (p.startsWith(depmod) && !p.endsWith(".bin")) {
                assertThat(view.root().resolve(p)).content().doesNotContain(NAME);
            }
        }
        added.removeIf(p -> p.startsWith(depmod));
        assertThat(added).as("what dkms add/build/install/remove left in the view").isEmpty();
    }

    /**
     * The tiny 6.1 kernel has no CONFIG_MODULE_SIG, so DKMS does not sign for it. The MODULE_SIG_FORCE build of the
     * same kernel (ItSetup.sigForceKernel, shared with SignedVmIT: whichever runs first makes it) does: DKMS signs with its MOK key (here the kernel's own
     * signing key laid in as /var/lib/dkms/mok.key and mok.pub, standing in for a MOK the firmware would have
     * enrolled) and the kernel's scripts/sign-file; rkmod verify accepts the result, and the kernel, which refuses
     * unsigned modules, loads it. It is also DkmsIT's 'dkms autoinstall': the module is built for this second
     * kernel tree by the command a kernel upgrade runs.
     */
    @Test
    @Order(10)
    void dkmsSignsTheRustModuleWithItsMokKeyAndAModuleSigForceKernelLoadsIt() throws Exception {
        ItSetup.SigForce sf = ItSetup.sigForceKernel();
        Path keys = sf.keyPem().getParent();
        Path sigTree = sf.tree();
        Path sigPkg = ItSetup.pack(sigTree, work.resolve("linux-" + release + "-sigforce"));
        assertThat(sigPkg.resolve("scripts/sign-file")).isExecutable();
        Path dkmsDir = Files.createDirectories(view.root().resolve("var/lib/dkms"));
        Files.copy(keys.resolve("signing_key.pem"), dkmsDir.resolve("mok.key"));
        Files.setPosixFilePermissions(dkmsDir.resolve("mok.key"), java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
        String pem = Files.readString(keys.resolve("signing_key.x509.pem"));
        String b64 = pem.substring(pem.indexOf("-----BEGIN CERTIFICATE-----") + 27, pem.indexOf("-----END CERTIFICATE-----"));
        Files.write(dkmsDir.resolve("mok.pub"), java.util.Base64.getMimeDecoder().decode(b64));
        ok("rm /lib/modules/" + release + "/build && ln -s " + sigPkg + " /lib/modules/" + release + "/build");
        ok("dkms add " + MV);
        try {
            // the path a kernel package's postinst takes (/etc/kernel/postinst.d/dkms): a rebuilt kernel of the same
            // release, with another config and Module.symvers, gets the module built, signed and installed again
            String out = ok("dkms autoinstall -k " + release);
            assertThat(out).contains("Building module");
            System.out.println(out);
            assertThat(out).contains("Sign command: /lib/modules/" + release + "/build/scripts/sign-file",
                    "Signing key: /var/lib/dkms/mok.key", "Signing module");
            Path ko = view.root().resolve("lib/modules/" + release + "/updates/dkms/" + NAME + ".ko");
            Rkmod.Result verify = Rkmod.jar(Map.of(), "verify", ko.toString(), "--cert", dkmsDir.resolve("mok.pub").toString());
            assertThat(verify.exit()).as(verify.out() + verify.err()).isZero();
            assertThat(verify.out()).contains("valid");
            Rkmod.Result v = Rkmod.jar(Map.of(), "vmtest", ko.toString(), "--kdir", sigTree.toString(), "--json");
            assertThat(v.exit()).as(v.out() + v.err()).isZero();
            assertThat(JsonParser.parseString(v.out()).getAsJsonObject().getAsJsonArray("moduleLines").toString())
                    .contains(NAME + ": Rust out-of-tree module (init)");
        } finally {
            System.out.println(ok("dkms remove " + MV + " --all"));
        }
    }
}
