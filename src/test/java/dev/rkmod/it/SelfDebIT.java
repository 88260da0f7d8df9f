package dev.rkmod.it;

import dev.rkmod.format.DebPackage;
import dev.rkmod.infra.cache.Cache;
import dev.rkmod.infra.host.Chroot;
import dev.rkmod.infra.host.Host;
import dev.rkmod.infra.host.OverlayRoot;
import dev.rkmod.infra.process.ProcessResult;
import dev.rkmod.infra.process.ProcessSpec;
import dev.rkmod.model.RootSpec;
import dev.rkmod.workflow.Context;
import dev.rkmod.workflow.toolchain.DebianRoots;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * rkmod's own .deb, as Maven's package phase wrote it (target/rkmod_VERSION_all.deb), installed with dpkg in a
 * copy-on-write view of the cached bookworm package-tools root, after apt-get has put Debian's Java 17 runtime
 * into the view (from Debian's archive: the root itself has no Java). There the installed {@code rkmod --help}
 * lists the commands, the bash completion completes them, the man pages render, lintian finds no error, and
 * {@code dpkg -r} leaves nothing behind. A second build of the package is byte-identical.
 */
class SelfDebIT {
    static final Duration TIMEOUT = Duration.ofMinutes(10);
    /** The commands {@code rkmod --help} lists (the CLI's subcommands). */
    static final List<String> COMMANDS = List.of("deps", "kernel", "package", "headers", "doctor", "new", "build",
            "vmtest", "demo", "info", "sign", "verify", "cache", "help");

    /**
     * The lintian warnings accepted on rkmod's package, each with the reason. Any other warning, and any error,
     * fails the test.
     */
    static final Map<String, String> ACCEPTED_WARNINGS = Map.of(
            "initial-upload-closes-no-bugs", "rkmod's package is built by Maven, not uploaded to Debian: there is no ITP bug to close",
            "unknown-java-class-version", "the shaded jar keeps its libraries' META-INF/versions/N classes (zstd-jni's for Java 22+);"
                    + " its manifest is not Multi-Release, so Java never loads them, and every class it does load is Java 17's");

    static Context ctx;
    static Path root;
    static Path jar;
    static Path deb;
    static String mavenVersion;

    @TempDir
    Path tmp;

    @BeforeAll
    static void packageToolsRoot() {
        Host host = Host.current();
        ctx = Context.create(host, new Cache(Cache.defaultRoot(host.env())), e -> { });
        root = new DebianRoots(ctx).ensure(RootSpec.PACKAGE_TOOLS);
        jar = Path.of(System.getProperty("rkmod.jar"));
        mavenVersion = System.getProperty("rkmod.version");
        // the Debian version: a Maven qualifier sorts before the release (~), Debian revision 1
        deb = jar.resolveSibling("rkmod_" + mavenVersion.replace('-', '~') + "-1_all.deb");
    }

    private static ProcessResult run(Chroot c, String... argv) {
        return ctx.runner().run(c.spec("/", List.of("DEBIAN_FRONTEND=noninteractive"), List.of(argv))
                .capture().quiet().noLog().timeout(TIMEOUT));
    }

    private static ProcessResult tryRun(Chroot c, String... argv) {
        return ctx.runner().run(c.spec("/", List.of(), List.of(argv)).capture().quiet().noLog().timeout(TIMEOUT).allowFailure());
    }

    private static String complete(Chroot c, String... words) {
        String script = "source /usr/share/bash-completion/completions/rkmod; COMP_WORDS=(" + Stream.of(words).map(w -> "'" + w + "'").collect(Collectors.joining(" "))
                + "); COMP_CWORD=" + (words.length - 1) + "; _complete_rkmod 2>/dev/null; echo \"${COMPREPLY[@]}\"";
        return run(c, "bash", "-c", script).text().strip();
    }

    @Test
    void theControlDataNamesAJava17RuntimeAndASecondBuildIsByteIdentical() throws Exception {
        assertThat(deb).as("mvn package writes rkmod's .deb").isRegularFile();
        DebPackage.Control control = DebPackage.control(deb);
        assertThat(control.packageName()).isEqualTo("rkmod");
        assertThat(control.architecture()).hasValue("all");
        assertThat(control.field("Depends")).hasValue("default-jre-headless (>= 2:1.17) | java17-runtime-headless");
        assertThat(control.field("Section")).hasValue("devel");
        assertThat(DebPackage.dataPaths(deb)).contains("/usr/share/rkmod/rkmod.jar", "/usr/bin/rkmod",
                "/usr/share/bash-completion/completions/rkmod", "/usr/share/man/man1/rkmod.1.gz",
                "/usr/share/man/man1/rkmod-kernel-build.1.gz", "/usr/share/doc/rkmod/copyright",
                "/usr/share/doc/rkmod/changelog.Debian.gz");

        // SOURCE_DATE_EPOCH overrides the pom's time stamp: the same epoch, given that way, gives the same bytes
        long epoch = OffsetDateTime.parse(System.getProperty("rkmod.outputTimestamp")).toEpochSecond();
        Path again = Files.createDirectories(tmp.resolve("again"));
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        ctx.runner().run(ProcessSpec.of(java, "-cp", jar.resolveSibling("build-classes") + ":" + jar, "dev.rkmod.cli.SelfDeb",
                        jar.toString(), again.toString(), mavenVersion, "1970-01-02T00:00:00Z", control.field("Maintainer").orElseThrow())
                .env("SOURCE_DATE_EPOCH", Long.toString(epoch)).capture().quiet().noLog().timeout(TIMEOUT));
        Path second = again.resolve(deb.getFileName());
        assertThat(Files.mismatch(deb, second)).as("two builds of rkmod's .deb are byte-identical").isEqualTo(-1L);
    }

    @Test
    void dpkgInstallsItWhereRkmodHelpTheCompletionAndTheManPagesWorkAndRemovesItAll() throws Exception {
        Set<String> packaged = DebPackage.dataPaths(deb).stream().filter(p -> !p.equals("/"))
                .collect(Collectors.toCollection(TreeSet::new));
        Path upper = tmp.resolve("view/upper");
        try (OverlayRoot view = OverlayRoot.mount(root, tmp.resolve("view"), ctx.runner(), ctx.host());
             Chroot c = view.enter(List.of(deb.getParent()))) {
            if (!Files.exists(view.root().resolve("usr/bin/java"), LinkOption.NOFOLLOW_LINKS)) {
                // Debian's Java 17 runtime, into the view only: the cached root stays as debootstrap made it
                run(c, "apt-get", "-q", "-o", "APT::Sandbox::User=root", "update");
                run(c, "apt-get", "-q", "-o", "APT::Sandbox::User=root", "install", "-y", "--no-install-recommends",
                        "default-jre-headless");
            }
            Set<String> before = files(upper);
            boolean userCacheBefore = Files.exists(view.root().resolve("root/.cache/rkmod"));

            ProcessResult install = tryRun(c, "dpkg", "-i", deb.toString());
            assertThat(install.ok()).as("dpkg -i (the Depends is satisfied by Debian's Java runtime):\n" + install.text()).isTrue();
            // postinst made the class-data archive of the installed jar for this Java (-Xshare:on refuses one that
            // does not fit), and its training run left nothing in root's home
            assertThat(view.root().resolve("var/cache/rkmod/rkmod.jsa")).isNotEmptyFile();
            assertThat(run(c, "java", "-Xshare:on", "-XX:SharedArchiveFile=/var/cache/rkmod/rkmod.jsa", "-cp",
                    "/usr/share/rkmod/rkmod.jar", "dev.rkmod.cli.Main", "--version").text()).startsWith("rkmod ");
            assertThat(Files.exists(view.root().resolve("root/.cache/rkmod"))).isEqualTo(userCacheBefore);
            assertThat(Files.readString(view.root().resolve("usr/bin/rkmod")))
                    .contains("-XX:SharedArchiveFile=/var/cache/rkmod/rkmod.jsa");

            ProcessResult help = run(c, "rkmod", "--help");
            assertThat(help.text()).contains("Usage: rkmod").contains("Commands:");
            Set<String> listed = help.output().stream().map(String::strip).filter(l -> !l.isEmpty())
                    .map(l -> l.split("\\s+")[0]).collect(Collectors.toSet());
            assertThat(listed).as(help.text()).containsAll(COMMANDS);
            assertThat(run(c, "rkmod", "--version").text()).startsWith("rkmod " + mavenVersion);
            ProcessResult usage = tryRun(c, "rkmod", "kernel", "build", "--no-such-option");
            assertThat(usage.exitCode()).as("a usage error through the installed launcher").isEqualTo(2);

            assertThat(complete(c, "rkmod", "ver")).isEqualTo("verify");
            assertThat(complete(c, "rkmod", "ca")).isEqualTo("cache");
            assertThat(complete(c, "rkmod", "kernel", "b")).isEqualTo("build");
            assertThat(complete(c, "rkmod", "")).contains("deps").contains("vmtest").contains("headers");
            assertThat(complete(c, "rkmod", "vmtest", "--ke")).isEqualTo("--kernel");

            String page = run(c, "zcat", "/usr/share/man/man1/rkmod.1.gz").text();
            assertThat(page).contains(".SH NAME\nrkmod \\- ").contains(".SH COMMANDS");
            ProcessResult man = ctx.runner().run(c.spec("/", List.of("MANWIDTH=80"),
                            List.of("man", "--warnings", "-E", "UTF-8", "-l", "-Tutf8", "/usr/share/man/man1/rkmod-kernel-build.1.gz"))
                    .capture().quiet().noLog().timeout(TIMEOUT));
            // grotty marks bold as "c\bc" on a dumb terminal
            assertThat(man.text().replaceAll(".\b", "")).contains("NAME").contains("rkmod-kernel-build - ").contains("--profile=6.1");
            for (String p : packaged) {
                if (p.startsWith("/usr/share/man/man1/")) {
                    ProcessResult r = tryRun(c, "sh", "-c", "man --warnings -E UTF-8 -l -Tutf8 -Z " + p + " >/dev/null");
                    assertThat(r.ok() && r.text().isBlank()).as("groff reads " + p + " without a warning: " + r.text()).isTrue();
                }
            }

            ProcessResult lintian = tryRun(c, "lintian", "--tag-display-limit", "0", "--fail-on", "none", deb.toString());
            List<String> errors = lintian.output().stream().filter(l -> l.startsWith("E: ")).toList();
            List<String> warnings = lintian.output().stream().filter(l -> l.startsWith("W: "))
                    .filter(l -> !ACCEPTED_WARNINGS.containsKey(l.split(" ")[2])).toList();
            assertThat(errors).as("lintian errors:\n" + lintian.text()).isEmpty();
            assertThat(warnings).as("lintian warnings not accepted:\n" + lintian.text()).isEmpty();

            Set<String> listedByDpkg = run(c, "dpkg", "-L", "rkmod").output().stream().filter(l -> !l.equals("/."))
                    .collect(Collectors.toCollection(TreeSet::new));
            assertThat(listedByDpkg).isEqualTo(packaged);
            assertThat(run(c, "dpkg", "--verify", "rkmod").text()).as("dpkg --verify checks the md5sums").isEmpty();

            run(c, "dpkg", "-r", "rkmod");
            assertThat(tryRun(c, "sh", "-c", "command -v rkmod").ok()).isFalse();
            assertThat(view.root().resolve("var/cache/rkmod")).as("postrm removes the archive postinst made").doesNotExist();
            assertThat(files(upper)).as("dpkg -r leaves nothing of rkmod behind").isEqualTo(before);
        }
        assertThat(Files.readString(root.resolve("var/lib/dpkg/status"))).as("the cached root is untouched")
                .doesNotContain("Package: rkmod\n");
    }

    /** The view's changes, apart from the package managers' state, logs, caches and scratch space. */
    private static Set<String> files(Path upper) throws IOException {
        Set<String> ignored = Set.of("var/lib/dpkg", "var/log", "var/cache", "tmp", "root", "var/lib/apt");
        try (Stream<Path> s = Files.walk(upper)) {
            return s.map(p -> upper.relativize(p).toString())
                    .filter(rel -> !rel.isEmpty() && ignored.stream().noneMatch(i -> rel.equals(i) || rel.startsWith(i + "/")))
                    // a directory copied up because something was created in it is no change if the root has it
                    .filter(rel -> !(Files.isDirectory(upper.resolve(rel), LinkOption.NOFOLLOW_LINKS)
                            && Files.isDirectory(root.resolve(rel), LinkOption.NOFOLLOW_LINKS)))
                    .collect(Collectors.toCollection(TreeSet::new));
        }
    }
}
