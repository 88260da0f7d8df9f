package dev.rkmod.it;

import dev.rkmod.format.ArchPackageWriter;
import dev.rkmod.format.DebArchiveWriter;
import dev.rkmod.format.DebPackage;
import dev.rkmod.format.PackageTree;
import dev.rkmod.infra.cache.Cache;
import dev.rkmod.infra.host.Chroot;
import dev.rkmod.infra.host.Host;
import dev.rkmod.infra.host.OverlayRoot;
import dev.rkmod.infra.process.ProcessResult;
import dev.rkmod.model.RkmodException;
import dev.rkmod.model.RootSpec;
import dev.rkmod.workflow.Context;
import dev.rkmod.workflow.toolchain.DebianRoots;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import java.util.zip.GZIPOutputStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The packages rkmod writes, checked by the real package managers in a copy-on-write view of the cached
 * bookworm package-tools root (the root itself and the host are never changed): dpkg-deb reads the .deb,
 * dpkg installs, lists, verifies and removes it leaving nothing behind, lintian finds no error; pacman
 * installs the Arch package into a scratch root, finds every file intact with -Qkk and removes it, and the
 * package's .MTREE is what bsdtar writes for makepkg.
 */
class PackageManagersIT {
    static final String PKG = "rkmod-it-test";
    static final String LONG_DIR = "usr/src/" + PKG + "/" + "a-rather-long-directory-name/".repeat(5) + "include";
    static final String LONG_FILE = LONG_DIR + "/" + "h".repeat(110) + ".h";
    /** Where Debian's kernel packages have it: under /lib (a link to /usr/lib on bookworm), to /usr/src, absolute. */
    static final String BUILD_LINK = "lib/modules/6.1.0-rkmod-it/build";
    static final String TOOL = "usr/lib/" + PKG + "/rkmod-it-tool";
    static final Duration TIMEOUT = Duration.ofMinutes(5);

    /**
     * The lintian warnings accepted on the test package, each with the reason. Any other warning, and any
     * error, fails the test.
     */
    static final Map<String, String> ACCEPTED_WARNINGS = Map.of(
            "initial-upload-closes-no-bugs", "the test package is never uploaded to Debian, so there is no ITP bug to close");

    static Context ctx;
    static Path root;

    @TempDir
    Path tmp;

    @BeforeAll
    static void packageToolsRoot() {
        Host host = Host.current();
        ctx = Context.create(host, new Cache(Cache.defaultRoot(host.env())), e -> { });
        // made once by debootstrap (a few minutes) and cached like the profiles' roots
        root = new DebianRoots(ctx).ensure(RootSpec.PACKAGE_TOOLS);
    }

    /** A data tree: a header under a long path, an executable, a conffile, an inner symlink, the docs. */
    private Path tree() throws IOException {
        Path t = tmp.resolve("tree");
        Files.createDirectories(t.resolve(LONG_DIR));
        Files.writeString(t.resolve(LONG_FILE), "#define RKMOD_IT 1\n");
        Files.createDirectories(t.resolve(TOOL).getParent());
        Files.writeString(t.resolve(TOOL), "#!/bin/sh\necho rkmod-it\n");
        Files.setPosixFilePermissions(t.resolve(TOOL), PosixFilePermissions.fromString("rwxr-x---"));
        Files.createDirectories(t.resolve("etc"));
        Files.writeString(t.resolve("etc/" + PKG + ".conf"), "answer=42\n");
        Files.createSymbolicLink(t.resolve("usr/src/" + PKG + "/include"), Path.of(LONG_DIR.substring(("usr/src/" + PKG + "/").length())));
        Path doc = Files.createDirectories(t.resolve("usr/share/doc/" + PKG));
        Files.writeString(doc.resolve("copyright"), """
                Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
                Upstream-Name: rkmod

                Files: *
                Copyright: 2026 rkmod tests
                License: GPL-2.0-only
                 On Debian systems, the full text of the GNU General Public License version 2 can be found in the
                 file '/usr/share/common-licenses/GPL-2'.
                """);
        Files.write(doc.resolve("changelog.Debian.gz"), gzip("""
                rkmod-it-test (1.0-1) unstable; urgency=medium

                  * Test package written by rkmod's .deb writer.

                 -- rkmod tests <tests@example.org>  Mon, 01 Jan 2024 00:00:00 +0000
                """));
        return t;
    }

