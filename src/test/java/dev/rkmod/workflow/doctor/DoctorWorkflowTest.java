package dev.rkmod.workflow.doctor;

import dev.rkmod.format.RustFixtures;
import dev.rkmod.infra.cache.Cache;
import dev.rkmod.infra.event.EventSink;
import dev.rkmod.infra.host.Host;
import dev.rkmod.model.Finding;
import dev.rkmod.workflow.Context;
import dev.rkmod.workflow.tree.SyntheticTree;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Doctor's rules on synthetic trees made of real rmeta files (see {@link SyntheticTree}), on a machine whose PATH
 * holds only the fake compilers a test puts there. Debian's /usr/bin/rustc (1.63.0, as the rmeta files say) is
 * always a candidate, as it is on the machine.
 */
class DoctorWorkflowTest {
    @TempDir
    static Path shared;
    static SyntheticTree.Fixtures fixtures;

    @TempDir
    Path tmp;
    Path bin;
    Context ctx;

    @BeforeAll
    static void fixtures() throws Exception {
        fixtures = SyntheticTree.Fixtures.make(shared.resolve("fixtures"));
    }

    @BeforeEach
    void machine() throws IOException {
        bin = Files.createDirectories(tmp.resolve("bin"));
        Host host = new Host(Path.of("/"), 1000, Map.of("PATH", bin.toString(), "HOME", tmp.resolve("home").toString()));
        ctx = Context.create(host, new Cache(tmp.resolve("cache")), EventSink.NONE);
    }

    /** A program on the test's PATH that prints {@code version} for --version (and fails when it is null). */
    private Path fakeRustc(String name, String version) throws IOException {
        Path p = bin.resolve(name);
        Files.writeString(p, version == null ? "#!/bin/sh\nexit 1\n" : "#!/bin/sh\necho '" + version + "'\n");
        Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwxr-xr-x"));
        return p;
    }

    private Path tree(String... config) throws IOException {
        return SyntheticTree.write(tmp.resolve("tree"), fixtures, config);
    }

    private DoctorWorkflow.Report doctor(Path kdir, Optional<Path> rustc) {
        return new DoctorWorkflow(ctx).run(kdir, rustc);
    }

    private static Finding finding(DoctorWorkflow.Report r, String id) {
        return r.findings().stream().filter(f -> f.id().equals(id)).findFirst()
                .orElseThrow(() -> new AssertionError("no finding " + id + " in " + ids(r)));
    }

    private static List<String> ids(DoctorWorkflow.Report r) {
        return r.findings().stream().map(Finding::id).toList();
    }

    private static List<String> errors(DoctorWorkflow.Report r) {
        return r.findings().stream().filter(f -> f.severity() == Finding.Severity.ERROR).map(Finding::id).toList();
    }

    @Test
    void aHealthyTreeWithTheKernelsRustcHasNoErrors() throws Exception {
        DoctorWorkflow.Report r = doctor(tree(), Optional.of(RustFixtures.DEBIAN_RUSTC));
        assertThat(errors(r)).isEmpty();
        assertThat(r.hasErrors()).isFalse();
        assertThat(r.rustcVersion()).isEqualTo(SyntheticTree.RUSTC);
        assertThat(ids(r)).contains("tree.ok", "rustc.match", "target.ok", "cc.gcc")
                .doesNotContain("rustc.mismatch", "rustc.min-version", "target.path-hash");
        assertThat(finding(r, "tree.ok").what()).isEqualTo("Linux 6.1.0-synthetic, 6.1 module API generation");
        assertThat(finding(r, "rustc.match").what()).isEqualTo("--rustc /usr/bin/rustc matches 'rustc 1.63.0'");
        assertThat(finding(r, "rustc.match").fix()).isEqualTo("RUSTC=/usr/bin/rustc");
        assertThat(r.match().orElseThrow().toolchain().rustc()).isEqualTo("/usr/bin/rustc");
    }

    @Test
    void aRustcOnPathThatDiffersOnlyInItsSuffixIsE0514() throws Exception {
        Path fake = fakeRustc("rustc", "rustc 1.63.0 (fake 2022-08-10)");
        DoctorWorkflow.Report r = doctor(tree(), Optional.empty());
        Finding f = finding(r, "rustc.mismatch");
        assertThat(f.severity()).isEqualTo(Finding.Severity.ERROR);
        assertThat(f.what()).isEqualTo("The rustc on PATH (" + fake + ") prints 'rustc 1.63.0 (fake 2022-08-10)', but the"
                + " kernel was built with 'rustc 1.63.0'");
        assertThat(f.why()).startsWith("Only the suffix differs").contains("E0514");
        assertThat(f.fix()).isEqualTo("Use /usr/bin/rustc: RUSTC=/usr/bin/rustc");
    }

    @Test
    void anotherReleaseOnPathCannotLoadTheCustomTarget() throws Exception {
        fakeRustc("rustc", "rustc 1.95.0 (fake 2026-01-01)");
        Finding f = finding(doctor(tree(), Optional.empty()), "rustc.mismatch");
        assertThat(f.why()).contains("custom targets are unstable").doesNotContain("Only the suffix");
    }

