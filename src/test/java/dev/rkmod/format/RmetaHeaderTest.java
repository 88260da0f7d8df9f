package dev.rkmod.format;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The header reader on real rmeta files made here by Debian's rustc 1.63 and rustup's 1.95. */
class RmetaHeaderTest {
    @TempDir
    Path tmp;

    @Test
    void debianRustc163UsesTheBigEndianLayout() throws Exception {
        Path f = RustFixtures.rmeta(RustFixtures.DEBIAN_RUSTC, tmp.resolve("163"));
        RmetaHeader h = RmetaHeader.read(f);
        assertThat(h.rustcVersion()).isEqualTo(RustFixtures.version(RustFixtures.DEBIAN_RUSTC)).isEqualTo("rustc 1.63.0");
        assertThat(h.metadataVersion()).isEqualTo(6);
        assertThat(h.stringOffset()).isEqualTo(12);
    }

    @Test
    void rustup195UsesTheLittleEndianU64Layout() throws Exception {
        Path f = RustFixtures.rmeta(RustFixtures.RUSTUP_RUSTC, tmp.resolve("195"));
        RmetaHeader h = RmetaHeader.read(f);
        assertThat(h.rustcVersion()).isEqualTo(RustFixtures.version(RustFixtures.RUSTUP_RUSTC)).startsWith("rustc 1.95");
        assertThat(h.stringOffset()).isEqualTo(16);
        assertThat(h.metadataVersion()).isGreaterThanOrEqualTo(8);
    }

    @Test
    void truncatedFilesAreTypedErrors() throws Exception {
        byte[] real = Files.readAllBytes(RustFixtures.rmeta(RustFixtures.DEBIAN_RUSTC, tmp.resolve("t")));
        for (int len : new int[] {0, 5, 8, 13, 20}) {
            byte[] cut = Arrays.copyOf(real, len);
            assertThatThrownBy(() -> RmetaHeader.parse(cut, "cut"))
                    .as("length " + len).isInstanceOfSatisfying(FormatException.class,
                            e -> assertThat(e.reason()).isEqualTo(FormatException.Reason.TRUNCATED));
        }
    }

    @Test
    void wrongMagicAndNonRmetaFiles() throws Exception {
        byte[] real = Files.readAllBytes(RustFixtures.rmeta(RustFixtures.DEBIAN_RUSTC, tmp.resolve("m")));
        byte[] bad = real.clone();
        bad[0] = 'R';
        assertThatThrownBy(() -> RmetaHeader.parse(bad, "bad")).isInstanceOfSatisfying(FormatException.class,
                e -> assertThat(e.reason()).isEqualTo(FormatException.Reason.BAD_MAGIC));
        Path elf = Path.of("/bin/true");
        assertThatThrownBy(() -> RmetaHeader.read(elf)).isInstanceOfSatisfying(FormatException.class,
                e -> assertThat(e.paragraph()).contains("is not rustc metadata"));
    }

    @Test
    void aBrokenSentinelIsCorrupt() throws Exception {
        byte[] real = Files.readAllBytes(RustFixtures.rmeta(RustFixtures.DEBIAN_RUSTC, tmp.resolve("s")));
        byte[] bad = real.clone();
        int len = bad[12];
        bad[13 + len] = 0x00;
        assertThatThrownBy(() -> RmetaHeader.parse(bad, "bad")).isInstanceOfSatisfying(FormatException.class,
                e -> assertThat(e.reason()).isEqualTo(FormatException.Reason.CORRUPT));
    }
}
