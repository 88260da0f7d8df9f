package dev.rkmod.format;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class KconfigDependenciesTest {
    /** The shape of 6.12's init/Kconfig entry for RUST. */
    private static final String KCONFIG = """
            config RUST_IS_AVAILABLE
            	def_bool $(success,$(srctree)/scripts/rust_is_available.sh)

            config RUST
            	bool "Rust support"
            	depends on HAVE_RUST
            	depends on RUST_IS_AVAILABLE
            	depends on !MODVERSIONS
            	depends on !GCC_PLUGIN_RANDSTRUCT
            	depends on !RANDSTRUCT
            	depends on !DEBUG_INFO_BTF || PAHOLE_HAS_LANG_EXCLUDE
            	depends on !CFI_CLANG || RUSTC_VERSION >= 107900 && HAVE_CFI_ICALL_NORMALIZE_INTEGERS
            	select CFI_ICALL_NORMALIZE_INTEGERS if CFI_CLANG
            	depends on !CALL_PADDING || RUSTC_VERSION >= 108100
            	depends on !KASAN_SW_TAGS
            	depends on !(MITIGATION_RETHUNK && KASAN) || RUSTC_VERSION >= 108300
            	help
            	  Enables Rust support in the kernel.
            	  depends on NOT_A_DEPENDENCY

            config RUSTC_VERSION_TEXT
            	string
            """;

    @Test
    void readsTheDependsOnLinesOfOneSymbol() {
        KconfigDependencies d = KconfigDependencies.parse(KCONFIG, "RUST").orElseThrow();
        assertThat(d.clauses()).extracting(KconfigDependencies.Clause::expression).containsExactly(
                "HAVE_RUST", "RUST_IS_AVAILABLE", "!MODVERSIONS", "!GCC_PLUGIN_RANDSTRUCT", "!RANDSTRUCT",
                "!DEBUG_INFO_BTF || PAHOLE_HAS_LANG_EXCLUDE",
                "!CFI_CLANG || RUSTC_VERSION >= 107900 && HAVE_CFI_ICALL_NORMALIZE_INTEGERS",
                "!CALL_PADDING || RUSTC_VERSION >= 108100", "!KASAN_SW_TAGS",
                "!(MITIGATION_RETHUNK && KASAN) || RUSTC_VERSION >= 108300");
        assertThat(KconfigDependencies.parse(KCONFIG, "NOPE")).isEmpty();
    }

    @Test
    void aDistroLikeConfigIsBlockedByModversionsAndBtf() {
        KconfigDependencies d = KconfigDependencies.parse(KCONFIG, "RUST").orElseThrow();
        KernelConfig c = KernelConfig.parse("""
                CONFIG_HAVE_RUST=y
                CONFIG_RUST_IS_AVAILABLE=y
                CONFIG_MODVERSIONS=y
                CONFIG_DEBUG_INFO_BTF=y
                CONFIG_CALL_PADDING=y
                CONFIG_RUSTC_VERSION=108501
                CONFIG_MITIGATION_RETHUNK=y
                """);
        assertThat(d.unmet(c)).extracting(KconfigDependencies.Clause::expression)
                .containsExactly("!MODVERSIONS", "!DEBUG_INFO_BTF || PAHOLE_HAS_LANG_EXCLUDE");
        assertThat(d.unmet(c).get(1).negatedHead()).contains("DEBUG_INFO_BTF");
        assertThat(d.unmet(c).get(1).symbols()).containsExactly("DEBUG_INFO_BTF", "PAHOLE_HAS_LANG_EXCLUDE");
    }

    @Test
    void numericComparisonsAndMissingToolchain() {
        KconfigDependencies d = KconfigDependencies.parse(KCONFIG, "RUST").orElseThrow();
        KernelConfig old = KernelConfig.parse("CONFIG_HAVE_RUST=y\nCONFIG_CALL_PADDING=y\nCONFIG_RUSTC_VERSION=107800\n");
        assertThat(d.unmet(old)).extracting(KconfigDependencies.Clause::expression)
                .containsExactly("RUST_IS_AVAILABLE", "!CALL_PADDING || RUSTC_VERSION >= 108100");
        assertThat(d.unmet(old).get(0).negatedHead()).isEmpty();
    }

    @Test
    void tristateLogic() {
        KernelConfig c = KernelConfig.parse("CONFIG_A=y\nCONFIG_B=m\nCONFIG_S=\"abc\"\nCONFIG_H=0x10\n");
        assertThat(new KconfigDependencies.Clause("A && B").evaluate(c)).isEqualTo(1);
        assertThat(new KconfigDependencies.Clause("!B").evaluate(c)).isEqualTo(1);
        assertThat(new KconfigDependencies.Clause("C || !A").evaluate(c)).isZero();
        assertThat(new KconfigDependencies.Clause("S = \"abc\"").evaluate(c)).isEqualTo(2);
        assertThat(new KconfigDependencies.Clause("H > 15 && A != n").evaluate(c)).isEqualTo(2);
        assertThat(new KconfigDependencies.Clause("(A || C) && !(B && C)").evaluate(c)).isEqualTo(2);
    }
}
