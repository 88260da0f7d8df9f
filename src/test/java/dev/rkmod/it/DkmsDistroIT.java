package dev.rkmod.it;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.rkmod.infra.cache.Cache;
import dev.rkmod.infra.host.Chroot;
import dev.rkmod.infra.host.Host;
import dev.rkmod.infra.host.OverlayRoot;
import dev.rkmod.infra.process.ProcessResult;
import dev.rkmod.model.FailureCatalogue;
import dev.rkmod.workflow.Context;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Debian sid's real dkms (3.2.x, apt-get installed into a copy-on-write view of the cached sid root; the root and
 * its spec are unchanged) with Debian's own GCC-built kernel: the distro headers as installed fail 'dkms build' with
 * rkmod's explanation; with the completed Rust set laid in, 'dkms autoinstall -k' (what a kernel package's
 * postinst runs) builds with gcc and no LLVM=1, DKMS signs with its own MOK key and the kernel's sign-file,
 * 'rkmod verify' accepts the signature and the module loads on Debian's own vmlinuz. The clang-built tiny 6.1
 * kernel is the second release in the root: autoinstall for it gets DKMS's LLVM=1 and stops with the rustc to install.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class DkmsDistroIT {
    static final String NAME = "hello_sid";
    static final String VERSION = "0.1";
    static final String MV = NAME + "/" + VERSION;
    static final Duration TIMEOUT = Duration.ofMinutes(15);

    @ItSetup.Work("rkmod-dkms-sid")
    static Path work;
    @ItSetup.Work("rkmod-dkms-sid-view")
    static Path viewDir;

    static Context ctx;
    static String release;
    static String release61;
    static Path completed;
    static Path pkg61;
    static Path module;
    static OverlayRoot view;
    static Chroot chroot;
    static long started;

    @BeforeAll
    static void setUp() throws Exception {
        started = System.nanoTime();
        Host host = Host.current();
        ctx = Context.create(host, new Cache(Cache.defaultRoot(host.env())), e -> { });
        Rkmod.Result deps = Rkmod.jar(Map.of(), "deps", "--profile", "debian-sid", "--json");
        JsonObject p = JsonParser.parseString(deps.out()).getAsJsonObject().getAsJsonArray("profiles").get(0).getAsJsonObject();
        Assumptions.assumeTrue(p.has("root") && p.get("root").isJsonObject()
                && Files.isDirectory(Path.of(p.getAsJsonObject("root").get("path").getAsString())), "the sid root is cached");
        Path root = Path.of(p.getAsJsonObject("root").get("path").getAsString());
        try (Stream<Path> s = Files.list(root.resolve("usr/lib/modules"))) {
            release = s.map(x -> x.getFileName().toString()).filter(n -> n.endsWith("-amd64")).findFirst().orElseThrow();
        }
        // the completed Rust set is cached (kind headers-package): this is a copy of it
        completed = work.resolve("linux-" + release + "-rust");
        Rkmod.Result c = Rkmod.jar(Map.of(), "headers", "complete", "--distro", "debian-sid:" + release, "--out",
                completed.toString(), "--json");
        assertThat(c.exit()).as(c.err()).isZero();
        Path kdir61 = ItSetup.kernel("6.1");
        release61 = Files.readString(kdir61.resolve("include/config/kernel.release")).strip();
        pkg61 = ItSetup.pack(kdir61, work.resolve("linux-" + release61 + "-rust"));
        module = work.resolve(NAME);
        Rkmod.Result n = Rkmod.jar(Map.of(), "new", NAME, "--kdir", completed.toString(), "--dir", module.toString());
        assertThat(n.exit()).as(n.err()).isZero();
        assertThat(Rkmod.jar(Map.of(), "dkms", "init", module.toString(), "--version", VERSION).exit()).isZero();

        view = OverlayRoot.mount(root, viewDir.resolve("view"), ctx.runner(), ctx.host());
        chroot = view.enter(List.of(work));
        long t = System.nanoTime();
        // the machine clock may be past the archive Release file's Valid-Until; the packages are still checked by signature
        ok("apt-get -o Acquire::Check-Valid-Until=false update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq"
                + " --no-install-recommends dkms openssl");
        System.out.println("apt-get install dkms in the sid view: " + Duration.ofNanos(System.nanoTime() - t).toSeconds()
                + " s; " + ok("dpkg-query -W dkms").strip());
        ok("cp -r " + module + " /usr/src/" + NAME + "-" + VERSION + " && dkms add " + MV);
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
            System.out.println("DkmsDistroIT took " + Duration.ofNanos(System.nanoTime() - started).toSeconds() + " s");
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

    static String read(String pathInView) throws Exception {
        Path f = view.root().resolve(pathInView.substring(1));
        return Files.exists(f) ? Files.readString(f) : "";
    }

    @Test
    @Order(1)
    void debiansHeadersAsInstalledFailTheBuildWithRkmodsExplanation() throws Exception {
        ProcessResult b = sh("dkms build " + MV + " -k " + release);
        System.out.println(b.text());
        assertThat(b.exitCode()).isNotZero();
        assertThat(b.text()).contains("Bad return status for module build on kernel: " + release);
        String log = read("/var/lib/dkms/" + MV + "/build/make.log");
        System.out.println("make.log against Debian's headers as installed:\n" + log);
        assertThat(log).contains("rkmod-dkms-build: error: The headers of Linux " + release, "lack the Rust metadata",
                "rkmod headers complete --kdir /lib/modules/" + release + "/build", "linux-rust-meta-" + release)
                .doesNotContain("error[E0463]");
        assertThat(FailureCatalogue.get().explain(log.lines().toList())).extracting(m -> m.entry().id())
                .containsExactly("dkms.missing-rust-metadata");
    }

    @Test
    @Order(2)
    void theClangBuiltSecondKernelGetsDkmssLlvmAndTheRustcToInstall() throws Exception {
        ok("mkdir -p /lib/modules/" + release61 + " && ln -s " + pkg61 + " /lib/modules/" + release61 + "/build");
        ProcessResult a = sh("dkms autoinstall --verbose -k " + release61);
        System.out.println(a.text());
        assertThat(a.exitCode()).isNotZero();
        assertThat(a.text()).contains("LLVM=1");
        String log = read("/var/lib/dkms/" + MV + "/build/make.log");
        System.out.println("make.log of autoinstall for " + release61 + ":\n" + log);
        // dkms 3.2 logs its command in make.log: LLVM=1 for the clang-built kernel, appended by DKMS, not by rkmod
        assertThat(log).contains("# command: make -j", "KERNELRELEASE=" + release61 + " -f rkmod-dkms.mk RKMOD_KDIR=/lib/modules/"
                + release61 + "/build LLVM=1\n");
        assertThat(log).contains("No rustc on this machine prints 'rustc 1.63.0'", "Install rustc 1.63.0,");
        ok("rm -rf /lib/modules/" + release61);
    }

    @Test
    @Order(3)
    void withTheRustSetAutoinstallBuildsWithGccSignsAndTheModuleLoadsOnDebiansKernel() throws Exception {
        ok("rm /lib/modules/" + release + "/build && ln -s " + completed + " /lib/modules/" + release + "/build");
        ProcessResult a = sh("dkms autoinstall -k " + release);
        System.out.println(a.text());
        String log = read("/var/lib/dkms/" + MV + "/" + release + "/x86_64/log/make.log");
        System.out.println("make.log:\n" + log);
        assertThat(a.exitCode()).as(a.text() + read("/var/lib/dkms/" + MV + "/build/make.log")).isZero();
        String command = log.lines().filter(l -> l.startsWith("# command: ")).findFirst().orElseThrow();
        assertThat(command).endsWith("-f rkmod-dkms.mk RKMOD_KDIR=/lib/modules/" + release + "/build");
        String step = log.lines().filter(l -> l.startsWith("rkmod-dkms-build: make -C ")).findFirst().orElseThrow();
        String passed = step.substring(step.indexOf("with DKMS's: ") + "with DKMS's: ".length());
        assertThat(passed).as("a GCC-built kernel: DKMS adds no LLVM=1 and no CC=clang")
                .contains("KERNELRELEASE=" + release).doesNotContain("LLVM=").doesNotContain("CC=");
        assertThat(step).contains("RUSTC=/usr/bin/rustc");
        assertThat(log).doesNotContain("clang");

        Path dir = view.root().resolve("lib/modules/" + release + "/updates/dkms");
        Path installed;
        try (Stream<Path> s = Files.list(dir)) {
            installed = s.filter(x -> x.getFileName().toString().startsWith(NAME + ".ko")).findFirst().orElseThrow();
        }
        String inView = "/" + view.root().relativize(installed);
        System.out.println("installed: " + inView);
        // the file DKMS installed; a compressed one is decompressed into the work directory (bound at the same path)
        Path ko = installed;
        String koInView = inView;
        if (!installed.toString().endsWith(".ko")) {
            ok("xz -dc " + inView + " > " + work.resolve(NAME + ".ko") + " || zstd -dc " + inView + " > " + work.resolve(NAME + ".ko"));
            ko = work.resolve(NAME + ".ko");
            koInView = ko.toString();
        }
        assertThat(ok("readelf -p .comment " + koInView)).as("the C parts were compiled by gcc").contains("GCC:").doesNotContain("clang");
        assertThat(ok("modinfo -F vermagic " + inView).strip()).startsWith(release + " ");

        // DKMS signed it: its own MOK key, made on first use, and the kernel's sign-file
        assertThat(a.text()).contains("Signing module");
        Path mokPub = view.root().resolve("var/lib/dkms/mok.pub");
        assertThat(mokPub).isRegularFile();
        assertThat(view.root().resolve("var/lib/dkms/mok.key")).isRegularFile();
        Rkmod.Result verify = Rkmod.jar(Map.of(), "verify", ko.toString(), "--cert", mokPub.toString());
        System.out.println(verify.out() + verify.err());
        assertThat(verify.exit()).as(verify.out() + verify.err()).isZero();
        assertThat(verify.out()).contains("valid");

        Rkmod.Result v = Rkmod.jar(Map.of(), "vmtest", ko.toString(), "--kdir", completed.toString(), "--timeout", "180", "--json");
        assertThat(v.exit()).as(v.out() + v.err()).isZero();
        JsonObject vo = JsonParser.parseString(v.out()).getAsJsonObject();
        assertThat(vo.get("release").getAsString()).isEqualTo(release);
        assertThat(vo.getAsJsonArray("moduleLines").toString()).contains(NAME + ": Rust out-of-tree module (init)");

        System.out.println(ok("dkms remove " + MV + " --all"));
        assertThat(installed).doesNotExist();
    }
}