    private static byte[] gzip(String text) throws IOException {
        ByteArrayOutputStream bo = new ByteArrayOutputStream();
        try (GZIPOutputStream gz = new GZIPOutputStream(bo) {
            {
                def.setLevel(java.util.zip.Deflater.BEST_COMPRESSION);
            }
        }) {
            gz.write(text.getBytes(StandardCharsets.UTF_8));
        }
        byte[] b = bo.toByteArray();
        b[8] = 2; // gzip -9n: "maximum compression" and OS Unix, as lintian expects of a changelog
        b[9] = 3;
        return b;
    }

    private PackageTree packageTree() throws IOException {
        return PackageTree.builder().addTree("", tree())
                .addSymlink(BUILD_LINK, "/" + LONG_DIR.substring(0, LONG_DIR.length() - "/include".length()))
                .build();
    }

    private static ProcessResult run(Chroot c, String... argv) {
        return ctx.runner().run(c.spec("/", List.of(), List.of(argv)).capture().quiet().noLog().timeout(TIMEOUT));
    }

    private static ProcessResult tryRun(Chroot c, String... argv) {
        return ctx.runner().run(c.spec("/", List.of(), List.of(argv)).capture().quiet().noLog().timeout(TIMEOUT).allowFailure());
    }

    @Test
    void dpkgInstallsListsVerifiesAndRemovesTheDebAndLintianFindsNoError() throws Exception {
        Map<String, String> control = new LinkedHashMap<>();
        control.put("Package", PKG);
        control.put("Version", "1.0-1");
        control.put("Architecture", "all");
        control.put("Maintainer", "rkmod tests <tests@example.org>");
        control.put("Section", "devel");
        control.put("Priority", "optional");
        control.put("Description", "test package of rkmod's .deb writer\nIt holds a header under a long path, a tool,"
                + " a configuration file\nand symbolic links.");
        byte[] postinst = "#!/bin/sh\nset -e\nif [ \"$1\" = configure ]; then\n    echo rkmod-it-configured\nfi\n"
                .getBytes(StandardCharsets.UTF_8);
        Path debs = Files.createDirectories(tmp.resolve("debs"));
        Path deb = debs.resolve(PKG + "_1.0-1_all.deb");
        DebArchiveWriter.write(deb, new DebArchiveWriter.Spec(control, Map.of("postinst", postinst),
                List.of("/etc/" + PKG + ".conf"), packageTree()), DebArchiveWriter.Options.defaults());
        Set<String> expected = DebPackage.dataPaths(deb).stream().map(p -> p.equals("/") ? "/." : p)
                .collect(Collectors.toCollection(TreeSet::new));

        Path upper = tmp.resolve("view/upper");
        try (OverlayRoot view = OverlayRoot.mount(root, tmp.resolve("view"), ctx.runner(), ctx.host())) {
            try (Chroot c = view.enter(List.of(debs))) {
                String info = run(c, "dpkg-deb", "--info", deb.toString()).text();
                assertThat(info).contains("Package: " + PKG).contains(" postinst ").contains(" md5sums ");
                String contents = run(c, "dpkg-deb", "--contents", deb.toString()).text();
                assertThat(contents).contains("./" + LONG_FILE).contains("./" + BUILD_LINK + " -> /usr/src/");

                assertThat(run(c, "dpkg", "-i", deb.toString()).text()).contains("rkmod-it-configured");
                assertThat(Files.readString(view.root().resolve(LONG_FILE))).isEqualTo("#define RKMOD_IT 1\n");
                assertThat(Files.getPosixFilePermissions(view.root().resolve(TOOL)))
                        .isEqualTo(PosixFilePermissions.fromString("rwxr-xr-x"));
                assertThat(view.root().resolve("usr/src/" + PKG + "/include/" + LONG_FILE.substring(LONG_DIR.length() + 1)))
                        .hasContent("#define RKMOD_IT 1");
                Set<String> listed = new TreeSet<>(run(c, "dpkg", "-L", PKG).output());
                assertThat(listed).isEqualTo(expected);
                assertThat(run(c, "dpkg", "--verify", PKG).text()).as("dpkg --verify checks the md5sums").isEmpty();
                assertThat(Files.readString(root.resolve("var/lib/dpkg/status"))).as("the cached root is untouched")
                        .doesNotContain(PKG);

                // dpkg-gencontrol's own Installed-Size of the same files (unpacked by dpkg-deb) is the writer's
                Path src = Files.createDirectories(debs.resolve("src/debian"));
                Files.writeString(src.resolve("control"), "Source: " + PKG + "\nMaintainer: rkmod tests <tests@example.org>\n\n"
                        + "Package: " + PKG + "\nArchitecture: all\nDescription: test\n test\n");
                Files.writeString(src.resolve("changelog"), PKG + " (1.0-1) unstable; urgency=medium\n\n  * Test.\n\n"
                        + " -- rkmod tests <tests@example.org>  Mon, 01 Jan 2024 00:00:00 +0000\n");
                run(c, "dpkg-deb", "-x", deb.toString(), debs.resolve("unpacked").toString());
                String generated = ctx.runner().run(c.spec(debs.resolve("src").toString(), List.of(), List.of("dpkg-gencontrol",
                        "-p" + PKG, "-P" + debs.resolve("unpacked"), "-O")).capture().quiet().noLog().timeout(TIMEOUT)).text();
                assertThat(generated.lines().filter(l -> l.startsWith("Installed-Size: ")).toList())
                        .containsExactly("Installed-Size: " + DebPackage.control(deb).field("Installed-Size").orElseThrow());

                ProcessResult lintian = tryRun(c, "lintian", "--tag-display-limit", "0", "--fail-on", "none",
                        deb.toString());
                List<String> errors = lintian.output().stream().filter(l -> l.startsWith("E: ")).toList();
                List<String> warnings = lintian.output().stream().filter(l -> l.startsWith("W: "))
                        .filter(l -> !ACCEPTED_WARNINGS.containsKey(l.split(" ")[2])).toList();
                assertThat(errors).as("lintian errors:\n" + lintian.text()).isEmpty();
                assertThat(warnings).as("lintian warnings not accepted:\n" + lintian.text()).isEmpty();

                run(c, "dpkg", "-r", PKG);
                assertThat(view.root().resolve("etc/" + PKG + ".conf")).as("dpkg -r keeps the conffile").exists();
                assertThat(view.root().resolve(LONG_FILE)).doesNotExist();
                run(c, "dpkg", "--purge", PKG);
            }
            assertThat(view.changes(Set.of("var/lib/dpkg", "var/log", "var/cache", "tmp", "root")))
                    .as("nothing of the package is left behind").isEmpty();
        }
        assertThat(tmp.resolve("view")).as("the view is unmounted and discarded").doesNotExist();
    }

