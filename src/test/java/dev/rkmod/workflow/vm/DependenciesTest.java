package dev.rkmod.workflow.vm;

import dev.rkmod.format.ModulesDep;
import dev.rkmod.format.ModulesDepTest;
import dev.rkmod.model.ExitCode;
import dev.rkmod.model.RkmodException;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Which of the kernel's modules a vmtest loads first, in which order, and what it refuses before booting. */
class DependenciesTest {
    static final Path DIR = Path.of("/cache/distro-modules/k/lib/modules/7.2.13+deb14-amd64");
    static final Dependencies.KernelModules SID = new Dependencies.KernelModules(DIR,
            "Debian sid's linux-modules-7.2.13+deb14-amd64 7.2.13-1", ModulesDep.parse(ModulesDepTest.SID, "modules.dep"));

    static LoadedModule module(String name, String... depends) {
        return new LoadedModule(new VmTestWorkflow.ModuleSpec(Path.of("/m/" + name + ".ko"), ""), name,
                "7.2.13+deb14-amd64 SMP preempt mod_unload modversions ", List.of(depends));
    }

    @Test
    void modulesWithoutDependenciesNeverAskForTheKernelsModules() {
        List<List<String>> asked = new ArrayList<>();
        Function<List<String>, Dependencies.KernelModules> modules = w -> {
            asked.add(w);
            return SID;
        };
        assertThat(Dependencies.resolve(List.of(module("rust_minimal")), modules)).isEmpty();
        // a dependency that is itself tested is loaded as the user ordered it
        assertThat(Dependencies.resolve(List.of(module("provider"), module("user", "provider")), modules)).isEmpty();
        assertThat(asked).isEmpty();
    }

    @Test
    void theClosureComesInLoadOrderFromTheKernelsOwnModulesNamingWhoNeedsEach() {
        List<VmTestWorkflow.Dependency> deps = Dependencies.resolve(List.of(module("rust_configfs", "configfs"),
                module("rust_fs", "btrfs", "configfs"), module("rust_minimal")), w -> {
                    assertThat(w).containsExactly("configfs", "btrfs");
                    return SID;
                });
        assertThat(deps).extracting(VmTestWorkflow.Dependency::name)
                .containsExactly("configfs", "xor", "raid6_pq", "libblake2b", "btrfs");
        VmTestWorkflow.Dependency configfs = deps.get(0);
        assertThat(configfs.path()).isEqualTo("kernel/fs/configfs/configfs.ko.xz");
        assertThat(configfs.file()).isEqualTo(DIR.resolve("kernel/fs/configfs/configfs.ko.xz"));
        assertThat(configfs.source()).isEqualTo(SID.source());
        assertThat(configfs.neededBy()).containsExactly("rust_configfs", "rust_fs");
        assertThat(deps.get(1).neededBy()).as("xor, through btrfs").containsExactly("rust_fs");
    }

    @Test
    void aDependencyTheKernelLacksIsNamedBeforeBooting() {
        assertThatThrownBy(() -> Dependencies.resolve(List.of(module("rust_fs", "lz4hc_compress", "configfs", "libchacha"),
                module("other", "libchacha")), w -> SID))
                .isInstanceOfSatisfying(RkmodException.class, e -> {
                    assertThat(e.exitCode()).isEqualTo(ExitCode.CHECK_FAILED);
                    assertThat(e.what()).isEqualTo("rust_fs.ko depends on lz4hc_compress; rust_fs.ko and other.ko depend on"
                            + " libchacha, which this kernel's own modules do not include (checked before booting)");
                    assertThat(e.why()).contains("Debian sid's linux-modules-7.2.13+deb14-amd64 7.2.13-1, 11 modules in its"
                            + " modules.dep").contains("'Unknown symbol'");
                    assertThat(e.fix()).contains("rkmod vmtest lz4hc_compress.ko MODULE.ko");
                });
    }
}
