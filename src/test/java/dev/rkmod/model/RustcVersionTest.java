package dev.rkmod.model;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class RustcVersionTest {

    @Test
    void theReleaseIsTheSecondWordOrTheWholeBareRelease() {
        RustcVersion trixie = RustcVersion.parse("rustc 1.85.0 (4d91de4e4 2025-02-17) (built from a source tarball)");
        assertThat(trixie.release()).isEqualTo("1.85.0");
        assertThat(trixie.major()).isEqualTo(1);
        assertThat(trixie.minor()).isEqualTo(85);
        assertThat(trixie.patch()).isZero();
        assertThat(trixie).hasToString("rustc 1.85.0 (4d91de4e4 2025-02-17) (built from a source tarball)");
        assertThat(RustcVersion.parse("1.62.0").release()).isEqualTo("1.62.0");
        assertThat(RustcVersion.parse("rustc 1.78.0-nightly (abc 2024-02-01)").patch()).isZero();
        assertThat(RustcVersion.parse("rustc 1.68.2").patch()).isEqualTo(2);
    }

    @Test
    void releasesCompareByNumberAndSuffixesDoNotCount() {
        RustcVersion v163 = RustcVersion.parse("rustc 1.63.0");
        assertThat(v163.isOlderThan(RustcVersion.parse("1.63.0"))).isFalse();
        assertThat(RustcVersion.parse("rustc 1.62.1").isOlderThan(v163)).isTrue();
        // 1.100 is newer than 1.63, which a string comparison gets wrong
        assertThat(RustcVersion.parse("rustc 1.100.0").compareRelease(v163)).isPositive();
        assertThat(RustcVersion.parse("rustc 1.9.0").isOlderThan(v163)).isTrue();
        assertThat(RustcVersion.parse("rustc 1.63.0 (fake)").compareRelease(v163)).isZero();
    }

    @Test
    void equalityIsTheWholeStringAsRustcComparesIt() {
        RustcVersion a = RustcVersion.parse("rustc 1.63.0");
        RustcVersion b = RustcVersion.parse("rustc 1.63.0 (built from a source tarball)");
        assertThat(a).isNotEqualTo(b);
        assertThat(a.sameRelease(b)).isTrue();
        assertThat(a).isEqualTo(RustcVersion.parse("rustc 1.63.0"));
        assertThat(a.sameRelease(RustcVersion.parse("rustc 1.63.1"))).isFalse();
    }
}
