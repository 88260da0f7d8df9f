package dev.rkmod.it;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static dev.rkmod.it.Rkmod.json;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Real tiny-rust kernel builds with the pinned toolchains (6.1 on the host with Debian's rustc while
 * rustup's rustc is first on PATH; 6.12 inside the trixie root), and config runs on Debian's real
 * distro configs. Kernel builds are cached, so a warm CI run is fast; a cold one builds them.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class KernelIT {
    @ItSetup.Work("rkmod-kernel")
    static Path work;

    /** rustup's rustc 1.95 first on PATH, as on the developer machines. */
    static final Map<String, String> RUSTUP_FIRST = Map.of("PATH",
            System.getProperty("user.home") + "/.cargo/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");

    @Test
    @Order(1)
    void tinyRust61BuildsWithDebianRustcWhileRustupIsFirstOnPath() throws Exception {
        Rkmod.Result r = Rkmod.jar(RUSTUP_FIRST, "kernel", "build", "--profile", "6.1", "--json");
        assertThat(r.exit()).as(r.err()).isZero();
        JsonObject m = json(r);
        assertThat(m.get("rustc").getAsString()).isEqualTo("rustc 1.63.0");
        assertThat(m.get("bindgen").getAsString()).startsWith("bindgen 0.60");
        assertThat(m.get("clang").getAsString()).contains("clang version 14");
        assertThat(m.get("release").getAsString()).startsWith("6.1.");
        assertThat(m.get("generation").getAsString()).isEqualTo("6.1");
        Path tree = Path.of(m.get("tree").getAsString());
        assertThat(tree.resolve("rust/target.json")).isRegularFile();
        assertThat(tree.resolve("rust/libmacros.so")).isRegularFile();
        assertThat(tree.resolve("rust/libcore.rmeta")).isRegularFile();
        assertThat(tree.resolve("rust/libkernel.rmeta")).isRegularFile();
        assertThat(tree.resolve("arch/x86/boot/bzImage")).isRegularFile();
        assertThat(tree.resolve("samples/rust/rust_minimal.ko")).isRegularFile();
        assertThat(tree.resolve("rust-toolchain")).content().contains("channel = \"1.63.0\"");
        assertThat(tree.resolve("rkmod-kernel.json")).isRegularFile();
        assertThat(tree.resolve(".config")).content().contains("CONFIG_RUST=y").contains("CONFIG_RUSTC_VERSION_TEXT=\"rustc 1.63.0\"");
    }

    @Test
    @Order(2)
    void aSecondIdenticalBuildIsACacheHit() throws Exception {
        Rkmod.Result r = Rkmod.jar(RUSTUP_FIRST, "kernel", "build", "--profile", "6.1", "--json");
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(json(r).get("cacheHit").getAsBoolean()).isTrue();
        assertThat(r.err()).doesNotContain("==> make");
        System.out.println("kernel build cache hit took " + r.millis() + " ms");
    }

    @Test
    @Order(3)
    void tinyRust612BuildsInsideTheTrixieRoot() throws Exception {
        Rkmod.Result r = Rkmod.jar(RUSTUP_FIRST, "kernel", "build", "--profile", "6.12", "--json");
        assertThat(r.exit()).as(r.err()).isZero();
        JsonObject m = json(r);
        assertThat(m.get("rustc").getAsString()).startsWith("rustc 1.85.1").endsWith("(built from a source tarball)");
        assertThat(m.get("bindgen").getAsString()).startsWith("bindgen 0.71");
        assertThat(m.get("toolchainRoot").isJsonNull()).isFalse();
        assertThat(m.get("release").getAsString()).startsWith("6.12.");
        assertThat(m.get("generation").getAsString()).isEqualTo("6.13");
        Path tree = Path.of(m.get("tree").getAsString());
        assertThat(tree.resolve("scripts/target.json")).isRegularFile();
        assertThat(tree.resolve("rust/libffi.rmeta")).isRegularFile();
        assertThat(tree.resolve("rust/liballoc.rmeta")).doesNotExist();
        assertThat(tree.resolve("samples/rust/rust_print.ko")).isRegularFile();
        assertThat(Files.readString(Path.of("/proc/self/mounts"))).doesNotContain(tree.toString());
    }

    @Test
    void listShowsTheCachedKernels() throws Exception {
        Rkmod.Result r = Rkmod.jar(Map.of(), "kernel", "list", "--json");
        assertThat(r.exit()).isZero();
        List<String> rustcs = new ArrayList<>();
        for (JsonElement e : json(r).getAsJsonArray("kernels")) {
            rustcs.add(e.getAsJsonObject().get("rustc").getAsString());
        }
        assertThat(rustcs).contains("rustc 1.63.0");
    }

    /** Symbols a fix of the Rust blockers may legitimately change. */
    static boolean related(String symbol, List<String> fixed) {
        String s = symbol.replace("CONFIG_", "");
        return fixed.contains(s) || s.startsWith("RUST") || s.startsWith("BINDGEN") || s.contains("MODVERSIONS")
                || s.contains("BTF") || s.startsWith("HAVE_RUST") || s.startsWith("PAHOLE");
    }

    /**
     * 6.1: MODVERSIONS and DEBUG_INFO_BTF block Rust. 6.12: only MODVERSIONS does (its BTF clause accepts
     * PAHOLE_HAS_LANG_EXCLUDE), and olddefconfig itself drops DEBUG_INFO_BTF here since pahole is absent;
     * the diff still shows that Rust-blocking option's change.
     */
    private static void assertDistroConfigNeedsTheFix(String profile, boolean btfBlocks) throws Exception {
        Rkmod.Result blocked = Rkmod.jar(RUSTUP_FIRST, "kernel", "config", "--profile", profile, "--config", "debian");
        assertThat(blocked.exit()).as(blocked.err()).isEqualTo(1);
        assertThat(blocked.out()).contains("CONFIG_RUST=y did not survive olddefconfig")
                .contains("depends on !MODVERSIONS").contains("--fix-rust");
        if (btfBlocks) {
            assertThat(blocked.out()).contains("DEBUG_INFO_BTF=y");
        }

        Path out = Files.createTempDirectory(work, "config-" + profile).resolve("config");
        Rkmod.Result fixed = Rkmod.jar(RUSTUP_FIRST, "kernel", "config", "--profile", profile, "--config", "debian",
                "--fix-rust", "--out", out.toString(), "--json");
        assertThat(fixed.exit()).as(fixed.err()).isZero();
        JsonObject j = json(fixed);
        assertThat(j.get("rust").getAsBoolean()).isTrue();
        List<String> turnedOff = new ArrayList<>();
        j.getAsJsonArray("fixed").forEach(e -> turnedOff.add(e.getAsString()));
        assertThat(turnedOff).contains("MODVERSIONS");
        JsonArray changes = j.getAsJsonArray("changes");
        List<String> changed = new ArrayList<>();
        changes.forEach(e -> changed.add(e.getAsJsonObject().get("symbol").getAsString()));
        assertThat(changed).contains("CONFIG_MODVERSIONS", "CONFIG_DEBUG_INFO_BTF", "CONFIG_RUST");
        assertThat(changed).allMatch(s -> related(s, turnedOff), "only options related to the fix");
        assertThat(out).content().contains("CONFIG_RUST=y").contains("# CONFIG_MODVERSIONS is not set");
    }

    @Test
    void debian61DistroConfigNeedsFixRust() throws Exception {
        assertDistroConfigNeedsTheFix("6.1", true);
    }

    @Test
    void trixie612DistroConfigNeedsFixRustInsideTheRoot() throws Exception {
        assertDistroConfigNeedsTheFix("6.12", false);
    }

    @Test
    void configForAnotherArchitectureIsRefused() throws Exception {
        Path arm = work.resolve("arm64.config");
        Files.writeString(arm, "# Linux/arm64 6.1.0 Kernel Configuration\nCONFIG_ARM64=y\nCONFIG_64BIT=y\n");
        Rkmod.Result r = Rkmod.jar(Map.of(), "kernel", "config", "--profile", "6.1", "--config", arm.toString());
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).contains("is for arm64, not x86").doesNotContain("\tat ");
    }

    @Test
    void notAKernelSourceIsRefused() throws Exception {
        Path dir = Files.createDirectories(work.resolve("not-linux"));
        Files.writeString(dir.resolve("Makefile"), "all:\n\ttrue\n");
        Rkmod.Result r = Rkmod.jar(Map.of(), "kernel", "build", "--source", dir.toString());
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).contains(dir + " is not a Linux kernel source").contains("no kernel top-level Makefile");
    }

    @Test
    void corruptTarballIsRefusedAndLeavesNothingInTheCache() throws Exception {
        Path tmp = Files.createDirectories(work.resolve("corrupt"));
        Path tarball = tmp.resolve("linux-source-6.1.tar.xz");
        byte[] real = Files.readAllBytes(Path.of("/usr/src/linux-source-6.1.tar.xz"));
        Files.write(tarball, java.util.Arrays.copyOf(real, 4 << 20)); // truncated
        Path cache = tmp.resolve("cache");
        Rkmod.Result r = Rkmod.jar(Map.of("XDG_CACHE_HOME", cache.toString()), "kernel", "build", "--source", tarball.toString());
        assertThat(r.exit()).as(r.err()).isEqualTo(2);
        assertThat(r.err()).contains("is not a readable kernel source archive").contains("corrupt or truncated");
        assertThat(cache.resolve("rkmod/source")).satisfiesAnyOf(
                p -> assertThat(p).doesNotExist(), p -> assertThat(p).isEmptyDirectory());
        try (Stream<Path> s = Files.list(cache.resolve("rkmod/tmp"))) {
            assertThat(s).isEmpty();
        }
    }

    @Test
    void missingRustcPointsToDeps() throws Exception {
        Rkmod.Result r = Rkmod.jar(Map.of(), "kernel", "config", "--toolchain", "/nonexistent/rustc", "--profile", "6.1");
        assertThat(r.exit()).isEqualTo(3);
        assertThat(r.err()).contains("--toolchain /nonexistent/rustc is not an executable rustc");
    }
}
