package dev.rkmod.format;

import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The config gates of the kernel crate's modules, in the shapes rust/kernel/lib.rs writes them. */
class KernelCrateGatesTest {
    private static final String LIB_RS = String.join("\n",
            "//! The kernel crate.",
            "pub mod alloc;",
            "#[cfg(CONFIG_AUXILIARY_BUS)]",
            "pub mod auxiliary;",
            "#[cfg(CONFIG_USB = \"y\")]",
            "pub mod usb;",
            "#[cfg(CONFIG_SOC_BUS)]",
            "/// Documented, with another attribute between.",
            "#[doc(hidden)]",
            "pub mod soc;",
            "#[cfg(all(CONFIG_A, CONFIG_B))]",
            "pub mod both;",
            "#[cfg(CONFIG_STRAY)]",
            "fn not_a_module() {}",
            "pub mod after_stray;",
            "  #[cfg(CONFIG_PCI)]",
            "  pub mod pci; // trailing comment",
            "");

    @Test
    void readsEachGatedModuleAndNothingElse() {
        assertThat(KernelCrateGates.parse(LIB_RS)).containsExactly(Map.entry("auxiliary", "CONFIG_AUXILIARY_BUS"),
                Map.entry("usb", "CONFIG_USB=y"), Map.entry("soc", "CONFIG_SOC_BUS"), Map.entry("pci", "CONFIG_PCI"));
    }

    @Test
    void aGateHoldsForTheValueItNames() {
        KernelConfig debian = KernelConfig.parse("CONFIG_USB=m\nCONFIG_PCI=y\n# CONFIG_SOC_BUS is not set\n");
        assertThat(KernelCrateGates.holds("CONFIG_USB=y", debian)).isFalse();
        assertThat(KernelCrateGates.holds("CONFIG_PCI", debian)).isTrue();
        assertThat(KernelCrateGates.holds("CONFIG_SOC_BUS", debian)).isFalse();
        assertThat(KernelCrateGates.holds("CONFIG_USB", debian)).as("any value but n").isTrue();
    }

    @Test
    void refusesAFileNoLibRsIs() {
        assertThatThrownBy(() -> KernelCrateGates.parse("x".repeat(5 << 20))).isInstanceOf(FormatException.class);
    }
}