    @Test
    void theExplicitRustcIsTheOneJudgedNotPath() throws Exception {
        fakeRustc("rustc", SyntheticTree.RUSTC);
        Path broken = fakeRustc("broken-rustc", null);
        Path t = tree();
        DoctorWorkflow.Report r = doctor(t, Optional.of(broken));
        Finding f = finding(r, "rustc.mismatch");
        assertThat(f.what()).startsWith("The --rustc " + broken + " prints nothing (it does not run)");
        // the matching compiler is the first candidate that prints the kernel's string: here the one on PATH
        assertThat(finding(r, "rustc.match").what()).startsWith("rustc on PATH (" + bin.resolve("rustc") + ")");
        // without --rustc, the PATH rustc is the one used, and it matches
        assertThat(ids(doctor(t, Optional.empty()))).doesNotContain("rustc.mismatch");
    }

    @Test
    void missingPiecesOfTheRustSetNameTheirErrors() throws Exception {
        Path t = tree();
        Files.delete(t.resolve("rust/libcore.rmeta"));
        Files.delete(t.resolve("rust/libmacros.so"));
        Files.delete(t.resolve("include/generated/rustc_cfg"));
        DoctorWorkflow.Report r = doctor(t, Optional.of(RustFixtures.DEBIAN_RUSTC));
        assertThat(errors(r)).containsExactly("rust.missing-rmeta", "rust.missing-macros", "rust.missing-generated");
        assertThat(finding(r, "rust.missing-rmeta").why()).contains("E0463: can't find crate for `core`");
        assertThat(finding(r, "rust.missing-generated").why())
                .isEqualTo("kbuild passes its cfg flags to rustc; 6.13 and later refuse an M= build without it");
    }

    @Test
    void aFileTheKernelCratesMacrosIncludeAndTheRustProbeAreNamedWhenMissing() throws Exception {
        Path t = tree();
        dev.rkmod.workflow.tree.TreeFixture.includeFromObjtree(t, "kernel", "rust/kernel/generated_arch_warn_asm.rs");
        Files.delete(t.resolve("scripts/rust_is_available.sh"));
        DoctorWorkflow.Report r = doctor(t, Optional.of(RustFixtures.DEBIAN_RUSTC));
        // warnings: a module that uses none of those macros still builds, and the build explains one that does
        assertThat(errors(r)).isEmpty();
        assertThat(ids(r)).contains("rust.missing-macro-include", "rust.missing-probe");
        assertThat(finding(r, "rust.missing-probe").severity()).isEqualTo(Finding.Severity.WARNING);
        assertThat(finding(r, "rust.missing-macro-include").what()).isEqualTo("rust/kernel/generated_arch_warn_asm.rs is missing");
        assertThat(finding(r, "rust.missing-macro-include").why()).contains("kernel::warn_on!")
                .contains("couldn't read rust/kernel/generated_arch_warn_asm.rs");
        assertThat(finding(r, "rust.missing-probe").why()).contains("DKMS");
        dev.rkmod.workflow.tree.TreeFixture.write(t, "rust/kernel/generated_arch_warn_asm.rs", "// asm\n");
        dev.rkmod.workflow.tree.TreeFixture.write(t, "scripts/rust_is_available.sh", "#!/bin/sh\n");
        assertThat(ids(doctor(t, Optional.of(RustFixtures.DEBIAN_RUSTC)))).doesNotContain("rust.missing-macro-include",
                "rust.missing-probe");
    }

