package dev.rkmod.workflow.tree;

import dev.rkmod.format.HeadersManifest;
import dev.rkmod.format.KernelManifest;
import dev.rkmod.format.PackageManifest;
import dev.rkmod.model.KernelGeneration;
import dev.rkmod.model.RkmodException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** A tree is opened once: a manifest that holds is read, one that does not is set aside for the files. */
class KernelTreeTest {
    @TempDir
    Path dir;

    private void kernelManifest(KernelManifest m) throws Exception {
        Files.writeString(dir.resolve(KernelManifest.FILE), m.toJson());
    }

    @Test
    void withoutAManifestTheFactsAreDerivedFromTheFiles() throws Exception {
        TreeFixture.tree(dir, TreeFixture.RUSTC);
        KernelTree t = KernelTree.open(dir);
        assertThat(t.recorded()).isEmpty();
        assertThat(t.setAside()).isEmpty();
        assertThat(t.release()).isEqualTo(TreeFixture.RELEASE);
        assertThat(t.generation()).isEqualTo(KernelGeneration.G6_1);
        assertThat(t.rustcVersion()).isEqualTo(TreeFixture.RUSTC);
        assertThat(t.crates()).containsExactlyInAnyOrderElementsOf(TreeFixture.CRATES);
    }

    @Test
    void aKernelManifestThatHoldsIsReadNotDerived() throws Exception {
        TreeFixture.tree(dir, TreeFixture.RUSTC);
        kernelManifest(TreeFixture.kernelManifest(dir).toolchainRoot("/roots/bookworm").build());
        // a crate no check looks at is unreadable: only deriving the rustc would notice
        Files.write(dir.resolve("rust/libkernel.rmeta"), new byte[] {1, 2, 3});
        KernelTree t = KernelTree.open(dir);
        assertThat(t.setAside()).isEmpty();
        assertThat(t.recorded()).hasValueSatisfying(r -> {
            assertThat(r.file()).isEqualTo(KernelManifest.FILE);
            assertThat(r.toolchainRoot()).isEqualTo("/roots/bookworm");
            assertThat(r.generation()).contains(KernelGeneration.G6_1);
        });
        assertThat(t.rustcVersion()).isEqualTo(TreeFixture.RUSTC);

        Files.delete(dir.resolve(KernelManifest.FILE));
        assertThatThrownBy(() -> KernelTree.open(dir).rustcVersion()).isInstanceOf(RkmodException.class)
                .hasMessageContaining("libkernel.rmeta");
    }

    /** The manifest says one rustc, the rmeta files another: the files win, and the tree says why. */
    @Test
    void aManifestThatRecordsAnotherRustcIsSetAsideForTheFiles() throws Exception {
        TreeFixture.tree(dir, TreeFixture.RUSTC);
        kernelManifest(TreeFixture.kernelManifest(dir).rustc("rustc 1.99.0").toolchainRoot("/roots/x").build());
        KernelTree t = KernelTree.open(dir);
        assertThat(t.recorded()).isEmpty();
        assertThat(t.rustcVersion()).isEqualTo(TreeFixture.RUSTC);
        assertThat(t.setAside()).hasValueSatisfying(w -> assertThat(w)
                .startsWith(KernelManifest.FILE + " in " + dir + " does not match the tree: ")
                .contains("it records 'rustc 1.99.0' but rust/libcore.rmeta was made by 'rustc 1.63.0'")
                .endsWith("rkmod derives the facts from the tree's files instead"));
    }

    @Test
    void anotherReleaseOrAChangedConfigIsSetAside() throws Exception {
        TreeFixture.tree(dir, TreeFixture.RUSTC);
        kernelManifest(TreeFixture.kernelManifest(dir).release("6.1.1").build());
        assertThat(KernelTree.open(dir).setAside()).hasValueSatisfying(w -> assertThat(w)
                .contains("it records Linux 6.1.1 but include/config/kernel.release says 6.1.192"));

        kernelManifest(TreeFixture.kernelManifest(dir).build());
        assertThat(KernelTree.open(dir).recorded()).isPresent();
        Files.writeString(dir.resolve(".config"), "CONFIG_MODVERSIONS=y\n", java.nio.file.StandardOpenOption.APPEND);
        KernelTree changed = KernelTree.open(dir);
        assertThat(changed.recorded()).isEmpty();
        assertThat(changed.setAside()).hasValueSatisfying(w -> assertThat(w).contains(".config changed since it was recorded"));
    }

    @Test
    void anUnknownRecordedGenerationIsDetected() throws Exception {
        TreeFixture.tree(dir, TreeFixture.RUSTC);
        kernelManifest(TreeFixture.kernelManifest(dir).generation("unknown").build());
        KernelTree t = KernelTree.open(dir);
        assertThat(t.recorded()).isPresent();
        assertThat(t.generation()).isEqualTo(KernelGeneration.G6_1);
    }

