package dev.rkmod.it;

import com.google.gson.JsonObject;
import dev.rkmod.format.ModInfo;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static dev.rkmod.it.Rkmod.json;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * `rkmod new` + `rkmod build` against the real 6.1 package (relocated) and the real 6.12 package, with
 * rustup's rustc first on PATH; the kernel's own samples built out of tree; and two failures.
 */
class BuildIT {
    @ItSetup.Work("rkmod-build")
    static Path work;
    static Path pkg61;
    static Path pkg612;
    static Path src61;
    static Path src612;

    @BeforeAll
    static void packages() throws Exception {
        src61 = ItSetup.kernel("6.1");
        src612 = ItSetup.kernel("6.12");
        pkg61 = ItSetup.pack(src61, work.resolve("relocated/linux-6.1"));
        pkg612 = ItSetup.pack(src612, work.resolve("relocated/linux-6.12"));
    }

    private static void newAndBuild(Path pkg, String expectedRustcCandidate) throws Exception {
        Path dir = work.resolve("demo-" + pkg.getFileName());
        Rkmod.Result n = Rkmod.jar(Map.of(), "new", "demo_mod", "--kdir", pkg.toString(), "--dir", dir.toString(),
                "--description", "Demo module");
        assertThat(n.exit()).as(n.err()).isZero();
        assertThat(dir.resolve("demo_mod.rs")).exists();
        assertThat(dir.resolve("Makefile")).content().contains("KDIR ?= /lib/modules/$(shell uname -r)/build");
        Rkmod.Result b = Rkmod.jar(KernelIT.RUSTUP_FIRST, "build", dir.toString(), "--kdir", pkg.toString(), "--json");
        assertThat(b.exit()).as(b.out() + b.err()).isZero();
        JsonObject o = json(b);
        assertThat(o.get("rustcCandidate").getAsString()).contains(expectedRustcCandidate);
        assertThat(o.get("llvm").getAsBoolean()).isTrue();
        Path ko = dir.resolve("demo_mod.ko");
        ModInfo info = ModInfo.read(ko);
        assertThat(info.get("name")).contains("demo_mod");
        assertThat(info.get("license")).contains("GPL");
        assertThat(info.get("description")).contains("Demo module");
        assertThat(o.getAsJsonArray("modules").get(0).getAsJsonObject().get("vermagic").getAsString())
                .startsWith(info.get("vermagic").orElseThrow());
    }

    @Test
    void scaffoldAndBuildAgainstTheRelocated61Package() throws Exception {
        newAndBuild(pkg61, "/usr/bin/rustc");
    }

    @Test
    void scaffoldAndBuildAgainstThe612PackageInsideTheTrixieRoot() throws Exception {
        newAndBuild(pkg612, "trixie");
    }

    @Test
    void aProjectForTheWrongGenerationIsExplained() throws Exception {
        Path dir = work.resolve("wrong");
        assertThat(Rkmod.jar(Map.of(), "new", "wrong_gen", "--generation", "6.13", "--dir", dir.toString()).exit()).isZero();
        Rkmod.Result b = Rkmod.jar(KernelIT.RUSTUP_FIRST, "build", dir.toString(), "--kdir", pkg61.toString());
        assertThat(b.exit()).isEqualTo(4);
        assertThat(b.err()).contains("The build's own errors:").contains("Expected byte string")
                .contains("explanation [api.module-macro-syntax]").contains("explanation [api.allocation]")
                .contains("rkmod new NAME --kdir KDIR").doesNotContain("\tat ");
    }

    @Test
    void rmetaFromAnotherCompilerStopsBeforeCompiling() throws Exception {
        Path pkg = work.resolve("foreign-rmeta");
        assertThat(Rkmod.jar(Map.of(), "package", "--kdir", src61.toString(), "--out", pkg.toString(), "--no-verify", "-q")
                .exit()).isZero();
        // a crate compiled by rustup's rustc replaces one of the kernel's
        Path x = work.resolve("x.rs");
        Files.writeString(x, "pub fn f() {}\n");
        Process p = new ProcessBuilder(System.getProperty("user.home") + "/.cargo/bin/rustc", "--emit=metadata",
                "--crate-type=lib", "--crate-name", "compiler_builtins", x.toString(), "-o",
                pkg.resolve("rust/libcompiler_builtins.rmeta").toString()).inheritIO().start();
        assertThat(p.waitFor(2, TimeUnit.MINUTES)).isTrue();
        assertThat(p.exitValue()).isZero();
        Path dir = work.resolve("mod-foreign");
        assertThat(Rkmod.jar(Map.of(), "new", "foreign", "--kdir", pkg.toString(), "--dir", dir.toString()).exit()).isZero();
        Rkmod.Result b = Rkmod.jar(KernelIT.RUSTUP_FIRST, "build", dir.toString(), "--kdir", pkg.toString());
        assertThat(b.exit()).isEqualTo(4);
        assertThat(b.err()).contains("The build would fail").contains("different compilers").contains("rustc.rmeta-mixed")
                .doesNotContain("==> make");
        assertThat(dir.resolve("foreign.ko")).doesNotExist();
    }

    private static void sample(Path pkg, Path srcTree, String sample) throws Exception {
        Path dir = Files.createDirectories(work.resolve("sample-" + pkg.getFileName() + "-" + sample));
        Files.copy(srcTree.resolve("samples/rust/" + sample + ".rs"), dir.resolve(sample + ".rs"));
        Files.writeString(dir.resolve("Kbuild"), "# the kernel's own sample, built out of tree\nobj-m := " + sample + ".o\n");
        Rkmod.Result b = Rkmod.jar(KernelIT.RUSTUP_FIRST, "build", dir.toString(), "--kdir", pkg.toString(), "--json");
        assertThat(b.exit()).as(b.out() + b.err()).isZero();
        assertThat(ModInfo.read(dir.resolve(sample + ".ko")).get("name")).contains(sample);
    }

    @Test
    void theKernelsOwnRustSamplesBuildOutOfTree() throws Exception {
        sample(pkg61, src61, "rust_minimal");
        sample(pkg612, src612, "rust_minimal");
        sample(pkg612, src612, "rust_print");
    }
}