    @Test
    void rmetaFromTwoCompilersAreMixed() throws Exception {
        Path t = tree();
        Path other = RustFixtures.rmeta(RustFixtures.RUSTUP_RUSTC, tmp.resolve("rustup"));
        Files.copy(other, t.resolve("rust/libkernel.rmeta"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        DoctorWorkflow.Report r = doctor(t, Optional.of(RustFixtures.DEBIAN_RUSTC));
        Finding f = finding(r, "rustc.rmeta-mixed");
        assertThat(f.what()).startsWith("The rmeta files were made by different compilers: {rustc 1.63.0=[liballoc,"
                + " libbindings, libcompiler_builtins, libcore], " + RustFixtures.version(RustFixtures.RUSTUP_RUSTC)
                + "=[libkernel]}");
        assertThat(r.rustcVersion()).isNull();
        assertThat(ids(r)).doesNotContain("rustc.match", "rustc.none", "rustc.mismatch");
    }

    @Test
    void theConfigMustNameTheSameCompilerAsTheRmeta() throws Exception {
        Path t = tree();
        Files.writeString(t.resolve(".config"), Files.readString(t.resolve(".config"))
                .replace("\"rustc 1.63.0\"", "\"rustc 1.63.0 (other build)\""));
        Finding f = finding(doctor(t, Optional.of(RustFixtures.DEBIAN_RUSTC)), "rustc.config-mismatch");
        assertThat(f.what()).isEqualTo("rmeta files say 'rustc 1.63.0', CONFIG_RUSTC_VERSION_TEXT says"
                + " 'rustc 1.63.0 (other build)'");
    }

    @Test
    void aCorruptRmetaIsAFinding() throws Exception {
        Path t = tree();
        Files.writeString(t.resolve("rust/libbindings.rmeta"), "rust but not really");
        DoctorWorkflow.Report r = doctor(t, Optional.of(RustFixtures.DEBIAN_RUSTC));
        assertThat(finding(r, "rust.rmeta-corrupt").what()).contains("libbindings.rmeta");
        // the other crates still name the compiler
        assertThat(r.rustcVersion()).isEqualTo(SyntheticTree.RUSTC);
    }

    @Test
    void anOldRustcHashesTheTargetPathAndIsBelowTheGenerationsMinimum() throws Exception {
        Path t = tree();
        for (String c : SyntheticTree.CRATES) {
            SyntheticTree.stamp(t.resolve("rust/lib" + c + ".rmeta"), "rustc 1.61.0");
        }
        Files.writeString(t.resolve(".config"), Files.readString(t.resolve(".config")).replace("1.63.0", "1.61.0"));
        DoctorWorkflow.Report r = doctor(t, Optional.empty());
        assertThat(r.rustcVersion()).isEqualTo("rustc 1.61.0");
        Finding hash = finding(r, "target.path-hash");
        assertThat(hash.severity()).isEqualTo(Finding.Severity.WARNING);
        assertThat(hash.what()).isEqualTo("The kernel was built with rustc 1.61.0, which hashes the target.json path");
        assertThat(hash.why()).isEqualTo("rustc up to 1.62 names the target by its path, so a moved tree fails with E0461"
                + " (the seed's case)");
        assertThat(hash.fix()).isEqualTo("Build the module at the tree's original path, or rebuild the kernel with rustc"
                + " 1.63 or later");
        Finding min = finding(r, "rustc.min-version");
        assertThat(min.what()).isEqualTo("'rustc 1.61.0' is older than the 1.62.0 this kernel generation expects");
        assertThat(finding(r, "rustc.none").why()).contains("/usr/bin/rustc: rustc 1.63.0");
    }

    @Test
    void aTreeWithoutRustIsItsOwnFindingNotAnUnusableTree() throws Exception {
        Path t = tree();
        Files.writeString(t.resolve(".config"), "CONFIG_64BIT=y\n# CONFIG_RUST is not set\n");
        DoctorWorkflow.Report r = doctor(t, Optional.empty());
        assertThat(ids(r)).containsExactly("config.rust-off");
        assertThat(r.tree()).isEmpty();
        assertThat(ids(doctor(Files.createDirectories(tmp.resolve("empty")), Optional.empty())))
                .containsExactly("tree.unusable");
    }

    @Test
    void aClangKernelNeedsTheLlvmTools() throws Exception {
        // PATH has none of them (Host.which looks in /usr/sbin and /sbin too, where they are not)
        DoctorWorkflow.Report r = doctor(tree("CONFIG_CC_IS_CLANG=y", "CONFIG_RUST_INLINE_HELPERS=y"),
                Optional.of(RustFixtures.DEBIAN_RUSTC));
        assertThat(errors(r)).containsExactly("cc.missing-clang", "cc.missing-ld.lld", "cc.missing-llvm-link");
        assertThat(ids(r)).contains("cc.llvm", "bindgen.missing").doesNotContain("cc.gcc");
    }

    @Test
    void distroHeadersWithoutTheRustSetAreOneGapWithTheCommandThatFillsIt() throws Exception {
        Path t = tree("CONFIG_CC_VERSION_TEXT=\"gcc (Debian 12.2.0-14) 12.2.0\"");
        for (String c : SyntheticTree.CRATES) {
            Files.delete(t.resolve("rust/lib" + c + ".rmeta"));
        }
        DoctorWorkflow.Report r = doctor(t, Optional.empty());
        assertThat(errors(r)).containsExactly("rust.distro-headers");
        Finding gap = finding(r, "rust.distro-headers");
        assertThat(gap.what()).startsWith("These distro headers of Linux 6.1.0-synthetic lack the Rust metadata"
                + " (rust/liballoc.rmeta, rust/libbindings.rmeta, rust/libcompiler_builtins.rmeta, rust/libcore.rmeta and 1"
                + " more)");
        assertThat(gap.fix()).isEqualTo("Run: rkmod headers complete --kdir " + t.toAbsolutePath().normalize()
                + " --out linux-6.1.0-synthetic-rust");
        assertThat(finding(r, "tools.rustc").why()).isEqualTo("found: /usr/bin/rustc");
        assertThat(ids(r)).contains("tools.cc").doesNotContain("tools.bindgen");
        assertThat(finding(r, "tree.ok").why()).startsWith("Decided by the version");
    }
}
