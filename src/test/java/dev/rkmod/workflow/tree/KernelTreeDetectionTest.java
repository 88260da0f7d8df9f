package dev.rkmod.workflow.tree;

import dev.rkmod.format.RustFixtures;
import dev.rkmod.model.KernelGeneration;
import dev.rkmod.model.RkmodException;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The generation and rustc of synthetic trees made of real rmeta files. */
class KernelTreeDetectionTest {
    @TempDir
    static Path shared;
    static SyntheticTree.Fixtures fixtures;

    @TempDir
    Path tmp;

    @BeforeAll
    static void fixtures() throws Exception {
        fixtures = SyntheticTree.Fixtures.make(shared.resolve("fixtures"));
    }

    @Test
    void theGenerationComesFromTheTreesContents() throws Exception {
        Path t = SyntheticTree.write(tmp.resolve("tree"), fixtures);
        KernelTree tree = KernelTree.open(t);
        assertThat(tree.generation()).isEqualTo(KernelGeneration.G6_1);
        assertThat(tree.crates()).containsExactlyElementsOf(SyntheticTree.CRATES);
        assertThat(tree.missingRustFiles()).isEmpty();
        assertThat(tree.rustcVersion()).isEqualTo(SyntheticTree.RUSTC);
        // build_error decides 6.2 over 6.1 while the target spec is in rust/; the release is only a tie-breaker
        Files.copy(fixtures.rmeta(), t.resolve("rust/libbuild_error.rmeta"));
        assertThat(KernelTree.generation(t, "6.1.0")).contains(KernelGeneration.G6_2);
        Files.delete(t.resolve("include/generated/rustc_cfg"));
        assertThat(KernelTree.open(t).missingRustFiles()).containsExactlyElementsOf(KernelGeneration.RUST_GENERATED);
    }

    @Test
    void aTreeWithoutRustIsAKindOfErrorOfItsOwn() throws Exception {
        Path t = SyntheticTree.write(tmp.resolve("tree"), fixtures);
        Files.writeString(t.resolve(".config"), "CONFIG_64BIT=y\n");
        assertThatThrownBy(() -> KernelTree.open(t)).isInstanceOfSatisfying(RkmodException.class,
                e -> assertThat(e.kind()).isEqualTo(RkmodException.Kind.RUST_DISABLED));
        Files.delete(t.resolve("Module.symvers"));
        assertThatThrownBy(() -> KernelTree.open(t)).isInstanceOfSatisfying(RkmodException.class,
                e -> assertThat(e.kind()).isEqualTo(RkmodException.Kind.GENERAL));
    }

    @Test
    void theRustcMustBeOneAndTheSameEverywhere() throws Exception {
        Path t = SyntheticTree.write(tmp.resolve("tree"), fixtures);
        Files.copy(RustFixtures.rmeta(RustFixtures.RUSTUP_RUSTC, tmp.resolve("rustup")), t.resolve("rust/libkernel.rmeta"),
                StandardCopyOption.REPLACE_EXISTING);
        assertThatThrownBy(() -> KernelTree.open(t).rustcVersion()).isInstanceOf(RkmodException.class)
                .hasMessage("The rmeta files in " + t.toAbsolutePath().normalize().resolve("rust")
                        + " were made by different compilers: {rustc 1.63.0=[liballoc.rmeta, libbindings.rmeta,"
                        + " libcompiler_builtins.rmeta, libcore.rmeta], " + RustFixtures.version(RustFixtures.RUSTUP_RUSTC)
                        + "=[libkernel.rmeta]}");
        RmetaVersions v = KernelTree.open(t).rmetaVersions();
        assertThat(v.mixed()).isTrue();
        assertThat(v.rmeta()).isEmpty();

        Files.copy(fixtures.rmeta(), t.resolve("rust/libkernel.rmeta"), StandardCopyOption.REPLACE_EXISTING);
        Files.writeString(t.resolve(".config"), Files.readString(t.resolve(".config")).replace("1.63.0", "1.63.1"));
        assertThatThrownBy(() -> KernelTree.open(t).rustcVersion())
                .hasMessage("The rmeta files say 'rustc 1.63.0' but CONFIG_RUSTC_VERSION_TEXT is 'rustc 1.63.1'");

        Files.writeString(t.resolve("rust/libcore.rmeta"), "");
        assertThatThrownBy(() -> KernelTree.open(t).rustcVersion()).hasMessageContaining("libcore.rmeta");
        assertThat(KernelTree.open(t).rmetaVersions().unreadable()).extracting(RmetaVersions.Unreadable::crate)
                .containsExactly("core");
    }

    @Test
    void withoutRmetaTheConfigNamesTheRustc() throws Exception {
        Path t = SyntheticTree.write(tmp.resolve("tree"), fixtures);
        for (String c : SyntheticTree.CRATES) {
            Files.delete(t.resolve("rust/lib" + c + ".rmeta"));
        }
        assertThat(KernelTree.open(t).rustcVersion()).isEqualTo(SyntheticTree.RUSTC);
        Files.writeString(t.resolve(".config"), "CONFIG_RUST=y\n");
        assertThatThrownBy(() -> KernelTree.open(t).rustcVersion())
                .hasMessageEndingWith("has no rust/*.rmeta and no CONFIG_RUSTC_VERSION_TEXT");
    }
}
