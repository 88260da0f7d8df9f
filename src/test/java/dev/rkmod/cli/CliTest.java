package dev.rkmod.cli;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.rkmod.format.KernelManifest;
import dev.rkmod.format.PackageManifest;
import dev.rkmod.infra.cache.Cache;
import dev.rkmod.infra.cache.CacheKey;
import dev.rkmod.infra.host.Host;
import dev.rkmod.model.Profile;
import dev.rkmod.workflow.tree.TreeFixture;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** In-process CLI tests: exit codes, messages and files a user sees. */
class CliTest {
    @TempDir
    Path fs;

    private Map<String, String> env;

    @BeforeEach
    void setUp() throws Exception {
        env = new HashMap<>(System.getenv());
        env.put("XDG_CACHE_HOME", fs.resolve("cache").toString());
        Files.createDirectories(fs.resolve("etc"));
        Files.writeString(fs.resolve("etc/os-release"), "ID=debian\nVERSION_CODENAME=bookworm\n");
        Files.createDirectories(fs.resolve("var/lib/dpkg"));
    }

    private Host host(int uid) {
        return new Host(fs, uid, env);
    }

    private void installed(List<String> packages) throws Exception {
        StringBuilder sb = new StringBuilder();
        for (String p : packages) {
            sb.append("Package: ").append(p).append("\nStatus: install ok installed\nVersion: 1.0-test\n\n");
        }
        Files.writeString(fs.resolve("var/lib/dpkg/status"), sb.toString());
    }

    @Test
    void helpListsTheCommandsAndExitCodes() {
        CliRun r = CliRun.run(host(1000), "--help");
        assertThat(r.exit()).isZero();
        assertThat(r.out()).contains("deps", "cache", "Exit codes:", "3  environment or toolchain missing");
        // each command is listed by a summary that is one complete sentence (picocli wraps it over lines)
        String commands = r.out().substring(r.out().indexOf("Commands:"), r.out().indexOf("Exit codes:"));
        java.util.Map<String, String> summaries = new java.util.LinkedHashMap<>();
        String current = null;
        for (String line : commands.split("\n")) {
            java.util.regex.Matcher m = java.util.regex.Pattern.compile("^  ([a-z]+)\\s+(\\S.*)$").matcher(line);
            if (m.matches()) {
                current = m.group(1);
                summaries.put(current, m.group(2).strip());
            } else if (current != null && line.startsWith("    ")) {
                summaries.put(current, summaries.get(current) + " " + line.strip());
            }
        }
        assertThat(summaries).containsKeys("deps", "kernel", "package", "headers", "doctor", "new", "build", "vmtest",
                "demo", "info", "sign", "verify", "cache", "install", "uninstall", "dkms", "matrix");
        summaries.forEach((cmd, text) -> assertThat(text).as("summary of " + cmd).endsWith(".")
                .satisfies(t -> assertThat(t.indexOf(". ")).as("one sentence: " + t).isEqualTo(-1)));
    }

    @Test
    void distroPackageOptionsAreCheckedBeforeAnyWork() throws Exception {
        Path out = fs.resolve("debs");
        CliRun revision = CliRun.run(host(0), "package", "--kdir", fs.toString(), "--out", out.toString(), "--format", "deb",
                "--revision", "0");
        assertThat(revision.exit()).isEqualTo(2);
        assertThat(revision.err()).contains("--revision 0 is not a revision").contains("Pass --revision 1")
                .doesNotContain("\tat ");
        CliRun notNumber = CliRun.run(host(0), "package", "--kdir", fs.toString(), "--out", out.toString(), "--format", "deb",
                "--revision", "one");
        assertThat(notNumber.exit()).isEqualTo(2);
        assertThat(notNumber.err()).contains("'one' is not an int");
        CliRun maintainer = CliRun.run(host(0), "package", "--kdir", fs.toString(), "--out", out.toString(), "--format",
                "arch", "--maintainer", "nobody");
        assertThat(maintainer.exit()).isEqualTo(2);
        assertThat(maintainer.err()).contains("--maintainer 'nobody' is not 'Name <mail>'");
        CliRun dirRevision = CliRun.run(host(0), "package", "--kdir", fs.toString(), "--out", out.toString(),
                "--revision", "2");
        assertThat(dirRevision.exit()).isEqualTo(2);
        assertThat(dirRevision.err()).contains("--maintainer and --revision apply only to --format deb or arch");
        // a directory that is no kernel tree
        Path notATree = Files.createDirectories(fs.resolve("not-a-tree"));
        CliRun nonTree = CliRun.run(host(0), "package", "--kdir", notATree.toString(), "--out", out.toString(),
                "--format", "deb");
        assertThat(nonTree.exit()).as(nonTree.err()).isEqualTo(3);
        assertThat(nonTree.err()).contains(notATree + " is not a built kernel tree").doesNotContain("\tat ");
        assertThat(out).doesNotExist();
        // the --out of a package is a directory
        Path file = Files.writeString(fs.resolve("a-file"), "x");
        CliRun outFile = CliRun.run(host(0), "package", "--kdir", notATree.toString(), "--out", file.toString(),
                "--format", "deb");
        assertThat(outFile.exit()).isEqualTo(2);
        assertThat(outFile.err()).contains("is not a directory");
    }

