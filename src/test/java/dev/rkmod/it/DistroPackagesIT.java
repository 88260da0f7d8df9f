package dev.rkmod.it;

import com.google.gson.JsonObject;
import dev.rkmod.format.DebPackage;
import dev.rkmod.format.ModInfo;
import dev.rkmod.infra.cache.Cache;
import dev.rkmod.infra.fs.FileOps;
import dev.rkmod.infra.host.Chroot;
import dev.rkmod.infra.host.Host;
import dev.rkmod.infra.host.OverlayRoot;
import dev.rkmod.infra.process.ProcessResult;
import dev.rkmod.model.Distro;
import dev.rkmod.model.Profile;
import dev.rkmod.model.RootSpec;
import dev.rkmod.workflow.Context;
import dev.rkmod.workflow.toolchain.DebianRoots;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static dev.rkmod.it.Rkmod.json;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The distro packages of issue 12, checked by the real package managers in copy-on-write views of cached Debian
 * roots (never on the host): the 6.1 headers .deb installs in the bookworm package-tools root and a Rust module
 * builds there with plain make and the root's rustc 1.63, dpkg lists and removes every file; lintian finds no
 * error on the .debs; the completion .deb installs over Debian sid's own headers, a module builds with plain
 * make, and removing it leaves the distro's files as they were; pacman installs the Arch package; two builds of
 * each package are byte-identical.
 */
class DistroPackagesIT {
    static final String EPOCH = "1700000000";
    static final Duration TIMEOUT = Duration.ofMinutes(20);
    /** dpkg's state, logs and scratch space: not files of a package. */
    static final Set<String> STATE = Set.of("var/lib/dpkg", "var/log", "var/cache", "tmp", "root", "var/lib/pacman");

    /**
     * The lintian warnings accepted on rkmod's .debs, each with the reason. Any other warning, and any error, fails.
     */
    static final Map<String, String> ACCEPTED_WARNINGS = Map.of(
            "initial-upload-closes-no-bugs", "the packages are built locally and never uploaded to Debian, so there is"
                    + " no ITP bug to close",
            "executable-not-elf-or-script", "the kernel's scripts/atomic/fallbacks/* are shell fragments that the kernel"
                    + " tree itself keeps executable; the headers tree is shipped as the kernel has it",
            "package-contains-vcs-control-file", "the kernel's own scripts/**/.gitignore files, part of the verified tree"
                    + " recorded in rkmod-package.json");

    @ItSetup.Work("rkmod-distro-packages")
    static Path work;
    static Context ctx;
    static Path tools;
    static Path kernel61;
    static Path deb;
    static Path archPkg;
    static String release;

    @BeforeAll
    static void packages() throws Exception {
        Host host = Host.current();
        ctx = Context.create(host, new Cache(Cache.defaultRoot(host.env())), e -> { });
        tools = new DebianRoots(ctx).ensure(RootSpec.PACKAGE_TOOLS);
        kernel61 = ItSetup.kernel("6.1");
        Rkmod.Result d = Rkmod.jar(Map.of("SOURCE_DATE_EPOCH", EPOCH), "package", "--kdir", kernel61.toString(),
                "--out", work.resolve("debs").toString(), "--format", "deb", "--json", "-q");
        assertThat(d.exit()).as(d.err()).isZero();
        JsonObject o = json(d);
        deb = Path.of(o.get("out").getAsString());
        release = o.get("release").getAsString();
        assertThat(deb.getFileName().toString()).isEqualTo("linux-headers-" + release + "-rust_" + release + "-1_amd64.deb");
        assertThat(o.getAsJsonObject("distroPackage").get("depends").getAsString())
                .contains("rustc (= 1.63.0+dfsg1-2)").contains("clang");
        assertThat(o.has("verification")).as("the tree in the .deb was verified").isTrue();
        // the Arch package of the same tree: verified once above, so not again
        Rkmod.Result a = Rkmod.jar(Map.of("SOURCE_DATE_EPOCH", EPOCH), "package", "--kdir", kernel61.toString(),
                "--out", work.resolve("arch").toString(), "--format", "arch", "--no-verify", "--json", "-q");
        assertThat(a.exit()).as(a.err()).isZero();
        archPkg = Path.of(json(a).get("out").getAsString());
        assertThat(archPkg.getFileName().toString()).isEqualTo("linux-rust-headers-" + release + "-1-x86_64.pkg.tar.zst");
    }

    private static ProcessResult run(Chroot c, String dir, String... argv) {
        return ctx.runner().run(c.spec(dir, List.of(), List.of(argv)).capture().quiet().noLog().timeout(TIMEOUT));
    }

    private static ProcessResult tryRun(Chroot c, String... argv) {
        return ctx.runner().run(c.spec("/", List.of(), List.of(argv)).capture().quiet().noLog().timeout(TIMEOUT).allowFailure());
    }

