package dev.rkmod.workflow.matrix;

import dev.rkmod.model.Distro;
import dev.rkmod.model.ExitCode;
import dev.rkmod.model.Profile;
import dev.rkmod.model.RkmodException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** What --kernel names: profiles, distro kernels, trees, packages and 'all'. */
class KernelSpecTest {
    @TempDir
    Path dir;

    @Test
    void profilesThatBuildKernelsAreTheirTinyRustKernels() {
        assertThat(KernelSpec.parse("6.1")).isEqualTo(new KernelSpec.ProfileKernel("6.1", Profile.LINUX_6_1));
        assertThat(KernelSpec.parse("6.12")).isEqualTo(new KernelSpec.ProfileKernel("6.12", Profile.LINUX_6_12));
        assertThat(KernelSpec.parse("6.12").toolchainProfile()).contains(Profile.LINUX_6_12);
    }

    @Test
    void aDistroKernelWithOrWithoutARelease() {
        assertThat(KernelSpec.parse("debian-sid")).isEqualTo(new KernelSpec.DistroKernel("debian-sid",
                new Distro.Selector(Distro.DEBIAN_SID, Optional.empty())));
        KernelSpec pinned = KernelSpec.parse("debian-sid:7.2.13+deb14-amd64");
        assertThat(pinned).isEqualTo(new KernelSpec.DistroKernel("debian-sid:7.2.13+deb14-amd64",
                new Distro.Selector(Distro.DEBIAN_SID, Optional.of("7.2.13+deb14-amd64"))));
        assertThat(pinned.toolchainProfile()).contains(Profile.DEBIAN_SID);
        assertThat(pinned.slug()).isEqualTo("debian-sid-7.2.13-deb14-amd64");
    }

    @Test
    void pathsAreTreesPackagesOrArchives() throws Exception {
        Path tree = Files.createDirectories(dir.resolve("linux"));
        Files.writeString(tree.resolve("Makefile"), "# kernel\n");
        Path pkg = Files.createDirectories(dir.resolve("pkg"));
        Files.writeString(pkg.resolve("rkmod-package.json"), "{}");
        Path archive = Files.writeString(dir.resolve("linux-6.1-rust.tar.zst"), "x");
        assertThat(KernelSpec.parse(tree.toString())).isEqualTo(new KernelSpec.Tree(tree.toString(), tree));
        assertThat(KernelSpec.parse(pkg.toString())).isEqualTo(new KernelSpec.PackageDir(pkg.toString(), pkg));
        assertThat(KernelSpec.parse(archive.toString())).isEqualTo(new KernelSpec.PackageArchive(archive.toString(), archive));
        assertThat(KernelSpec.parse(tree.toString()).toolchainProfile()).isEmpty();
        assertThat(KernelSpec.parse(tree.toString()).slug()).endsWith("linux").doesNotStartWith("-").doesNotContain("/");
    }

    @Test
    void allIsEveryProfileAndEachKernelCountsOnce() {
        assertThat(KernelSpec.parseAll(List.of("6.12", "all", "6.1")).stream().map(KernelSpec::label))
                .containsExactly("6.12", "6.1", "debian-sid");
    }

    @Test
    void whatNamesNoKernelIsAUsageErrorSayingWhatWouldDo() throws Exception {
        assertThatThrownBy(() -> KernelSpec.parse("5.10")).isInstanceOfSatisfying(RkmodException.class, e -> {
            assertThat(e.exitCode()).isEqualTo(ExitCode.USAGE);
            assertThat(e.paragraph()).contains("'5.10' names no kernel").contains("6.1, 6.12, debian-sid")
                    .contains("no such file or directory");
        });
        Path file = Files.writeString(dir.resolve("notes.txt"), "x");
        assertThatThrownBy(() -> KernelSpec.parse(file.toString())).isInstanceOfSatisfying(RkmodException.class,
                e -> assertThat(e.paragraph()).contains("neither a directory nor a .tar.zst or .tar.xz package"));
        assertThatThrownBy(() -> KernelSpec.parseAll(List.of())).isInstanceOfSatisfying(RkmodException.class,
                e -> assertThat(e.exitCode()).isEqualTo(ExitCode.USAGE));
    }
}
