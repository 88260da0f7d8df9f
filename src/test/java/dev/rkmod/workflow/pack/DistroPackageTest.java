package dev.rkmod.workflow.pack;

import dev.rkmod.format.KernelConfig;
import dev.rkmod.format.PackageTree;
import dev.rkmod.model.ExitCode;
import dev.rkmod.model.RkmodException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class DistroPackageTest {
    @TempDir
    Path tmp;

    @Test
    void versionsFollowTheDocumentedRule() {
        assertThat(DistroPackage.debVersion("6.1.192", 1)).isEqualTo("6.1.192-1");
        assertThat(DistroPackage.debVersion("6.12.0-rc3", 2)).isEqualTo("6.12.0~rc3-2");
        assertThat(DistroPackage.debVersion("6.1.192-rkmod_x", 1)).isEqualTo("6.1.192+rkmod+x-1");
        assertThat(DistroPackage.archVersion("6.1.192-rkmod", 3)).isEqualTo("6.1.192_rkmod-3");
        assertThat(DistroPackage.debName("6.1.192")).isEqualTo("linux-headers-6.1.192-rust");
        assertThatThrownBy(() -> DistroPackage.debName("6.1.192-RKMOD")).isInstanceOfSatisfying(RkmodException.class,
                e -> assertThat(e.exitCode()).isEqualTo(ExitCode.USAGE));
        assertThatThrownBy(() -> DistroPackage.debVersion("v6.1", 1)).isInstanceOf(RkmodException.class);
    }

    @Test
    void revisionAndMaintainerAreChecked() {
        assertThat(DistroPackage.revision(1)).isEqualTo(1);
        assertThatThrownBy(() -> DistroPackage.revision(0)).isInstanceOfSatisfying(RkmodException.class,
                e -> assertThat(e.exitCode()).isEqualTo(ExitCode.USAGE));
        assertThat(DistroPackage.maintainer(null)).isEqualTo(DistroPackage.DEFAULT_MAINTAINER);
        assertThat(DistroPackage.maintainer("Jane Doe <jane@example.org>")).isEqualTo("Jane Doe <jane@example.org>");
        for (String bad : new String[] {"jane", "<jane@example.org>", "Jane <jane>", "Jane <a@b>\nX: y"}) {
            assertThatThrownBy(() -> DistroPackage.maintainer(bad)).as(bad).isInstanceOf(RkmodException.class);
        }
    }

    @Test
    void archNamesComeFromTheKernelsArch() {
        KernelConfig x64 = KernelConfig.parse("CONFIG_64BIT=y\n");
        assertThat(DistroPackage.arch("x86", x64)).isEqualTo(new DistroPackage.Arch("amd64", "x86_64"));
        assertThat(DistroPackage.arch("arm64", x64)).isEqualTo(new DistroPackage.Arch("arm64", "aarch64"));
        assertThatThrownBy(() -> DistroPackage.arch("x86", KernelConfig.parse(""))).isInstanceOf(RkmodException.class);
    }

    private Path root(String version, boolean ownsBinary) throws Exception {
        Path root = tmp.resolve("root-" + version + ownsBinary);
        Files.createDirectories(root.resolve("var/lib/dpkg/info"));
        Files.writeString(root.resolve("var/lib/dpkg/status"),
                "Package: rustc\nStatus: install ok installed\nVersion: " + version + "\n");
        Files.writeString(root.resolve("var/lib/dpkg/info/rustc.list"), ownsBinary ? "/usr\n/usr/bin/rustc\n" : "/usr\n");
        return root;
    }

    @Test
    void theRustcDependencyNamesTheDebianPackageOnlyWhenItIsThatRustc() throws Exception {
        assertThat(DistroPackage.rustcDebVersion(root("1.63.0+dfsg1-2", true), "rustc 1.63.0"))
                .contains("1.63.0+dfsg1-2");
        assertThat(DistroPackage.rustcDebVersion(root("1.85.1+dfsg1-1+deb13u1", true),
                "rustc 1.85.1 (4eb161250 2025-03-15) (built from a source tarball)")).contains("1.85.1+dfsg1-1+deb13u1");
        assertThat(DistroPackage.rustcDebVersion(root("1.63.0+dfsg1-2", true), "rustc 1.62.1")).isEmpty();
        assertThat(DistroPackage.rustcDebVersion(root("1.63.0+dfsg1-2", false), "rustc 1.63.0")).isEmpty();
        assertThat(DistroPackage.rustcDebVersion(tmp.resolve("no-root"), "rustc 1.63.0")).isEmpty();
    }

    @Test
    void descriptionsAreWrappedForLintian() {
        String d = DistroPackage.description("synopsis", "word ".repeat(40), "second paragraph");
        String[] lines = d.split("\n");
        assertThat(lines[0]).isEqualTo("synopsis");
        assertThat(lines).allMatch(l -> l.length() <= 72);
        assertThat(d).contains("\n\nsecond paragraph");
    }

    @Test
    void keyMaterialIsRefused() throws Exception {
        Path t = Files.createDirectories(tmp.resolve("t/certs"));
        Files.writeString(t.resolve("x509.genkey"), "config");
        Files.writeString(t.resolve("module.pem"), "-----BEGIN PRIVATE KEY-----\nabc\n");
        PackageTree withKey = PackageTree.builder().addTree("usr/src/x", tmp.resolve("t")).build();
        assertThatThrownBy(() -> DistroPackage.refuseKeys(withKey)).isInstanceOfSatisfying(RkmodException.class,
                e -> assertThat(e.getMessage()).contains("/usr/src/x/certs/module.pem"));
        Files.delete(t.resolve("module.pem"));
        DistroPackage.refuseKeys(PackageTree.builder().addTree("usr/src/x", tmp.resolve("t")).build());
    }

    @Test
    void changelogLinesStayWithinEightyColumns() {
        String change = "Rust set completing the headers of Linux 7.2.13+deb14-cloud-amd64, made by rkmod.";
        String text = DistroPackage.changeLines(change);
        assertThat(text).isEqualTo("  * Rust set completing the headers of Linux 7.2.13+deb14-cloud-amd64, made by\n"
                + "    rkmod.\n");
        assertThat(text.lines()).allMatch(l -> l.length() <= 80);
        assertThat(DistroPackage.changeLines("Short.")).isEqualTo("  * Short.\n");
    }
}
