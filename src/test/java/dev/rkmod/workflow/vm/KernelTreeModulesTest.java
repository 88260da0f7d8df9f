package dev.rkmod.workflow.vm;

import dev.rkmod.format.ModulesDep;
import dev.rkmod.infra.cache.Cache;
import dev.rkmod.infra.event.EventSink;
import dev.rkmod.infra.host.Host;
import dev.rkmod.workflow.Context;
import dev.rkmod.workflow.install.Depmod;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * An rkmod-built kernel's modules as vmtest takes dependencies from them: the tree found from --kdir or from the image,
 * its modules.order laid out as modules_install does, indexed by the host's depmod.
 */
class KernelTreeModulesTest {
    @TempDir
    Path tmp;

    /** A build tree of release 6.12.117 with two modules (real ones: the fixture rust_minimal.ko under two names). */
    Path tree() throws Exception {
        Path tree = Files.createDirectories(tmp.resolve("linux"));
        byte[] ko = Files.readAllBytes(Path.of("src/test/resources/fuzz/elf/rust_minimal.ko"));
        Files.createDirectories(tree.resolve("samples/rust"));
        Files.createDirectories(tree.resolve("fs/configfs"));
        Files.write(tree.resolve("samples/rust/rust_minimal.ko"), ko);
        Files.write(tree.resolve("fs/configfs/configfs.ko"), ko);
        // 6.2+ lists the objects; a module the build did not make is left out
        Files.writeString(tree.resolve("modules.order"), "samples/rust/rust_minimal.o\nfs/configfs/configfs.o\nlib/absent.o\n");
        Files.writeString(tree.resolve("modules.builtin"), "kernel/fs/ext4/ext4.ko\n");
        Files.createDirectories(tree.resolve("include/config"));
        Files.writeString(tree.resolve("include/config/kernel.release"), "6.12.117\n");
        Files.createDirectories(tree.resolve("arch/x86/boot"));
        Files.writeString(tree.resolve("arch/x86/boot/bzImage"), "image");
        return tree;
    }

    @Test
    void theTreeIsTheKdirOrTheOneTheImageLiesInOfTheSameRelease() throws Exception {
        Path tree = tree();
        Path image = tree.resolve("arch/x86/boot/bzImage");
        assertThat(KernelTreeModules.treeOf(Optional.of(tree), image, "6.12.117")).contains(tree);
        assertThat(KernelTreeModules.treeOf(Optional.empty(), image, "6.12.117")).contains(tree);
        assertThat(KernelTreeModules.treeOf(Optional.empty(), image, "6.1.192")).isEmpty();
        assertThat(KernelTreeModules.treeOf(Optional.of(tree), Path.of("/boot/vmlinuz"), "6.1.192")).isEmpty();
        Path elsewhere = Files.writeString(tmp.resolve("bzImage"), "image");
        assertThat(KernelTreeModules.treeOf(Optional.empty(), elsewhere, "6.12.117")).isEmpty();
        // a package (no modules.order) has no modules to offer
        Path pkg = Files.createDirectories(tmp.resolve("pkg/include/config"));
        Files.writeString(pkg.resolve("kernel.release"), "6.12.117\n");
        assertThat(KernelTreeModules.treeOf(Optional.of(tmp.resolve("pkg")), image, "6.12.117")).isEmpty();
    }

    @Test
    void theModulesAreLaidOutAsModulesInstallDoesAndDepmodIndexesThem() throws Exception {
        Path tree = tree();
        Path root = tmp.resolve("modules-root");
        Path dir = KernelTreeModules.stage(tree, "6.12.117", root, EventSink.NONE);
        assertThat(dir).isEqualTo(root.resolve("lib/modules/6.12.117"));
        assertThat(Files.readSymbolicLink(dir.resolve("kernel/fs/configfs/configfs.ko")))
                .isEqualTo(tree.resolve("fs/configfs/configfs.ko").toAbsolutePath());
        assertThat(dir.resolve("modules.order")).hasContent("kernel/samples/rust/rust_minimal.ko\nkernel/fs/configfs/configfs.ko");
        assertThat(dir.resolve("modules.builtin")).hasContent("kernel/fs/ext4/ext4.ko");
        Host host = new Host(Path.of("/"), 0, Map.of("PATH", "/usr/sbin:/usr/bin:/sbin:/bin", "HOME", tmp.toString()));
        Context ctx = Context.create(host, new Cache(tmp.resolve("cache")), EventSink.NONE);
        Depmod.find(ctx).run(root, "6.12.117", "test");
        ModulesDep index = ModulesDep.read(dir.resolve(ModulesDep.FILE));
        assertThat(index.size()).isEqualTo(2);
        assertThat(index.byName("configfs").get().path()).isEqualTo("kernel/fs/configfs/configfs.ko");
        assertThat(index.closure(List.of("configfs", "absent")).missing()).containsExactly("absent");
    }
}