    @Test
    void pacmanInstallsTheArchPackageFindsEveryFileIntactAndRemovesIt() throws Exception {
        var bi = new ArchPackageWriter.BuildInfo("0".repeat(64), "/build", "/build", "rkmod", "it",
                List.of("!distcc", "color"), List.of("!strip"), List.of());
        Map<String, List<String>> rel = new LinkedHashMap<>();
        rel.put("license", List.of("GPL-2.0-only"));
        rel.put("backup", List.of("etc/" + PKG + ".conf"));
        rel.put("depend", List.of("glibc"));
        var spec = new ArchPackageWriter.Spec(PKG, PKG, "1.0-1", "Test package of rkmod's Arch writer", "https://example.org",
                "rkmod tests <tests@example.org>", "x86_64", rel, bi, packageTree());
        Path pkgs = Files.createDirectories(tmp.resolve("pkgs"));
        Path pkg = pkgs.resolve(spec.fileName());
        var written = ArchPackageWriter.write(pkg, spec, 1_704_067_200L, 19, 2);

        String conf = "[options]\nArchitecture = auto\nSigLevel = Never\nLocalFileSigLevel = Never\n";
        Files.writeString(pkgs.resolve("pacman.conf"), conf);
        String r = "/tmp/archroot";
        List<String> where = List.of("--root", r, "--dbpath", r + "/var/lib/pacman", "--config", pkgs.resolve("pacman.conf").toString(),
                "--cachedir", r + "/var/cache/pacman/pkg", "--logfile", r + "/var/log/pacman.log", "--noconfirm");
        try (OverlayRoot view = OverlayRoot.mount(root, tmp.resolve("view"), ctx.runner(), ctx.host());
             Chroot c = view.enter(List.of(pkgs))) {
            Files.createDirectories(view.root().resolve("tmp/archroot/var/lib/pacman"));
            // -dd: the scratch root has none of the dependencies; --noscriptlet: there is no shell in it
            run(c, concat(List.of("pacman", "-U", "-dd", "--noscriptlet"), where, List.of(pkg.toString())));
            assertThat(view.root().resolve("tmp/archroot/" + LONG_FILE)).hasContent("#define RKMOD_IT 1");
            assertThat(Files.readSymbolicLink(view.root().resolve("tmp/archroot/" + BUILD_LINK)).toString())
                    .startsWith("/usr/src/" + PKG + "/");

            ProcessResult check = tryRun(c, concat(List.of("pacman", "-Qkk"), where, List.of(PKG)));
            assertThat(check.ok()).as(check.text()).isTrue();
            assertThat(check.text()).contains(PKG + ": ").contains(" 0 altered files").doesNotContain("warning");
            Set<String> listed = run(c, concat(List.of("pacman", "-Ql"), where, List.of(PKG))).output().stream()
                    .map(l -> l.substring(PKG.length() + 1)).map(p -> p.startsWith(r + "/") ? p.substring(r.length()) : p)
                    .map(p -> p.substring(1)).map(p -> p.endsWith("/") ? p.substring(0, p.length() - 1) : p)
                    .collect(Collectors.toCollection(TreeSet::new));
            Set<String> ours = spec.data().entries().stream().map(PackageTree.Entry::path).filter(p -> !p.isEmpty())
                    .collect(Collectors.toCollection(TreeSet::new));
            assertThat(listed).isEqualTo(ours);

            // the .MTREE is byte for byte what makepkg's bsdtar command writes for the same files
            String script = """
                    set -e
                    mkdir /tmp/x && cd /tmp/x
                    bsdtar -xpf "$1"
                    rm .MTREE
                    export LC_COLLATE=C
                    shopt -s dotglob globstar
                    printf '%s\\0' **/* | LANG=C bsdtar -cnf - --format=mtree \\
                        --options='!all,use-set,type,uid,gid,mode,time,size,md5,sha256,link' --null --files-from - --exclude .MTREE
                    """;
            Files.writeString(pkgs.resolve("mtree.sh"), script);
            String theirs = run(c, "bash", pkgs.resolve("mtree.sh").toString(), pkg.toString()).text();
            assertThat(theirs + "\n").isEqualTo(written.mtree());

            run(c, concat(List.of("pacman", "-R", "-dd", "--noscriptlet"), where, List.of(PKG)));
            try (Stream<Path> left = Files.walk(view.root().resolve("tmp/archroot"))) {
                assertThat(left.map(p -> view.root().resolve("tmp/archroot").relativize(p).toString())
                        .filter(p -> !p.isEmpty() && !p.startsWith("var")).toList())
                        .as("pacman -R removes every file (the changed backup file is saved as .pacsave only if edited)")
                        .isEmpty();
            }
        }
    }

    @Test
    void aFailureInsideTheViewStillUnmountsAndDiscardsIt() throws Exception {
        Path scratch = tmp.resolve("failing-view");
        Path[] merged = new Path[1];
        assertThatThrownBy(() -> {
            try (OverlayRoot view = OverlayRoot.mount(root, scratch, ctx.runner(), ctx.host());
                 Chroot c = view.enter(List.of())) {
                merged[0] = view.root();
                Files.writeString(view.root().resolve("etc/rkmod-it-written"), "x");
                assertThat(view.isMounted()).isTrue();
                run(c, "false");
            }
        }).isInstanceOf(RkmodException.class);
        assertThat(Files.readAllLines(Path.of("/proc/self/mounts"))).noneMatch(l -> l.contains(merged[0].toString()));
        assertThat(scratch).doesNotExist();
        assertThat(root.resolve("etc/rkmod-it-written")).as("the cached root never sees a write").doesNotExist();
    }

    private static String[] concat(List<String> a, List<String> b, List<String> c) {
        List<String> all = new ArrayList<>(a);
        all.addAll(b);
        all.addAll(c);
        return all.toArray(String[]::new);
    }
}
