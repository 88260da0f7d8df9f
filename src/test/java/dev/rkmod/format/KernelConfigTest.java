package dev.rkmod.format;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class KernelConfigTest {
    @TempDir
    Path tmp;

    private static final String CONFIG = """
            #
            # Automatically generated file; DO NOT EDIT.
            # Linux/x86 6.1.192 Kernel Configuration
            #
            CONFIG_CC_VERSION_TEXT="Debian clang version 14.0.6"
            CONFIG_CC_IS_CLANG=y
            CONFIG_X86_64=y
            CONFIG_X86=y
            CONFIG_MODVERSIONS=y
            CONFIG_SAMPLE_RUST_MINIMAL=m
            CONFIG_RUSTC_VERSION=108501
            CONFIG_RUSTC_VERSION_TEXT="rustc 1.85.1 (4eb161250 2025-03-15) (built from a source tarball)"
            # CONFIG_RUST is not set
            CONFIG_LOG_BUF_SHIFT=17
            """;

    @Test
    void parsesValuesStringsAndUnset() {
        KernelConfig c = KernelConfig.parse(CONFIG);
        assertThat(c.value("CC_IS_CLANG")).isEqualTo("y");
        assertThat(c.value("CONFIG_SAMPLE_RUST_MINIMAL")).isEqualTo("m");
        assertThat(c.isEnabled("SAMPLE_RUST_MINIMAL")).isTrue();
        assertThat(c.value("RUST")).isEqualTo("n");
        assertThat(c.raw("RUST")).contains("n");
        assertThat(c.raw("NOT_THERE")).isEmpty();
        assertThat(c.value("NOT_THERE")).isEqualTo("n");
        assertThat(c.string("RUSTC_VERSION_TEXT")).contains("rustc 1.85.1 (4eb161250 2025-03-15) (built from a source tarball)");
        assertThat(c.headerArch()).contains("x86");
        assertThat(c.headerVersion()).contains("6.1.192");
        assertThat(c.arch()).contains("x86");
    }

    @Test
    void oddLinesParseAsTheRegularExpressionsSayEvenOffTheFastPath() {
        KernelConfig c = KernelConfig.parse(String.join("\n",
                "  CONFIG_INDENTED=y  ",
                "CONFIG_=y",
                "CONFIG_HAS-DASH=y",
                "CONFIG_EMPTY=",
                "CONFIG_EQ=a=b",
                "CONFIG_SEP=a\u2028b",
                "# CONFIG_ is not set",
                "# CONFIG_OFF is not set",
                "# CONFIG_OFF2 is not set really",
                "#  CONFIG_SPACED is not set",
                "CONFIG_SPACE =y",
                "# Linux/x86 6.1.192 Kernel Configuration",
                "# Linux/arm64 6.12.0 Kernel Configuration"));
        assertThat(c.values()).containsExactly(Map.entry("INDENTED", "y"), Map.entry("EMPTY", ""), Map.entry("EQ", "a=b"),
                Map.entry("OFF", "n"));
        assertThat(c.headerArch()).contains("x86");
    }

    @Test
    void archFromSymbols() {
        assertThat(KernelConfig.parse("CONFIG_ARM64=y\nCONFIG_64BIT=y\n").arch()).contains("arm64");
        assertThat(KernelConfig.parse("# Linux/riscv 6.12.0 Kernel Configuration\nCONFIG_RISCV=y\n").arch()).contains("riscv");
        assertThat(KernelConfig.parse("CONFIG_FOO=y\n").arch()).isEmpty();
    }

    @Test
    void withFormatAndDiff() {
        KernelConfig base = KernelConfig.parse(CONFIG);
        KernelConfig changed = base.with(Map.of("CONFIG_RUST", "y", "MODVERSIONS", "n", "NEW_ONE", "y"));
        KernelConfig round = KernelConfig.parse(changed.format());
        assertThat(round.value("RUST")).isEqualTo("y");
        assertThat(round.format()).contains("# CONFIG_MODVERSIONS is not set\n").contains("CONFIG_NEW_ONE=y\n");
        assertThat(base.diff(round)).containsOnlyKeys("RUST", "MODVERSIONS", "NEW_ONE");
        assertThat(base.diff(round).get("MODVERSIONS")).isEqualTo(new KernelConfig.Change("MODVERSIONS", "y", "n"));
    }

    @Test
    void readsXzConfigs() throws Exception {
        Path f = tmp.resolve("config.amd64.xz");
        try (OutputStream out = new org.tukaani.xz.XZOutputStream(Files.newOutputStream(f), new org.tukaani.xz.LZMA2Options())) {
            out.write(CONFIG.getBytes(StandardCharsets.UTF_8));
        }
        assertThat(KernelConfig.read(f).value("MODVERSIONS")).isEqualTo("y");
        Path bad = tmp.resolve("bad.xz");
        Files.write(bad, new byte[] {(byte) 0xFD, '7', 'z', 'X', 'Z', 0, 1, 2, 3});
        assertThatThrownBy(() -> KernelConfig.read(bad)).isInstanceOf(java.io.IOException.class);
    }

    @Test
    void kernelMakefileVersion() {
        assertThat(KernelMakefile.parse("# SPDX\nVERSION = 6\nPATCHLEVEL = 12\nSUBLEVEL = 117\nEXTRAVERSION =\nNAME = Baby\n"))
                .hasValueSatisfying(m -> assertThat(m.kernelVersion()).isEqualTo("6.12.117"));
        assertThat(KernelMakefile.parse("all:\n\techo hi\n")).isEmpty();
    }
}
