package dev.rkmod.it;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static dev.rkmod.it.Rkmod.finding;
import static dev.rkmod.it.Rkmod.json;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Debian sid's real kernel, with its headers, image, source and toolchain all from the archive: doctor names
 * the gap, `headers complete` regenerates the Rust set and proves the symbol hashes, the package moves, a
 * scaffolded module and the kernel's own rust_minimal build there and load on Debian's own vmlinuz, a second
 * completion is a cache hit, a near-miss rustc and a non-Rust kernel are refused.
 *
 * Sid moves: when the archive no longer carries the kernel's exact rustc (and no root was made while it
 * did), the profile's install is refused, and every test asserts that precise refusal instead. The case
 * that ran is printed.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class DistroKernelIT {
    @ItSetup.Work("rkmod-distro")
    static Path work;
    static boolean refused;
    static String refusal;
    static Path root;
    static String release;
    static Path pkg;

    @BeforeAll
    static void profile() throws Exception {
        Rkmod.Result deps = Rkmod.jar(Map.of(), "deps", "--install", "--profile", "debian-sid", "--json");
        if (deps.exit() == 3 && deps.err().contains("was built with '") && deps.err().contains("never builds with a near miss")) {
            refused = true;
            refusal = deps.err();
            System.out.println("DistroKernelIT case: REFUSAL: the sid archive no longer carries the kernel's exact toolchain: "
                    + deps.err().strip());
            return;
        }
        assertThat(deps.exit()).as(deps.err()).isZero();
        JsonObject p = JsonParser.parseString(deps.out()).getAsJsonObject().getAsJsonArray("profiles").get(0).getAsJsonObject();
        root = Path.of(p.getAsJsonObject("root").get("path").getAsString());
        JsonObject status = sidStatus();
        release = status.get("release").getAsString();
        System.out.println("DistroKernelIT case: MATCHING TOOLCHAIN: Linux " + release + ", "
                + p.getAsJsonObject("root").get("rustc").getAsString());
    }

    /** The headers package the root's linux-headers-amd64 points to, read from its dpkg database. */
    static JsonObject sidStatus() throws Exception {
        String status = Files.readString(root.resolve("var/lib/dpkg/status"));
        JsonObject o = new JsonObject();
        for (String stanza : status.split("\n\n")) {
            if (stanza.startsWith("Package: linux-headers-amd64\n")) {
                for (String line : stanza.split("\n")) {
                    if (line.startsWith("Depends:")) {
                        var m = java.util.regex.Pattern.compile("linux-headers-(\\S+-amd64) \\(= ([^)]+)\\)").matcher(line);
                        assertThat(m.find()).as(line).isTrue();
                        o.addProperty("release", m.group(1));
                        o.addProperty("version", m.group(2));
                    }
                }
            }
        }
        assertThat(o.has("release")).as("linux-headers-amd64 is installed in the sid root").isTrue();
        return o;
    }

    /** In the refusal case, the tests check that what they would do is refused with the same precise message. */
    static void assertRefusal(String... args) throws Exception {
        assertThat(refusal).contains("was built with 'rustc ").contains("never builds with a near miss");
        Rkmod.Result r = Rkmod.jar(Map.of(), args);
        assertThat(r.exit()).as(r.err()).isEqualTo(3);
        assertThat(r.err()).containsAnyOf("has not been made", "never builds with a near miss");
    }

    @Test
    @Order(1)
    void doctorOnTheDistroHeadersNamesTheGapAndTheCommand() throws Exception {
        if (refused) {
            assertRefusal("headers", "complete", "--distro", "debian-sid", "--out", work.resolve("refused").toString());
            return;
        }
        Path headers = root.resolve("usr/src/linux-headers-" + release);
        Rkmod.Result r = Rkmod.jar(Map.of(), "doctor", "--kdir", headers.toString(), "--json");
        assertThat(r.exit()).as(r.out() + r.err()).isEqualTo(1);
        JsonObject d = json(r);
        JsonObject gap = finding(d, "rust.distro-headers");
        assertThat(gap.get("severity").getAsString()).isEqualTo("error");
        assertThat(gap.get("what").getAsString()).contains("lack the Rust metadata").contains("rust/libcore.rmeta");
        assertThat(gap.get("fix").getAsString()).isEqualTo("Run: rkmod headers complete --distro debian-sid:" + release
                + " --out linux-" + release + "-rust");
        assertThat(finding(d, "tools.rustc").get("what").getAsString()).contains("(built from a source tarball)");
        assertThat(finding(d, "tools.rustc").get("why").getAsString()).contains("Debian sid root");
        assertThat(finding(d, "tools.bindgen").get("why").getAsString()).isEqualTo("found beside the matching rustc");
        assertThat(finding(d, "tools.cc").get("what").getAsString()).contains("gcc");
        assertThat(finding(d, "cc.gcc").get("severity").getAsString()).isEqualTo("info");
    }

    @Test
    @Order(2)
    void completionRegeneratesTheRustSetAndProvesTheHashes() throws Exception {
        if (refused) {
            assertRefusal("headers", "complete", "--distro", "debian-sid", "--out", work.resolve("refused").toString());
            return;
        }
        pkg = work.resolve("site").resolve("linux-" + release + "-rust");
        Rkmod.Result r = Rkmod.jar(Map.of(), "headers", "complete", "--distro", "debian-sid", "--out", pkg.toString(), "--json");
        assertThat(r.exit()).as(r.err()).isZero();
        JsonObject o = json(r);
        System.out.println("headers complete: " + r.millis() + " ms, cache hit " + o.get("cacheHit") + ", stages "
                + o.get("stageMillis") + ", Rust set " + o.get("rustSetFiles") + " files, " + o.get("rustSetBytes") + " bytes");
        assertThat(o.get("release").getAsString()).isEqualTo(release);
        assertThat(o.get("generation").getAsString()).isEqualTo("7.2");
        assertThat(o.get("llvm").getAsBoolean()).as("Debian's kernel is GCC-built").isFalse();
        assertThat(o.get("rustc").getAsString()).startsWith("rustc ").endsWith("(built from a source tarball)");
        JsonObject h = o.getAsJsonObject("headers");
        assertThat(h.get("distro").getAsString()).isEqualTo("debian-sid");
        assertThat(h.get("headersPackage").getAsString()).isEqualTo("linux-headers-" + release);
        assertThat(h.get("rustSymbols").getAsInt()).as("_R symbols equal to Module.symvers").isGreaterThan(100);
        assertThat(o.get("verifiedWith").getAsString()).contains("Debian sid root");
        for (String f : List.of("rust/libcore.rmeta", "rust/libkernel.rmeta", "rust/libmacros.so", "scripts/target.json",
                "rust-toolchain", "rkmod-package.json", "rkmod-headers.json", ".kernelvariables", "Module.symvers",
                // what kernel::warn_on! and static branches include, and the kernel's own Rust probe with its inputs
                "rust/kernel/generated_arch_warn_asm.rs", "rust/kernel/generated_arch_reachable_asm.rs",
                "rust/kernel/generated_arch_static_branch_asm.rs", "scripts/rust_is_available.sh",
                "scripts/min-tool-version.sh")) {
            assertThat(pkg.resolve(f)).as(f).isRegularFile();
        }
        assertThat(pkg.resolve("Makefile")).content().as("the merged tree's own top Makefile, not Debian's wrapper")
                .doesNotContain("include /usr/src/");
        // the distro's own files are untouched: no Rust set appeared in the root's headers
        assertThat(root.resolve("usr/src/linux-headers-" + release + "/rust")).doesNotExist();
        // the identity files are the distro's, byte for byte
        for (String f : List.of(".config", "Module.symvers", "include/config/kernel.release", "include/generated/rustc_cfg")) {
            assertThat(Files.mismatch(pkg.resolve(f), root.resolve("usr/src/linux-headers-" + release).resolve(f)))
                    .as(f).isEqualTo(-1L);
        }
        try (Stream<Path> s = Files.walk(pkg)) {
            assertThat(s.filter(p -> p.toString().endsWith(".o"))).as("no object files").isEmpty();
        }
    }

    @Test
    @Order(3)
    void aSecondCompletionIsACacheHit() throws Exception {
        if (refused) {
            assertRefusal("headers", "complete", "--distro", "debian-sid", "--out", work.resolve("refused").toString());
            return;
        }
        Rkmod.Result r = Rkmod.jar(Map.of(), "headers", "complete", "--distro", "debian-sid:" + release,
                "--out", work.resolve("again").toString(), "--json");
        assertThat(r.exit()).as(r.err()).isZero();
        JsonObject o = json(r);
        assertThat(o.get("cacheHit").getAsBoolean()).isTrue();
        assertThat(o.getAsJsonObject("stageMillis").has("make")).isFalse();
        assertThat(work.resolve("again/rust/libcore.rmeta")).isRegularFile();
        System.out.println("second completion (cache hit) took " + r.millis() + " ms");
        // an existing DEST is refused without --force
        Rkmod.Result exists = Rkmod.jar(Map.of(), "headers", "complete", "--distro", "debian-sid",
                "--out", work.resolve("again").toString());
        assertThat(exists.exit()).isEqualTo(2);
        assertThat(exists.err()).contains("already exists").contains("--force");
    }

    @Test
    @Order(4)
    void aModuleAndRustMinimalBuildAtAnotherPathAndLoadOnDebiansOwnVmlinuz() throws Exception {
        if (refused) {
            assertRefusal("demo", "--profile", "debian-sid");
            return;
        }
        Path elsewhere = work.resolve("elsewhere").resolve("linux");
        Files.createDirectories(elsewhere.getParent());
        Files.move(pkg, elsewhere);
        Path mod = work.resolve("rust_sid");
        Rkmod.Result n = Rkmod.jar(Map.of(), "new", "rust_sid", "--kdir", elsewhere.toString(), "--dir", mod.toString());
        assertThat(n.exit()).as(n.err()).isZero();
        assertThat(mod.resolve("rust_sid.rs")).content().contains("authors: [").contains("KVec").contains("GFP_KERNEL");
        // basic API that reads the kernel's object tree (warn_on!), and a Kbuild that builds the Rust module only when
        // the kernel's own probe says Rust is available, as DKMS packages of mixed C and Rust decide
        Path rs = mod.resolve("rust_sid.rs");
        Files.writeString(rs, Files.readString(rs).replaceFirst("(pr_info!\\(\"Rust out-of-tree module \\(init\\)\\\\n\"\\);)",
                "$1\n        pr_info!(\"warn_on! returned {}\\\\n\", kernel::warn_on!(rkmod_false()));")
                + "\nfn rkmod_false() -> bool {\n    false\n}\n");
        assertThat(rs).content().contains("kernel::warn_on!(rkmod_false())");
        Files.writeString(mod.resolve("Kbuild"), "ifeq ($(shell RUSTC='$(RUSTC)' BINDGEN='$(BINDGEN)' CC='$(CC)' $(CONFIG_SHELL)"
                + " $(srctree)/scripts/rust_is_available.sh >/dev/null 2>&1 && echo y),y)\nobj-m := rust_sid.o\nelse\n"
                + "$(error scripts/rust_is_available.sh says Rust is not available)\nendif\n");
        Path minimal = work.resolve("rust_minimal");
        Files.createDirectories(minimal);
        extractFromSource("samples/rust/rust_minimal.rs", minimal.resolve("rust_minimal.rs"));
        Files.writeString(minimal.resolve("Kbuild"), "obj-m := rust_minimal.o\n");

        Path headers = root.resolve("usr/src/linux-headers-" + release);
        Path common = root.resolve("usr/src/linux-headers-" + release.replace("-amd64", "-common"));
        List<Path> hide = new ArrayList<>(List.of(headers));
        if (Files.isDirectory(common)) {
            hide.add(common);
        }
        ItSetup.hidden(hide, () -> {
            for (Path m : List.of(mod, minimal)) {
                Rkmod.Result b = Rkmod.jar(KernelIT.RUSTUP_FIRST, "build", m.toString(), "--kdir", elsewhere.toString(), "--json");
                assertThat(b.exit()).as(b.out() + b.err()).isZero();
                JsonObject bo = json(b);
                assertThat(bo.get("llvm").getAsBoolean()).as("no LLVM=1 for a GCC-built kernel").isFalse();
                assertThat(bo.toString()).contains("Debian sid root");
            }
        });
        // the kernel's samples that its config leaves out: explained by the option and its value in Debian's .config
        for (String[] gated : new String[][] {{"rust_driver_usb", "kernel::usb exists only with CONFIG_USB=y; this kernel has"
                + " CONFIG_USB=m"}, {"rust_soc", "kernel::soc exists only with CONFIG_SOC_BUS"}}) {
            Path g = work.resolve(gated[0]);
            Files.createDirectories(g);
            extractFromSource("samples/rust/" + gated[0] + ".rs", g.resolve(gated[0] + ".rs"));
            Files.writeString(g.resolve("Kbuild"), "obj-m := " + gated[0] + ".o\n");
            Rkmod.Result b = Rkmod.jar(Map.of(), "build", g.toString(), "--kdir", elsewhere.toString());
            assertThat(b.exit()).as(b.out() + b.err()).isEqualTo(4);
            assertThat(b.out() + b.err()).as(gated[0]).contains(gated[1]).contains("#[cfg(CONFIG_");
        }
        Rkmod.Result doc = Rkmod.jar(Map.of(), "doctor", "--kdir", elsewhere.toString(), "--json");
        assertThat(doc.exit()).as("doctor is clean after completion: " + doc.out()).isZero();
        for (JsonElement e : json(doc).getAsJsonArray("findings")) {
            assertThat(e.getAsJsonObject().get("severity").getAsString()).as(e.toString()).isNotEqualTo("error");
        }

        Rkmod.Result v = Rkmod.jar(Map.of(), "vmtest", mod.resolve("rust_sid.ko").toString(),
                minimal.resolve("rust_minimal.ko").toString(), "--kdir", elsewhere.toString(), "--timeout", "180", "--json");
        assertThat(v.exit()).as(v.out() + v.err()).isZero();
        JsonObject vo = json(v);
        System.out.println("vmtest on Debian's vmlinuz: " + v.millis() + " ms (verdict " + vo.get("millis") + " ms)");
        assertThat(vo.get("release").getAsString()).isEqualTo(release);
        assertThat(vo.get("accel").getAsString()).isEqualTo("tcg");
        JsonArray lines = vo.getAsJsonArray("moduleLines");
        assertThat(lines.toString())
                .contains("rust_sid: Rust out-of-tree module (init)")
                .contains("rust_sid: My numbers are [72, 108, 200]")
                .contains("rust_sid: warn_on! returned false")
                .contains("rust_sid: Rust out-of-tree module (exit)")
                .contains("rust_minimal: Rust minimal sample (init)")
                .contains("rust_minimal: Rust minimal sample (exit)")
                // Debian's kernel has MODULE_SIG without MODULE_SIG_FORCE: expected noise, not a failure
                .contains("module verification failed: signature and/or required key missing");
        assertThat(vo.getAsJsonArray("reasons")).isEmpty();
    }

    @Test
    @Order(5)
    void aNearMissRustcIsRefusedAndNothingIsCached() throws Exception {
        Path rustup = Stream.of("stable", "nightly").map(t -> Path.of(System.getProperty("user.home"), ".rustup", "toolchains",
                t + "-x86_64-unknown-linux-gnu", "bin", "rustc")).filter(Files::isExecutable).findFirst().orElseThrow();
        long before = cacheEntries();
        Rkmod.Result r = Rkmod.jar(Map.of(), "headers", "complete", "--distro", "debian-sid", "--rustc", rustup.toString(),
                "--out", work.resolve("near-miss").toString());
        if (refused) {
            assertThat(r.exit()).isEqualTo(3);
            return;
        }
        assertThat(r.exit()).as(r.err()).isEqualTo(3);
        assertThat(r.err()).contains("was built with 'rustc ").contains("(built from a source tarball)'")
                .contains("--rustc " + rustup + " prints 'rustc 1.95").contains("never builds with a near miss")
                .doesNotContain("\tat ");
        assertThat(cacheEntries()).as("nothing added to the cache").isEqualTo(before);
        assertThat(work.resolve("near-miss")).doesNotExist();
    }

    @Test
    @Order(6)
    void bookwormsNonRustHeadersAreRefusedWithTheExplanation() throws Exception {
        Path dir = Files.createDirectories(work.resolve("bookworm-headers"));
        String pkgName = hostHeadersPackage();
        ItSetup.run(dir, List.of("apt-get", "download", pkgName));
        Path deb;
        try (Stream<Path> s = Files.list(dir)) {
            deb = s.filter(p -> p.toString().endsWith(".deb")).findFirst().orElseThrow();
        }
        ItSetup.run(dir, List.of("dpkg-deb", "-x", deb.toString(), dir.resolve("x").toString()));
        Path headers = dir.resolve("x/usr/src").resolve(pkgName.replace("linux-headers-", "linux-headers-"));
        assertThat(headers.resolve(".config")).content().doesNotContain("CONFIG_RUST=y");
        Rkmod.Result r = Rkmod.jar(Map.of(), "headers", "complete", "--kdir", headers.toString(),
                "--out", work.resolve("no-rust").toString());
        assertThat(r.exit()).as(r.err()).isEqualTo(1);
        assertThat(r.err()).contains("was built without Rust support (CONFIG_RUST is not set)")
                .contains("No Rust module can load on this kernel").doesNotContain("\tat ");
        assertThat(work.resolve("no-rust")).doesNotExist();
    }

    /** bookworm's current amd64 headers package, from the host's APT (the provisioning ran apt-get update). */
    static String hostHeadersPackage() throws Exception {
        Process p = new ProcessBuilder("apt-cache", "depends", "linux-headers-amd64").redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        p.waitFor(60, TimeUnit.SECONDS);
        var m = java.util.regex.Pattern.compile("Depends: (linux-headers-\\S+-amd64)").matcher(out);
        assertThat(m.find()).as(out).isTrue();
        return m.group(1);
    }

    static long cacheEntries() throws Exception {
        String xdg = System.getenv("XDG_CACHE_HOME");
        Path cache = xdg != null && !xdg.isBlank() ? Path.of(xdg, "rkmod") : Path.of(System.getProperty("user.home"), ".cache", "rkmod");
        long n = 0;
        for (String kind : List.of("headers-rust", "headers-package")) {
            Path d = cache.resolve(kind);
            if (Files.isDirectory(d)) {
                try (Stream<Path> s = Files.list(d)) {
                    n += s.count();
                }
            }
        }
        return n;
    }

    /** One file of the kernel source the root's linux-source package ships. */
    static void extractFromSource(String member, Path dest) throws Exception {
        Path tarball;
        try (Stream<Path> s = Files.list(root.resolve("usr/src"))) {
            tarball = s.filter(p -> p.getFileName().toString().matches("linux-source-.*\\.tar\\.xz")).findFirst().orElseThrow();
        }
        String top = tarball.getFileName().toString().replace(".tar.xz", "");
        Path tmp = Files.createTempDirectory(work, "src");
        ItSetup.run(tmp, List.of("tar", "-xf", tarball.toString(), top + "/" + member));
        Files.copy(tmp.resolve(top).resolve(member), dest);
    }
}
