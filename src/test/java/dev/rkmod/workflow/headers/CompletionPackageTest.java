package dev.rkmod.workflow.headers;

import dev.rkmod.format.DebPackage;
import dev.rkmod.format.HeadersManifest;
import dev.rkmod.format.PackageManifest;
import dev.rkmod.model.ExitCode;
import dev.rkmod.model.RkmodException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class CompletionPackageTest {
    static final String R = "7.2.13+deb14-amd64";

    @TempDir
    Path tmp;

    /** A root with the distro's headers (scripts a link into linux-kbuild, as Debian has it) and dpkg's database. */
    private Path root(String ownedPath) throws Exception {
        Path root = tmp.resolve("root");
        Files.createDirectories(root.resolve("usr/lib/linux-kbuild-7.2.13+deb14/scripts"));
        Path headers = Files.createDirectories(root.resolve("usr/src/linux-headers-" + R));
        Files.createSymbolicLink(headers.resolve("scripts"), Path.of("../../lib/linux-kbuild-7.2.13+deb14/scripts"));
        Path info = Files.createDirectories(root.resolve("var/lib/dpkg/info"));
        Files.writeString(root.resolve("var/lib/dpkg/status"), """
                Package: linux-headers-%s
                Status: install ok installed
                Version: 7.2.13-1

                Package: other-rust-set
                Status: install ok installed
                Version: 1.0
                """.formatted(R));
        Files.writeString(info.resolve("linux-headers-" + R + ".list"), "/usr/src/linux-headers-" + R + "\n");
        Files.writeString(info.resolve("other-rust-set.list"), ownedPath == null ? "" : ownedPath + "\n");
        return root;
    }

    private Path tree() throws Exception {
        Path t = tmp.resolve("tree");
        Files.createDirectories(t.resolve("rust"));
        Files.createDirectories(t.resolve("scripts"));
        Files.writeString(t.resolve("rust/libcore.rmeta"), "rmeta");
        Files.writeString(t.resolve("scripts/target.json"), "{}");
        Files.writeString(t.resolve("scripts/rust_is_available.sh"), "#!/bin/sh\n");
        Files.writeString(t.resolve("scripts/Makefile.build"), "# the headers' own\n");
        Files.createDirectories(t.resolve("rust/kernel"));
        Files.writeString(t.resolve("rust/kernel/generated_arch_warn_asm.rs"), "// asm\n");
        Files.writeString(t.resolve("include.h"), "C header");
        Files.writeString(t.resolve(".config"), "CONFIG_64BIT=y\nCONFIG_RUST=y\n");
        return t;
    }

    private static PackageManifest manifest() {
        return new PackageManifest(1, R, "x86", false, "rustc 1.97.1", "bindgen 0.72.1", "7.2", "scripts/target.json",
                "target-1", null, List.of(new PackageManifest.Entry("include.h", 8, "0"),
                new PackageManifest.Entry("rust/libcore.rmeta", 5, "0"), new PackageManifest.Entry("scripts/target.json", 2, "0"),
                new PackageManifest.Entry("scripts/rust_is_available.sh", 10, "0"),
                new PackageManifest.Entry("scripts/Makefile.build", 19, "0"),
                new PackageManifest.Entry("rust/kernel/generated_arch_warn_asm.rs", 8, "0")),
                List.of("rust/kernel/generated_arch_warn_asm.rs"), null);
    }

    private static HeadersManifest headers(Path root) {
        return new HeadersManifest(1, "debian-sid", R, "linux-headers-" + R, "7.2.13-1", "linux-source-7.2", "7.2.13-1",
                "rustc 1.97.1", "bindgen 0.72.1", "gcc-16", false, root.toString(), List.of(), List.of(), 742, 55, List.of("scripts/rust_is_available.sh"), null);
    }

    @Test
    void holdsOnlyTheRustSetAtItsRealPathsAndDependsOnTheExactHeaders() throws Exception {
        Path root = root(null);
        CompletionPackage.Made m = CompletionPackage.write(tree(), headers(root), manifest(), root, tmp.resolve("out"),
                1_700_000_000L, false);
        assertThat(m.file().getFileName().toString()).isEqualTo("linux-rust-meta-" + R + "_7.2.13-1+rkmod1_amd64.deb");
        assertThat(DebPackage.control(m.file()).field("Depends").orElseThrow())
                .isEqualTo("linux-headers-" + R + " (= 7.2.13-1), libc6");
        assertThat(DebPackage.dataPaths(m.file())).contains("/usr/src/linux-headers-" + R + "/rust/libcore.rmeta",
                        "/usr/lib/linux-kbuild-7.2.13+deb14/scripts/target.json",
                        "/usr/lib/linux-kbuild-7.2.13+deb14/scripts/rust_is_available.sh",
                        "/usr/src/linux-headers-" + R + "/rust/kernel/generated_arch_warn_asm.rs")
                .noneMatch(p -> p.endsWith("include.h"))
                .noneMatch(p -> p.endsWith("Makefile.build"))
                .noneMatch(p -> p.equals("/usr/src/linux-headers-" + R + "/scripts"));
    }

    @Test
    void refusesAPathAnotherPackageOwnsAndWritesNothing() throws Exception {
        Path root = root("/usr/lib/linux-kbuild-7.2.13+deb14/scripts/target.json");
        assertThatThrownBy(() -> CompletionPackage.write(tree(), headers(root), manifest(), root, tmp.resolve("out"),
                1_700_000_000L, false))
                .isInstanceOfSatisfying(RkmodException.class, e -> {
                    assertThat(e.exitCode()).isEqualTo(ExitCode.CHECK_FAILED);
                    assertThat(e.getMessage()).contains("would overwrite 1 file")
                            .contains("/usr/lib/linux-kbuild-7.2.13+deb14/scripts/target.json (owned by other-rust-set)");
                    assertThat(e.fix()).contains("dpkg -S");
                });
        assertThat(tmp.resolve("out")).doesNotExist();
    }

    @Test
    void refusesAnUnownedFileThatIsAlreadyThere() throws Exception {
        Path root = root(null);
        Files.createDirectories(root.resolve("usr/src/linux-headers-" + R + "/rust"));
        Files.writeString(root.resolve("usr/src/linux-headers-" + R + "/rust/libcore.rmeta"), "someone's");
        assertThatThrownBy(() -> CompletionPackage.write(tree(), headers(root), manifest(), root, tmp.resolve("out"),
                1_700_000_000L, false))
                .isInstanceOf(RkmodException.class).hasMessageContaining("an existing file no package owns");
    }

    @Test
    void refusesHeadersWithoutAPackage() throws Exception {
        Path root = root(null);
        HeadersManifest h = new HeadersManifest(1, null, R, null, null, null, null, "rustc 1.97.1", "bindgen", "gcc",
                false, null, List.of(), List.of(), 1, 1, null, null);
        assertThatThrownBy(() -> CompletionPackage.write(tree(), h, manifest(), root, tmp.resolve("out"), 0, false))
                .isInstanceOfSatisfying(RkmodException.class, e -> assertThat(e.exitCode()).isEqualTo(ExitCode.USAGE));
    }

    @Test
    void aliasesOfMergedUsrPaths() {
        assertThat(CompletionPackage.aliases("/usr/lib/x")).containsExactly("/usr/lib/x", "/lib/x");
        assertThat(CompletionPackage.aliases("/lib/x")).containsExactly("/lib/x", "/usr/lib/x");
        assertThat(CompletionPackage.aliases("/usr/src/x")).containsExactly("/usr/src/x");
    }
}