    @Test
    void headersCompleteRefusesBadInputsWithOneParagraphEach() throws Exception {
        CliRun unknown = CliRun.run(host(0), "headers", "complete", "--distro", "fedora-40", "--out", fs.resolve("o").toString());
        assertThat(unknown.exit()).isEqualTo(2);
        assertThat(unknown.err()).contains("Unknown distro 'fedora-40'. Known distros: debian-sid.").doesNotContain("\tat ");

        CliRun both = CliRun.run(host(0), "headers", "complete", "--distro", "debian-sid", "--kdir", fs.toString(),
                "--out", fs.resolve("o").toString());
        assertThat(both.exit()).isEqualTo(2);
        assertThat(both.err()).contains("--kdir and --distro cannot be used together");

        CliRun arch = CliRun.run(host(0), "headers", "complete", "--distro", "debian-sid", "--format", "arch",
                "--out", fs.resolve("o").toString());
        assertThat(arch.exit()).isEqualTo(2);
        assertThat(arch.err()).contains("--format arch is not available for completed headers").contains("Use --format deb");

        // the default input is the running kernel's headers: absent in this fake root
        Files.createDirectories(fs.resolve("proc/sys/kernel"));
        Files.writeString(fs.resolve("proc/sys/kernel/osrelease"), "7.2.13+deb14-amd64\n");
        CliRun none = CliRun.run(host(0), "headers", "complete", "--out", fs.resolve("o").toString());
        assertThat(none.exit()).isEqualTo(2);
        assertThat(none.err()).contains(fs.resolve("lib/modules/7.2.13+deb14-amd64/build") + " does not exist")
                .contains("apt-get install linux-headers-$(uname -r)");

        // without the sid root there is nothing to complete from
        CliRun noRoot = CliRun.run(host(0), "headers", "complete", "--distro", "debian-sid", "--out", fs.resolve("o").toString());
        assertThat(noRoot.exit()).isEqualTo(3);
        assertThat(noRoot.err()).contains("The Debian sid root has not been made")
                .contains("rkmod deps --install --profile debian-sid");

        // headers of a kernel without Rust: exit 1 with the reason
        Path hdr = Files.createDirectories(fs.resolve("hdr/include/config"));
        Files.writeString(fs.resolve("hdr/.config"), "CONFIG_MODULES=y\n# CONFIG_RUST is not set\n");
        Files.writeString(hdr.resolve("kernel.release"), "6.1.0-57-amd64\n");
        CliRun noRust = CliRun.run(host(0), "headers", "complete", "--kdir", fs.resolve("hdr").toString(),
                "--out", fs.resolve("o").toString());
        assertThat(noRust.exit()).isEqualTo(1);
        assertThat(noRust.err()).contains("was built without Rust support (CONFIG_RUST is not set)")
                .contains("No Rust module can load on this kernel");
        assertThat(fs.resolve("o")).doesNotExist();
    }

    @Test
    void versionIsPrinted() {
        CliRun r = CliRun.run(host(1000), "--version");
        assertThat(r.exit()).isZero();
        assertThat(r.out()).startsWith("rkmod 0.");
    }

