package dev.rkmod.model;

import org.junit.jupiter.api.Test;

import java.util.Optional;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

class KernelGenerationTest {

    @Test
    void detectsFromTheTreeBeforeTheVersion() {
        // 6.12.117 from Debian trixie has the 6.13 crate set (ffi, no alloc)
        assertThat(KernelGeneration.detect(Set.of("core", "compiler_builtins", "ffi", "bindings", "uapi", "build_error", "kernel"),
                false, "6.12.117")).contains(KernelGeneration.G6_13);
        assertThat(KernelGeneration.detect(Set.of("core", "compiler_builtins", "alloc", "bindings", "kernel"), true, "6.1.192"))
                .contains(KernelGeneration.G6_1);
        assertThat(KernelGeneration.detect(Set.of("core", "alloc", "build_error", "kernel"), true, null))
                .contains(KernelGeneration.G6_2);
        assertThat(KernelGeneration.detect(Set.of("core", "alloc", "uapi", "kernel"), false, "6.6.50"))
                .contains(KernelGeneration.G6_3);
        assertThat(KernelGeneration.detect(Set.of("core", "ffi", "pin_init", "kernel"), false, "7.1.3"))
                .contains(KernelGeneration.G6_19);
        assertThat(KernelGeneration.detect(Set.of("core", "ffi", "pin_init", "kernel"), false, "6.16.2"))
                .contains(KernelGeneration.G6_15);
        // Debian sid's 7.2.13: the zerocopy crate decides, even without a version
        assertThat(KernelGeneration.detect(Set.of("core", "ffi", "pin_init", "zerocopy", "kernel"), false, null))
                .contains(KernelGeneration.G7);
        // distro headers carry no crates at all: the version decides
        assertThat(KernelGeneration.detect(Set.of(), false, "7.2.13+deb14-amd64")).contains(KernelGeneration.G7);
        assertThat(KernelGeneration.detect(Set.of(), false, "6.19.1")).contains(KernelGeneration.G6_19);
        assertThat(KernelGeneration.detect(Set.of(), false, "6.12.5")).contains(KernelGeneration.G6_10);
    }

    @Test
    void procMacrosFollowTheCrateSet() {
        assertThat(KernelGeneration.G6_1.procMacros()).containsExactly("macros");
        assertThat(KernelGeneration.G6_15.procMacros()).containsExactly("macros", "pin_init_internal");
        assertThat(KernelGeneration.G6_19.procMacros()).containsExactly("macros", "pin_init_internal");
        assertThat(KernelGeneration.G7.procMacros()).containsExactly("macros", "pin_init_internal", "zerocopy_derive");
        assertThat(KernelGeneration.G7.id()).isEqualTo("7.2");
    }

    @Test
    void targetSpecLocationByGeneration() {
        assertThat(KernelGeneration.G6_1.targetSpec()).isEqualTo("rust/target.json");
        assertThat(KernelGeneration.G6_13.targetSpec()).isEqualTo("scripts/target.json");
        assertThat(KernelGeneration.forVersion("5.15.0")).isEmpty();
    }

    @Test
    void profilesByKernelVersion() {
        assertThat(Profile.forKernelVersion("6.12.117")).contains(Profile.LINUX_6_12);
        assertThat(Profile.forKernelVersion("6.1.192")).contains(Profile.LINUX_6_1);
        assertThat(Profile.forKernelVersion("6.6.1")).isEmpty();
        assertThat(Profile.forKernelVersion("7.2.13+deb14-amd64")).isEmpty();
        assertThat(Profile.forDistro(Distro.DEBIAN_SID)).contains(Profile.DEBIAN_SID);
        assertThat(Profile.DEBIAN_SID.buildsKernels()).isFalse();
        assertThat(Profile.DEBIAN_SID.root().orElseThrow().packages()).contains("linux-headers-amd64", "linux-source",
                "openssl", "libclang-dev");
    }

    @Test
    void generatedFilesAreRequiredByTheStrictRowsOnly() {
        assertThat(KernelGeneration.G6_10.requiredGenerated()).isEmpty();
        assertThat(KernelGeneration.G6_1.requiredGenerated()).isEmpty();
        for (KernelGeneration g : new KernelGeneration[] {KernelGeneration.G6_13, KernelGeneration.G6_15,
                KernelGeneration.G6_19, KernelGeneration.G7}) {
            assertThat(g.requiredGenerated()).as(g.id())
                    .containsExactly("include/generated/autoconf.h", "include/config/auto.conf");
        }
        assertThat(KernelGeneration.firstStrict()).isEqualTo(KernelGeneration.G6_13);
        assertThat(KernelGeneration.RUST_GENERATED).containsExactly("include/generated/rustc_cfg");
    }

    @Test
    void rowsByIdAndTheirRustcMinimum() {
        assertThat(KernelGeneration.byId("6.15")).contains(KernelGeneration.G6_15);
        assertThat(KernelGeneration.byId("7.2")).contains(KernelGeneration.G7);
        assertThat(KernelGeneration.byId("6.14")).isEmpty();
        assertThat(KernelGeneration.G6_3.minRustc()).isEqualTo(RustcVersion.parse("1.68.2"));
        assertThat(KernelGeneration.G7.minRustc().isOlderThan(KernelGeneration.G6_19.minRustc())).isFalse();
        // rustc 1.62 (the 6.1 minimum) still names a target by its path
        assertThat(KernelGeneration.G6_1.minRustc().isOlderThan(KernelGeneration.TARGET_BY_CONTENTS)).isTrue();
        assertThat(KernelGeneration.G6_1.targetSpec()).isEqualTo(KernelGeneration.RUST_TARGET_SPEC);
    }

    /** What a new row gets without a new rule: its own crate set, target spec and a release in its range find it. */
    @Test
    void everyRowIsDetectedFromItsOwnTreeWithoutARuleOfItsOwn() {
        for (KernelGeneration g : KernelGeneration.values()) {
            boolean rustTarget = g.targetSpec().equals(KernelGeneration.RUST_TARGET_SPEC);
            String release = g.id() + ".1";
            assertThat(KernelGeneration.detect(g.crates(), rustTarget, release)).as(g.id()).contains(g);
            // a tree that lacks one crate is still its row (doctor then names the missing file), unless what is left
            // is exactly an older row's set: the crate that tells them apart is the one missing
            for (String c : g.crates()) {
                Set<String> less = new java.util.TreeSet<>(g.crates());
                less.remove(c);
                Optional<KernelGeneration> older = java.util.Arrays.stream(KernelGeneration.values())
                        .filter(o -> o.ordinal() < g.ordinal() && o.crates().equals(less))
                        .filter(o -> o.targetSpec().equals(g.targetSpec())).reduce((x, y) -> y);
                assertThat(KernelGeneration.detect(less, rustTarget, release)).as(g.id() + " without " + c)
                        .contains(older.orElse(g));
            }
        }
        // rows that share a crate set: the release decides, and without one the newest
        assertThat(KernelGeneration.detect(KernelGeneration.G6_3.crates(), false, null)).contains(KernelGeneration.G6_10);
        // an unknown extra crate does not hide the row
        Set<String> more = new java.util.TreeSet<>(KernelGeneration.G7.crates());
        more.add("some_future_crate");
        assertThat(KernelGeneration.detect(more, false, "7.9.1")).contains(KernelGeneration.G7);
        // crates no row has: the release decides
        assertThat(KernelGeneration.detect(Set.of("something_else"), false, "6.13.2")).contains(KernelGeneration.G6_13);
    }
}