    /** A Rust module scaffolded by 'rkmod new' for a generation, in {@code dir}. */
    private static Path module(String name, String generation) throws Exception {
        Path dir = work.resolve(name);
        Rkmod.Result n = Rkmod.jar(Map.of(), "new", name, "--generation", generation, "--dir", dir.toString());
        assertThat(n.exit()).as(n.err()).isZero();
        return dir;
    }

    @Test
    void theHeadersDebInstallsAModuleBuildsWithPlainMakeAndDpkgRemovesEveryFile() throws Exception {
        Path mod = module("rust_deb61", "6.1");
        Set<String> expected = DebPackage.dataPaths(deb).stream().map(p -> p.equals("/") ? "/." : p)
                .collect(Collectors.toCollection(TreeSet::new));
        Path scratch = work.resolve("view-deb");
        try (OverlayRoot view = OverlayRoot.mount(tools, scratch, ctx.runner(), ctx.host())) {
            try (Chroot c = view.enter(List.of(deb.getParent(), mod))) {
                run(c, "/", "dpkg", "-i", deb.toString());
                String name = "linux-headers-" + release + "-rust";
                assertThat(new TreeSet<>(run(c, "/", "dpkg", "-L", name).output())).as("dpkg -L lists every file")
                        .isEqualTo(expected);
                assertThat(run(c, "/", "dpkg", "--verify", name).text()).isEmpty();
                assertThat(Files.readSymbolicLink(view.root().resolve("lib/modules/" + release + "/build")).toString())
                        .isEqualTo("/usr/src/linux-headers-" + release + "-rust");
                assertThat(run(c, "/", "rustc", "--version").text()).startsWith("rustc 1.63.0");
                // plain make: no LLVM=1, no RUSTC=, the root's own rustc 1.63 on PATH
                ProcessResult make = run(c, "/", "make", "-C", "/lib/modules/" + release + "/build", "M=" + mod);
                assertThat(make.text()).contains("rust_deb61.ko");
                ModInfo info = ModInfo.read(mod.resolve("rust_deb61.ko"));
                assertThat(info.get("vermagic").orElseThrow()).startsWith(release + " ");
                run(c, "/", "make", "-C", "/lib/modules/" + release + "/build", "M=" + mod, "clean");
                run(c, "/", "dpkg", "-r", name);
                assertThat(view.root().resolve("usr/src/linux-headers-" + release + "-rust")).doesNotExist();
                assertThat(view.root().resolve("lib/modules/" + release)).doesNotExist();
            }
            assertThat(view.changes(STATE)).as("dpkg -r leaves nothing behind").isEmpty();
        }
    }

    @Test
    void lintianFindsNoErrorOnTheDebs() throws Exception {
        List<Path> debs = new ArrayList<>(List.of(deb));
        completionDeb().ifPresent(debs::add);
        List<String> argv = new ArrayList<>(List.of("lintian", "--tag-display-limit", "0", "--fail-on", "none"));
        debs.forEach(d -> argv.add(d.toString()));
        try (OverlayRoot view = OverlayRoot.mount(tools, work.resolve("view-lintian"), ctx.runner(), ctx.host());
             Chroot c = view.enter(debs.stream().map(Path::getParent).distinct().toList())) {
            ProcessResult lintian = tryRun(c, argv.toArray(String[]::new));
            List<String> errors = lintian.output().stream().filter(l -> l.startsWith("E: ")).toList();
            List<String> warnings = lintian.output().stream().filter(l -> l.startsWith("W: "))
                    .filter(l -> !ACCEPTED_WARNINGS.containsKey(l.split(" ")[2])).toList();
            assertThat(errors).as("lintian errors:\n" + lintian.text()).isEmpty();
            assertThat(warnings).as("lintian warnings not accepted:\n" + lintian.text()).isEmpty();
            System.out.println("DistroPackagesIT lintian:\n" + lintian.text());
        }
    }

    private static Path completion;

    /** The sid root, if it is cached (it is never built here: sid may have moved). */
    private static java.util.Optional<Path> sidRoot() {
        RootSpec spec = Profile.forDistro(Distro.DEBIAN_SID).orElseThrow().root().orElseThrow();
        return new DebianRoots(ctx).find(spec);
    }

    private static synchronized java.util.Optional<Path> completionDeb() throws Exception {
        if (completion != null) {
            return java.util.Optional.of(completion);
        }
        java.util.Optional<Path> sid = sidRoot();
        if (sid.isEmpty()) {
            return java.util.Optional.empty();
        }
        String r = sidRelease(sid.get());
        Rkmod.Result h = Rkmod.jar(Map.of("SOURCE_DATE_EPOCH", EPOCH), "headers", "complete", "--distro", "debian-sid:" + r,
                "--out", work.resolve("completion").toString(), "--format", "deb", "--json", "-q");
        assertThat(h.exit()).as(h.err()).isZero();
        completion = Path.of(json(h).get("out").getAsString());
        return java.util.Optional.of(completion);
    }

