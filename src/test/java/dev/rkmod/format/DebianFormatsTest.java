package dev.rkmod.format;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

class DebianFormatsTest {
    @TempDir
    Path tmp;

    @Test
    void dpkgStatusCountsOnlyInstalledPackages() {
        DpkgStatus s = DpkgStatus.parse("""
                Package: rustc
                Status: install ok installed
                Priority: optional
                Version: 1.63.0+dfsg1-2
                Description: Rust systems programming language
                 continuation line: Version: 9.9
                
                Package: bindgen
                Status: deinstall ok config-files
                Version: 0.60.1-2
                
                Package: clang
                Status: install ok half-configured
                Version: 1:14.0-55.7
                
                Package: libelf1
                Architecture: amd64
                Status: install ok installed
                Version: 0.188-2.1""");
        assertThat(s.version("rustc")).contains("1.63.0+dfsg1-2");
        assertThat(s.isInstalled("bindgen")).isFalse();
        assertThat(s.isInstalled("clang")).isFalse();
        assertThat(s.version("libelf1")).contains("0.188-2.1");
        assertThat(s.size()).isEqualTo(2);
    }

    @Test
    void missingStatusFileIsEmpty() throws Exception {
        assertThat(DpkgStatus.read(tmp.resolve("nope")).size()).isZero();
    }

    @Test
    void realHostStatusParses() throws Exception {
        Path real = Path.of("/var/lib/dpkg/status");
        if (Files.exists(real)) {
            DpkgStatus s = DpkgStatus.read(real);
            assertThat(s.isInstalled("dpkg")).isTrue();
        }
    }

    @Test
    void aptSourcesFindTheMainMirrorInBothFormats() throws Exception {
        Path apt = tmp.resolve("etc/apt");
        Files.createDirectories(apt.resolve("sources.list.d"));
        Files.writeString(apt.resolve("sources.list"), "# nothing here\n");
        Files.writeString(apt.resolve("sources.list.d/debian.sources"), """
                Types: deb
                # a comment
                URIs: http://mirror.example/debian-security
                Suites: bookworm-security
                Components: main
                
                Types: deb deb-src
                URIs: http://mirror.example/debian
                Suites: bookworm bookworm-updates
                Components: main contrib
                Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
                """);
        Files.writeString(apt.resolve("sources.list.d/other.list"),
                "deb [arch=amd64 signed-by=/k.gpg] https://other.example/apt stable main\n");
        Files.writeString(apt.resolve("sources.list.d/off.sources"), "Enabled: no\nTypes: deb\nURIs: http://off\nSuites: bookworm\n");
        AptSources s = AptSources.read(apt);
        assertThat(s.sources()).extracting(AptSources.Source::uri)
                .containsExactly("http://mirror.example/debian-security", "http://mirror.example/debian", "https://other.example/apt");
        assertThat(s.debianMirror("bookworm")).contains("http://mirror.example/debian");
        assertThat(AptSources.parseOneLine("deb http://deb.example/debian bookworm main\n"))
                .containsExactly(new AptSources.Source("http://deb.example/debian", java.util.List.of("bookworm"),
                        java.util.List.of("main")));
    }

    @Test
    void osRelease() {
        OsRelease r = OsRelease.parse("PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nID=debian\nVERSION_CODENAME=bookworm\n");
        assertThat(r.isDebianFamily()).isTrue();
        assertThat(r.get("VERSION_CODENAME")).contains("bookworm");
        assertThat(OsRelease.parse("ID=ubuntu\nID_LIKE=debian\n").isDebianFamily()).isTrue();
        assertThat(OsRelease.parse("ID=fedora\n").isDebianFamily()).isFalse();
    }
}