    @Test
    void aPackageManifestIsCheckedAgainstTheSizesOfTheRustSet() throws Exception {
        TreeFixture.tree(dir, TreeFixture.RUSTC);
        Files.writeString(dir.resolve(PackageManifest.FILE), TreeFixture.packageManifest(dir, TreeFixture.RUSTC).toJson());
        KernelTree ok = KernelTree.open(dir);
        assertThat(ok.recorded()).hasValueSatisfying(r -> assertThat(r.file()).isEqualTo(PackageManifest.FILE));
        assertThat(ok.setAside()).isEmpty();

        // a crate of another compiler replaces one of the package's (the core crate stays)
        Files.write(dir.resolve("rust/libcompiler_builtins.rmeta"), TreeFixture.rmeta("rustc 1.95.0 (59807616e 2026-04-14)", 7));
        Files.write(dir.resolve("rust/libextra.rmeta"), TreeFixture.rmeta(TreeFixture.RUSTC, 1));
        KernelTree mixed = KernelTree.open(dir);
        assertThat(mixed.recorded()).isEmpty();
        assertThat(mixed.setAside()).hasValueSatisfying(w -> assertThat(w)
                .contains("rust/libcompiler_builtins.rmeta has 56 bytes, not the recorded 196")
                .contains("rust/libextra.rmeta is not recorded"));
        // derived from the files, the mix is the error it always was
        assertThatThrownBy(mixed::rustcVersion).hasMessageContaining("were made by different compilers");

        Files.delete(dir.resolve("rust/libcore.rmeta"));
        assertThat(KernelTree.open(dir).setAside()).hasValueSatisfying(w -> assertThat(w).contains("rust/libcore.rmeta is missing"));
    }

    @Test
    void aHeadersManifestIsCheckedAgainstTheConfigsRustcText() throws Exception {
        TreeFixture.tree(dir, TreeFixture.RUSTC);
        TreeFixture.write(dir, ".config", "CONFIG_RUST=y\nCONFIG_X86=y\nCONFIG_RUSTC_VERSION_TEXT=\"" + TreeFixture.RUSTC + "\"\n");
        HeadersManifest h = new HeadersManifest(1, "debian-sid", TreeFixture.RELEASE, null, null, null, null,
                "rustc 1.64.0", null, null, true, "/roots/sid", List.of(), List.of(), 0, 0, null, null);
        Files.writeString(dir.resolve(HeadersManifest.FILE), h.toJson());
        assertThat(KernelTree.open(dir).setAside()).hasValueSatisfying(w -> assertThat(w)
                .contains("it records 'rustc 1.64.0' but CONFIG_RUSTC_VERSION_TEXT is 'rustc 1.63.0'")
                .contains("it records 'rustc 1.64.0' but rust/libcore.rmeta was made by 'rustc 1.63.0'"));

        Files.writeString(dir.resolve(HeadersManifest.FILE), h.toJson().replace("rustc 1.64.0", TreeFixture.RUSTC));
        KernelTree t = KernelTree.open(dir);
        assertThat(t.recorded()).hasValueSatisfying(r -> {
            assertThat(r.file()).isEqualTo(HeadersManifest.FILE);
            assertThat(r.generation()).isEmpty();
            assertThat(r.toolchainRoot()).isEqualTo("/roots/sid");
        });
        assertThat(t.generation()).isEqualTo(KernelGeneration.G6_1);
    }

    @Test
    void anUnreadableManifestIsSetAside() throws Exception {
        TreeFixture.tree(dir, TreeFixture.RUSTC);
        Files.writeString(dir.resolve(KernelManifest.FILE), "{ not json");
        KernelTree t = KernelTree.open(dir);
        assertThat(t.recorded()).isEmpty();
        assertThat(t.setAside()).contains(KernelManifest.FILE + " in " + dir
                + " cannot be read; rkmod derives the facts from the tree's files instead");
        assertThat(t.rustcVersion()).isEqualTo(TreeFixture.RUSTC);
    }

    @Test
    void anyConfiguredTreeHasAConfigAndARelease() throws Exception {
        TreeFixture.write(dir, ".config", "# CONFIG_RUST is not set\nCONFIG_SMP=y\n");
        TreeFixture.write(dir, "include/config/kernel.release", "6.1.0-57-amd64\n");
        KernelTree.Configured c = KernelTree.configured(dir);
        assertThat(c.release()).isEqualTo("6.1.0-57-amd64");
        assertThat(c.config().isEnabled("SMP")).isTrue();
        assertThatThrownBy(() -> KernelTree.open(dir)).hasMessageContaining("is not a built kernel tree");
    }
}