    /**
     * The release the root's linux-headers-amd64 metapackage points to (what 'headers complete --distro debian-sid'
     * takes), read from its dpkg status: the root may hold other releases and flavours beside it.
     */
    private static String sidRelease(Path sid) throws IOException {
        for (String stanza : Files.readString(sid.resolve("var/lib/dpkg/status")).split("\n\n")) {
            if (stanza.startsWith("Package: linux-headers-amd64\n")) {
                java.util.regex.Matcher m = java.util.regex.Pattern.compile("(?m)^Depends:.*linux-headers-(\\S+-amd64) \\(=")
                        .matcher(stanza);
                if (m.find()) {
                    return m.group(1);
                }
            }
        }
        throw new AssertionError("linux-headers-amd64 is not installed in the sid root " + sid);
    }

    /** sha256 (or link target) of every non-directory path of the packages, read through the view. */
    private static Map<String, String> hashes(Chroot c, Path root, List<String> pkgs) throws IOException {
        Map<String, String> out = new TreeMap<>();
        for (String p : pkgs) {
            for (String path : run(c, "/", "dpkg", "-L", p).output()) {
                Path f = root.resolve(path.substring(1));
                if (Files.isSymbolicLink(f)) {
                    out.put(path, "-> " + Files.readSymbolicLink(f));
                } else if (Files.isRegularFile(f)) {
                    out.put(path, FileOps.sha256(f));
                }
            }
        }
        return out;
    }

    @Test
    void theCompletionDebInstallsOverSidsHeadersAModuleBuildsAndRemovalRestoresThem() throws Exception {
        java.util.Optional<Path> sid = sidRoot();
        Assumptions.assumeTrue(sid.isPresent(), "the Debian sid root is not cached");
        Path cdeb = completionDeb().orElseThrow();
        String r = sidRelease(sid.get());
        String name = "linux-rust-meta-" + r;
        assertThat(cdeb.getFileName().toString()).startsWith(name + "_").endsWith("+rkmod1_amd64.deb");
        String control = DebPackage.control(cdeb).field("Depends").orElseThrow();
        assertThat(control).startsWith("linux-headers-" + r + " (= ").contains("rustc (= ");
        Path mod = module("rust_sid_meta", "7.2");
        // the kernel's own rust_minimal, from the root's linux-source at test time, through the same plain make
        Path minimal = Files.createDirectories(work.resolve("rust_minimal_plain"));
        Path src = ItSetup.fromKernelSource(sid.get(), work.resolve("src"), "samples/rust/*");
        Files.copy(src.resolve("samples/rust/rust_minimal.rs"), minimal.resolve("rust_minimal.rs"));
        Files.writeString(minimal.resolve("Kbuild"), "obj-m := rust_minimal.o\n");
        Path scratch = work.resolve("view-sid");
        try (OverlayRoot view = OverlayRoot.mount(sid.get(), scratch, ctx.runner(), ctx.host());
             Chroot c = view.enter(List.of(cdeb.getParent(), mod, minimal))) {
            String headersDeps = run(c, "/", "dpkg-query", "-W", "-f=${Depends}", "linux-headers-" + r).text();
            List<String> distro = new ArrayList<>(List.of("linux-headers-" + r));
            Arrays.stream(headersDeps.split(",")).map(s -> s.strip().split(" ")[0])
                    .filter(s -> s.startsWith("linux-headers-") || s.startsWith("linux-kbuild-")).forEach(distro::add);
            Map<String, String> before = hashes(c, view.root(), distro);
            assertThat(before).hasSizeGreaterThan(1000);
            assertThat(tryRun(c, "make", "-C", "/lib/modules/" + r + "/build", "M=" + mod).ok())
                    .as("without the completion, the distro's headers cannot build a Rust module").isFalse();

            run(c, "/", "dpkg", "-i", cdeb.toString());
            assertThat(run(c, "/", "dpkg", "-L", name).output()).contains("/usr/src/linux-headers-" + r + "/rust/libcore.rmeta");
            ProcessResult make = run(c, "/", "make", "-C", "/lib/modules/" + r + "/build", "M=" + mod);
            assertThat(make.text()).contains("rust_sid_meta.ko");
            assertThat(ModInfo.read(mod.resolve("rust_sid_meta.ko")).get("vermagic").orElseThrow()).startsWith(r + " ");
            run(c, "/", "make", "-C", "/lib/modules/" + r + "/build", "M=" + mod, "clean");
            ProcessResult plain = run(c, "/", "make", "-C", "/lib/modules/" + r + "/build", "M=" + minimal);
            assertThat(plain.text()).contains("rust_minimal.ko");
            assertThat(ModInfo.read(minimal.resolve("rust_minimal.ko")).get("vermagic").orElseThrow()).startsWith(r + " ");
            run(c, "/", "make", "-C", "/lib/modules/" + r + "/build", "M=" + minimal, "clean");

            run(c, "/", "dpkg", "-r", name);
            assertThat(view.root().resolve("usr/src/linux-headers-" + r + "/rust")).doesNotExist();
            assertThat(hashes(c, view.root(), distro)).as("the distro's files are exactly as they were").isEqualTo(before);
        }
    }

