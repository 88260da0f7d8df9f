package dev.rkmod.workflow.headers;

import dev.rkmod.format.DpkgStatus;
import dev.rkmod.format.ModuleSymvers;
import dev.rkmod.format.RustExports;
import dev.rkmod.model.Distro;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/** The pieces of headers completion that read distro files: Debian's split layout, exports, dpkg, selectors. */
class HeadersWorkflowTest {

    @Test
    void debiansFlavourHeadersNameTheirCommonDirectoryInsideTheSameRoot(@TempDir Path root) throws Exception {
        Path flavour = Files.createDirectories(root.resolve("usr/src/linux-headers-7.2.13+deb14-amd64"));
        Path common = Files.createDirectories(root.resolve("usr/src/linux-headers-7.2.13+deb14-common"));
        Files.writeString(flavour.resolve("Makefile"), "KBUILD_OUTPUT=/usr/src/linux-headers-7.2.13+deb14-amd64\n"
                + "include /usr/src/linux-headers-7.2.13+deb14-common/Makefile\n");
        Files.writeString(common.resolve("Makefile"), "VERSION = 7\nPATCHLEVEL = 2\n");
        assertThat(HeadersWorkflow.commonDir(flavour)).contains(common);
        // a real top Makefile (no wrapper) has no common directory
        assertThat(HeadersWorkflow.commonDir(common)).isEmpty();
        // a wrapper whose target is missing is not followed
        Files.writeString(flavour.resolve("Makefile"), "include /usr/src/nowhere/Makefile\n");
        assertThat(HeadersWorkflow.commonDir(flavour)).isEmpty();
    }

    @Test
    void exportedRustSymbolsAreComparedWithModuleSymvers(@TempDir Path kdir) throws Exception {
        Files.createDirectories(kdir.resolve("rust"));
        // lines as kbuild writes them in rust/exports_*_generated.h (Debian 7.2.13)
        Files.writeString(kdir.resolve("rust/exports_kernel_generated.h"),
                "EXPORT_SYMBOL_RUST_GPL(_RNvNtNtCsdJ13ReMSUMg_6kernel5print14format_strings7WARNING);\n"
                        + "EXPORT_SYMBOL_RUST_GPL(_RNvNvNtCsdJ13ReMSUMg_6kernel12module_param9set_param4ONCE);\n");
        Files.writeString(kdir.resolve("rust/exports_helpers_generated.h"), "EXPORT_SYMBOL_RUST_GPL(rust_helper_mutex_lock);\n");
        Files.writeString(kdir.resolve("rust/exports_bindings_generated.h"), "");
        ModuleSymvers symvers = ModuleSymvers.parse(
                "0x00000000\t_RNvNtNtCsdJ13ReMSUMg_6kernel5print14format_strings7WARNING\tvmlinux\tEXPORT_SYMBOL_GPL\t\n"
                        + "0x00000000\t_RNvNvNtCsdJ13ReMSUMg_6kernel12module_param9set_param4ONCE\tvmlinux\tEXPORT_SYMBOL_GPL\t\n"
                        + "0x12345678\tprintk\tvmlinux\tEXPORT_SYMBOL\t\n"
                        + "0x00000000\trust_helper_mutex_lock\tvmlinux\tEXPORT_SYMBOL_GPL\t\n");
        assertThat(RustExports.read(kdir)).isEqualTo(RustExports.ofSymvers(symvers)).hasSize(2);
        // another crate hash (another build) no longer matches
        assertThat(RustExports.parse("EXPORT_SYMBOL_RUST_GPL(_RNvNtNtCs1234567890_6kernel5print14format_strings7WARNING);"))
                .isNotEqualTo(RustExports.ofSymvers(symvers));
    }

    @Test
    void theMetapackageDependencyNamesTheCurrentRelease() {
        DpkgStatus s = DpkgStatus.parse("""
                Package: linux-headers-amd64
                Status: install ok installed
                Version: 7.2.13-1
                Depends: linux-base-amd64 (= 7.2.13-1), linux-headers-7.2.13+deb14-amd64 (= 7.2.13-1)

                Package: linux-headers-7.2.13+deb14-amd64
                Status: install ok installed
                Version: 7.2.13-1
                Depends: gcc-16-for-host, linux-headers-7.2.13+deb14-common (= 7.2.13-1)
                """);
        assertThat(s.depends("linux-headers-amd64")).contains("linux-headers-7.2.13+deb14-amd64 (= 7.2.13-1)");
        assertThat(s.version("linux-headers-7.2.13+deb14-amd64")).contains("7.2.13-1");
        assertThat(s.depends("not-installed")).isEmpty();
    }

    @Test
    void distroSelectorsAndSeries() {
        var sel = Distro.Selector.parse("debian-sid:7.2.13+deb14-amd64").orElseThrow();
        assertThat(sel.distro()).isEqualTo(Distro.DEBIAN_SID);
        assertThat(sel.release()).contains("7.2.13+deb14-amd64");
        assertThat(Distro.Selector.parse("debian-sid").orElseThrow().release()).isEmpty();
        assertThat(Distro.Selector.parse("fedora-40")).isEmpty();
        assertThat(Distro.series("7.2.13+deb14-amd64")).isEqualTo("7.2");
        assertThat(Distro.DEBIAN_SID.sourceTarball("7.2")).isEqualTo("/usr/src/linux-source-7.2.tar.xz");
        assertThat(Distro.DEBIAN_SID.imagePackages("7.2.13+deb14-amd64"))
                .containsExactly("linux-binary-7.2.13+deb14-amd64", "linux-image-7.2.13+deb14-amd64");
        assertThat(Distro.DEBIAN_SID.imagePaths("R")).containsExactly("usr/lib/modules/R/vmlinuz", "boot/vmlinuz-R");
    }
}