    @Test
    void unknownCommandIsAUsageError() {
        CliRun r = CliRun.run(host(1000), "frobnicate");
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).contains("Unmatched argument").doesNotContain("at dev.rkmod");
    }

    @Test
    void noCommandIsAUsageError() {
        CliRun r = CliRun.run(host(1000));
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).contains("Missing command");
    }

    @Test
    void unknownProfileIsAUsageError() {
        CliRun r = CliRun.run(host(1000), "deps", "--profile", "9.9");
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).contains("Unknown profile '9.9'. Known profiles: 6.1, 6.12, debian-sid.");
    }

    /** --profile and --format values are converted by picocli for every command: a bad one is exit 2 with the same words. */
    @Test
    void badProfileAndFormatValuesAreUsageErrorsEverywhere() {
        for (String[] args : List.of(new String[] {"kernel", "build", "--profile", "9.9"},
                new String[] {"kernel", "config", "--profile", "9.9"}, new String[] {"demo", "--profile", "9.9"},
                new String[] {"deps", "--profile", "6.1", "--profile", "9.9"})) {
            CliRun r = CliRun.run(host(1000), args);
            assertThat(r.exit()).as(String.join(" ", args)).isEqualTo(2);
            assertThat(r.err()).startsWith("Invalid value for option '--profile'")
                    .contains("Unknown profile '9.9'. Known profiles: 6.1, 6.12, debian-sid.").contains("Usage: rkmod");
        }
        CliRun format = CliRun.run(host(1000), "package", "--kdir", fs.toString(), "--out", fs.resolve("o").toString(),
                "--format", "tar.gz");
        assertThat(format.exit()).isEqualTo(2);
        assertThat(format.err()).contains("Invalid value for option '--format': Unknown format 'tar.gz'. Use dir, tar.zst,"
                + " tar.xz, deb or arch.");
        CliRun headers = CliRun.run(host(0), "headers", "complete", "--format", "TAR.ZST", "--out", fs.resolve("o").toString());
        assertThat(headers.exit()).isEqualTo(2);
        assertThat(headers.err()).contains("Unknown format 'TAR.ZST'");
        assertThat(fs.resolve("o")).doesNotExist();
    }

    @Test
    void badValuesInJsonModeAreJsonErrors() {
        for (String[] args : List.of(new String[] {"kernel", "build", "--profile", "9.9", "--json"},
                new String[] {"deps", "--json", "--profile", "9.9"})) {
            CliRun r = CliRun.run(host(1000), args);
            assertThat(r.exit()).isEqualTo(2);
            JsonObject o = JsonParser.parseString(r.out()).getAsJsonObject();
            assertThat(o.get("exitCode").getAsInt()).isEqualTo(2);
            assertThat(o.get("error").getAsString()).startsWith("Invalid value for option '--profile'")
                    .endsWith(": Unknown profile '9.9'. Known profiles: 6.1, 6.12, debian-sid.");
            assertThat(r.err()).isEmpty();
        }
    }

    @Test
    void aSourceDateEpochThatIsNoNumberIsAUsageError() {
        env.put("SOURCE_DATE_EPOCH", "yesterday");
        CliRun r = CliRun.run(host(1000), "package", "--kdir", fs.resolve("k").toString(), "--out", fs.resolve("o").toString());
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).contains("SOURCE_DATE_EPOCH='yesterday' is not a number of seconds");
    }

    @Test
    void depsReportsMissingPackagesWithTheCommandAndExit3() throws Exception {
        installed(List.of("rustc", "clang"));
        CliRun r = CliRun.run(host(1000), "deps", "--profile", "6.1");
        assertThat(r.exit()).isEqualTo(3);
        assertThat(r.out()).containsPattern("ok\\s+rustc\\s+1.0-test").containsPattern("MISSING\\s+linux-source-6.1")
                .contains("apt-get install -y --no-install-recommends bc bindgen bison busybox-static");
        assertThat(r.out()).doesNotContain("install -y --no-install-recommends bc bindgen bison busybox-static clang");
    }

    @Test
    void depsCompleteProfileExits0AndJsonIsParseable() throws Exception {
        installed(Profile.LINUX_6_1.hostPackages());
        CliRun r = CliRun.run(host(1000), "deps", "--profile", "6.1", "--json");
        assertThat(r.exit()).isZero();
        JsonObject o = JsonParser.parseString(r.out()).getAsJsonObject();
        assertThat(o.get("complete").getAsBoolean()).isTrue();
        JsonObject p = o.getAsJsonArray("profiles").get(0).getAsJsonObject();
        assertThat(p.get("profile").getAsString()).isEqualTo("6.1");
        assertThat(p.getAsJsonArray("host")).hasSize(Profile.LINUX_6_1.hostPackages().size());
        assertThat(p.getAsJsonArray("missing")).isEmpty();
    }

    @Test
    void depsInstallIsANoOpWhenComplete() throws Exception {
        installed(Profile.LINUX_6_1.hostPackages());
        CliRun r = CliRun.run(host(1000), "deps", "--profile", "6.1", "--install");
        assertThat(r.exit()).isZero();
        assertThat(r.out()).contains("complete").doesNotContain("did:");
        assertThat(r.err()).doesNotContain("apt-get");
    }

    @Test
    void depsInstallAsNonRootPrintsTheExactCommandAndExits3() throws Exception {
        installed(List.of("rustc"));
        CliRun r = CliRun.run(host(1000), "deps", "--profile", "6.1", "--install");
        assertThat(r.exit()).isEqualTo(3);
        assertThat(r.err()).startsWith("rkmod: error: Installing packages needs root")
                .contains("Run: sudo apt-get install -y --no-install-recommends bc bindgen")
                .doesNotContain("Exception").doesNotContain("\tat ");
    }

    @Test
    void depsInstallOffDebianPrintsTheCommandAndExits3() throws Exception {
        Files.writeString(fs.resolve("etc/os-release"), "ID=fedora\n");
        CliRun r = CliRun.run(host(0), "deps", "--profile", "6.1", "--install");
        assertThat(r.exit()).isEqualTo(3);
        assertThat(r.err()).contains("not Debian with apt-get").contains("apt-get install -y --no-install-recommends");
    }

    @Test
    void errorsInJsonModeAreJson() throws Exception {
        installed(List.of());
        CliRun r = CliRun.run(host(1000), "deps", "--profile", "6.1", "--install", "--json");
        assertThat(r.exit()).isEqualTo(3);
        JsonObject o = JsonParser.parseString(r.out()).getAsJsonObject();
        assertThat(o.get("exitCode").getAsInt()).isEqualTo(3);
        assertThat(o.get("error").getAsString()).contains("needs root");
    }

    @Test
    void profile612ReportsTheMissingRoot() throws Exception {
        installed(Profile.LINUX_6_12.hostPackages());
        CliRun r = CliRun.run(host(1000), "deps", "--profile", "6.12");
        assertThat(r.exit()).isEqualTo(3);
        assertThat(r.out()).contains("Debian trixie root").contains("MISSING  not made yet")
                .contains("sudo ./rkmod deps --install --profile 6.12");
    }

    @Test
    void cacheListAndClear() {
        CliRun empty = CliRun.run(host(1000), "cache", "list");
        assertThat(empty.exit()).isZero();
        assertThat(empty.out()).contains("(empty)").contains(fs.resolve("cache/rkmod").toString());

        Cache cache = new Cache(fs.resolve("cache/rkmod"));
        cache.getOrBuild("kernel", CacheKey.of(Map.of("k", "v")), "a test kernel", e -> { },
                dir -> Files.writeString(dir.resolve("bzImage"), "x".repeat(2048)));
        CliRun list = CliRun.run(host(1000), "cache", "list");
        assertThat(list.out()).containsPattern("kernel\\s+[0-9a-f]{12}\\s+2\\.\\d KiB.*a test kernel");

        CliRun json = CliRun.run(host(1000), "cache", "list", "--json");
        assertThat(JsonParser.parseString(json.out()).getAsJsonObject().getAsJsonArray("entries")).hasSize(1);

        CliRun clear = CliRun.run(host(1000), "cache", "clear");
        assertThat(clear.exit()).isZero();
        assertThat(clear.out()).contains("1 entry removed");
        assertThat(cache.list()).isEmpty();
    }

    /**
     * 'package' reads what 'kernel build' recorded; a manifest that lies about the rustc is set aside with a
     * warning, and the package records the rustc of the rmeta files.
     */
    @Test
    void packageReadsTheKernelManifestAndSetsAsideOneThatLies() throws Exception {
        Path kdir = TreeFixture.tree(fs.resolve("kdir"), TreeFixture.RUSTC);
        Files.writeString(kdir.resolve(KernelManifest.FILE),
                TreeFixture.kernelManifest(kdir).toolchainRoot("/roots/bookworm").build().toJson());
        CliRun honest = CliRun.run(host(1000), "package", "--kdir", kdir.toString(), "--out", fs.resolve("p1").toString(),
                "--no-verify");
        assertThat(honest.exit()).as(honest.err()).isZero();
        assertThat(honest.err()).doesNotContain("does not match");
        PackageManifest p1 = PackageManifest.read(fs.resolve("p1")).orElseThrow();
        assertThat(p1.rustc()).isEqualTo(TreeFixture.RUSTC);
        assertThat(p1.toolchainRoot()).isEqualTo("/roots/bookworm");

        Files.writeString(kdir.resolve(KernelManifest.FILE),
                TreeFixture.kernelManifest(kdir).rustc("rustc 1.99.0").toolchainRoot("/roots/bookworm").build().toJson());
        CliRun lying = CliRun.run(host(1000), "package", "--kdir", kdir.toString(), "--out", fs.resolve("p2").toString(),
                "--no-verify");
        assertThat(lying.exit()).as(lying.err()).isZero();
        assertThat(lying.err()).contains("rkmod-kernel.json in " + kdir + " does not match the tree: it records"
                + " 'rustc 1.99.0' but rust/libcore.rmeta was made by 'rustc 1.63.0'; rkmod derives the facts from the"
                + " tree's files instead");
        PackageManifest p2 = PackageManifest.read(fs.resolve("p2")).orElseThrow();
        assertThat(p2.rustc()).isEqualTo(TreeFixture.RUSTC);
        assertThat(p2.toolchainRoot()).isNull();
        assertThat(fs.resolve("p2/rust-toolchain")).content().contains("1.63.0");
    }
}