    @Test
    void pacmanInstallsTheArchPackageFindsEveryFileIntactAndAModuleBuildsFromIt() throws Exception {
        Path mod = module("rust_arch61", "6.1");
        Path pkgs = archPkg.getParent();
        Files.writeString(pkgs.resolve("pacman.conf"), "[options]\nArchitecture = auto\nSigLevel = Never\nLocalFileSigLevel = Never\n");
        String r = "/tmp/archroot";
        List<String> where = List.of("--root", r, "--dbpath", r + "/var/lib/pacman", "--config",
                pkgs.resolve("pacman.conf").toString(), "--cachedir", r + "/var/cache/pacman/pkg", "--logfile",
                r + "/var/log/pacman.log", "--noconfirm");
        try (OverlayRoot view = OverlayRoot.mount(tools, work.resolve("view-arch"), ctx.runner(), ctx.host());
             Chroot c = view.enter(List.of(pkgs, mod))) {
            Files.createDirectories(view.root().resolve("tmp/archroot/var/lib/pacman"));
            List<String> add = new ArrayList<>(List.of("pacman", "-U", "-dd", "--noscriptlet"));
            add.addAll(where);
            add.add(archPkg.toString());
            run(c, "/", add.toArray(String[]::new));
            List<String> check = new ArrayList<>(List.of("pacman", "-Qkk"));
            check.addAll(where);
            check.add("linux-rust-headers");
            ProcessResult qkk = tryRun(c, check.toArray(String[]::new));
            assertThat(qkk.ok()).as(qkk.text()).isTrue();
            assertThat(qkk.text()).contains("linux-rust-headers: ").contains(" 0 altered files").doesNotContain("warning");
            assertThat(Files.readSymbolicLink(view.root().resolve("tmp/archroot/usr/lib/modules/" + release + "/build"))
                    .toString()).isEqualTo("/usr/src/linux-headers-" + release + "-rust");
            // the scratch root has no compiler; the build runs in the view (which has clang and rustc 1.63) against
            // the tree pacman installed, with plain make (the GNUmakefile makes LLVM=1 the default)
            ProcessResult make = run(c, "/", "make", "-C", r + "/usr/src/linux-headers-" + release + "-rust", "M=" + mod);
            assertThat(make.text()).contains("rust_arch61.ko");
            assertThat(ModInfo.read(mod.resolve("rust_arch61.ko")).get("vermagic").orElseThrow()).startsWith(release + " ");
        }
    }

    @Test
    void twoBuildsOfEachPackageAreByteIdentical() throws Exception {
        Rkmod.Result d = Rkmod.jar(Map.of("SOURCE_DATE_EPOCH", EPOCH), "package", "--kdir", kernel61.toString(),
                "--out", work.resolve("debs-again").toString(), "--format", "deb", "--no-verify", "--json", "-q");
        assertThat(d.exit()).as(d.err()).isZero();
        Path again = Path.of(json(d).get("out").getAsString());
        assertThat(FileOps.sha256(again)).isEqualTo(FileOps.sha256(deb));
        Rkmod.Result a = Rkmod.jar(Map.of("SOURCE_DATE_EPOCH", EPOCH), "package", "--kdir", kernel61.toString(),
                "--out", work.resolve("arch-again").toString(), "--format", "arch", "--no-verify", "--json", "-q");
        assertThat(a.exit()).as(a.err()).isZero();
        assertThat(FileOps.sha256(Path.of(json(a).get("out").getAsString()))).isEqualTo(FileOps.sha256(archPkg));
        // another epoch gives another package: the epoch is honoured
        Rkmod.Result other = Rkmod.jar(Map.of("SOURCE_DATE_EPOCH", "1700000001"), "package", "--kdir", kernel61.toString(),
                "--out", work.resolve("arch-other").toString(), "--format", "arch", "--no-verify", "--json", "-q");
        assertThat(other.exit()).as(other.err()).isZero();
        assertThat(FileOps.sha256(Path.of(json(other).get("out").getAsString()))).isNotEqualTo(FileOps.sha256(archPkg));
    }
}
