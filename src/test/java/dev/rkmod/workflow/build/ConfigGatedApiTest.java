package dev.rkmod.workflow.build;

import dev.rkmod.format.KernelConfig;
import dev.rkmod.model.FailureCatalogue;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** The explanation of a kernel-crate module the config leaves out, on rustc's own words (captured on Debian's 7.2.13). */
class ConfigGatedApiTest {
    private static final KernelConfig DEBIAN = KernelConfig.parse("CONFIG_USB=m\nCONFIG_PCI=y\n# CONFIG_SOC_BUS is not set\n");
    private static final Map<String, String> GATES = Map.of("usb", "CONFIG_USB=y", "soc", "CONFIG_SOC_BUS", "pci", "CONFIG_PCI");

    @Test
    void namesTheOptionAndItsValueInThisKernel() {
        List<FailureCatalogue.Match> m = ConfigGatedApi.explain(List.of(
                "error[E0432]: unresolved import `kernel::usb`",
                " --> rust_driver_usb.rs:7:5",
                "error[E0433]: cannot find `usb_device_table` in `kernel`",
                "error[E0432]: unresolved import `kernel::usb`"), GATES, DEBIAN);
        assertThat(m).hasSize(1);
        assertThat(m.get(0).entry().title()).isEqualTo("kernel::usb exists only with CONFIG_USB=y; this kernel has CONFIG_USB=m");
        assertThat(m.get(0).entry().cause()).contains("#[cfg(CONFIG_USB = \"y\")]").contains("rust/kernel/lib.rs");
        assertThat(m.get(0).line()).isEqualTo("error[E0432]: unresolved import `kernel::usb`");
    }

    @Test
    void anUnsetOptionAndAPathThatCannotBeResolved() {
        List<FailureCatalogue.Match> m = ConfigGatedApi.explain(List.of(
                "error[E0433]: failed to resolve: could not find `soc` in `kernel`"), GATES, DEBIAN);
        assertThat(m).extracting(x -> x.entry().title())
                .containsExactly("kernel::soc exists only with CONFIG_SOC_BUS=y or =m; this kernel has CONFIG_SOC_BUS not set");
    }

    @Test
    void aModuleThatIsThereOrUngatedIsNotExplainedHere() {
        assertThat(ConfigGatedApi.explain(List.of("error[E0432]: unresolved import `kernel::pci::Nope`",
                "error[E0432]: unresolved import `kernel::nothing`"), GATES, DEBIAN)).isEmpty();
    }
}
