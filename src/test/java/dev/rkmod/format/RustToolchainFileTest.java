package dev.rkmod.format;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class RustToolchainFileTest {

    @Test
    void pinsTheReleaseAndKeepsTheWholeStringAsAComment() {
        assertThat(RustToolchainFile.format("rustc 1.85.0 (4d91de4e4 2025-02-17) (built from a source tarball)"))
                .isEqualTo("# rustc 1.85.0 (4d91de4e4 2025-02-17) (built from a source tarball)\n[toolchain]\n"
                        + "channel = \"1.85.0\"\n");
        assertThat(RustToolchainFile.format("rustc 1.63.0")).isEqualTo("# rustc 1.63.0\n[toolchain]\nchannel = \"1.63.0\"\n");
    }
}
