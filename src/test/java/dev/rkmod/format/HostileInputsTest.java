package dev.rkmod.format;

import com.github.luben.zstd.ZstdOutputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.archivers.tar.TarConstants;
import org.apache.commons.compress.archivers.zip.ZipEncodingHelper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * What the catalogue of bad inputs (BadInputsIT) found in the readers, held at unit level: package archives with hard
 * links, devices, a 10 GiB entry or a decompression bomb, and compressed modules that are truncated or bombs.
 */
class HostileInputsTest {
    @TempDir
    Path tmp;

    interface Entries {
        void write(TarArchiveOutputStream out) throws IOException;
    }

    private Path zst(String name, Entries entries) throws IOException {
        Path f = tmp.resolve(name);
        try (OutputStream os = new ZstdOutputStream(Files.newOutputStream(f), 1);
             TarArchiveOutputStream out = new TarArchiveOutputStream(os)) {
            entries.write(out);
            out.finish();
        }
        return f;
    }

    private void refused(Path archive, String why) throws IOException {
        Path dest = Files.createDirectories(tmp.resolve("dest-" + archive.getFileName()));
        assertThatThrownBy(() -> TarArchive.extract(archive, dest)).isInstanceOf(FormatException.class)
                .hasMessageContaining("Unsafe archive entry").satisfies(e -> assertThat(((FormatException) e).why()).contains(why));
    }

    @Test
    void hardLinksAndDevicesAreRefusedNotExtractedAsEmptyFiles() throws Exception {
        Path hard = zst("hard.tar.zst", out -> {
            TarArchiveEntry e = new TarArchiveEntry("passwd", TarConstants.LF_LINK, true);
            e.setLinkName("/etc/passwd");
            out.putArchiveEntry(e);
            out.closeArchiveEntry();
        });
        refused(hard, "hard link");
        Path dev = zst("dev.tar.zst", out -> {
            TarArchiveEntry e = new TarArchiveEntry("null", TarConstants.LF_CHR, true);
            e.setDevMajor(1);
            e.setDevMinor(3);
            out.putArchiveEntry(e);
            out.closeArchiveEntry();
        });
        refused(dev, "device node");
        try (Stream<Path> s = Files.list(tmp.resolve("dest-hard.tar.zst"))) {
            assertThat(s).isEmpty();
        }
    }

    @Test
    void anEntryClaimingTenGibibytesIsRefusedBeforeAnyByteIsWritten() throws Exception {
        TarArchiveEntry e = new TarArchiveEntry("sparse.img", true);
        e.setSize(10L << 30);
        byte[] header = new byte[512];
        e.writeEntryHeader(header, ZipEncodingHelper.getZipEncoding("UTF-8"), true);
        Path f = tmp.resolve("huge.tar.zst");
        try (OutputStream os = new ZstdOutputStream(Files.newOutputStream(f), 1)) {
            os.write(header);
            os.write(new byte[1536]);
        }
        refused(f, "claims 10737418240 bytes");
        assertThat(tmp.resolve("dest-huge.tar.zst/sparse.img")).doesNotExist();
    }

    @Test
    void aDecompressionBombStopsAtTheFloorNotAtAFullDisk() throws Exception {
        long size = TarArchive.BOMB_FLOOR * 2;
        Path f = zst("bomb.tar.zst", out -> {
            TarArchiveEntry e = new TarArchiveEntry("zeros", true);
            e.setSize(size);
            out.putArchiveEntry(e);
            byte[] zeros = new byte[1 << 20];
            for (long w = 0; w < size; w += zeros.length) {
                out.write(zeros);
            }
            out.closeArchiveEntry();
        });
        assertThat(Files.size(f)).isLessThan(size / TarArchive.BOMB_RATIO);
        refused(f, "decompression bomb");
        assertThat(Files.size(tmp.resolve("dest-bomb.tar.zst/zeros"))).isLessThanOrEqualTo(TarArchive.BOMB_FLOOR + (1 << 16));
    }

    @Test
    void aCompressibleButHonestArchiveStillExtracts() throws Exception {
        // a real package expands about 5 times; 1 MiB of zeros is under the floor however well it compresses
        Path f = zst("ok.tar.zst", out -> {
            TarArchiveEntry e = new TarArchiveEntry("zeros", true);
            e.setSize(1 << 20);
            out.putArchiveEntry(e);
            out.write(new byte[1 << 20]);
            out.closeArchiveEntry();
        });
        Path dest = Files.createDirectories(tmp.resolve("ok"));
        assertThat(TarArchive.extract(f, dest)).isEqualTo(1);
        assertThat(Files.size(dest.resolve("zeros"))).isEqualTo(1 << 20);
    }

    @Test
    void aTruncatedCompressedModuleSaysSoAndABombIsRefused() throws Exception {
        byte[] module = new byte[100_000];
        Arrays.fill(module, (byte) 7);
        byte[] xz = CompressedModule.compress(module, CompressedModule.Kind.XZ);
        assertThatThrownBy(() -> CompressedModule.decompress(Arrays.copyOf(xz, xz.length / 2)))
                .isInstanceOf(FormatException.class)
                .satisfies(e -> assertThat(((FormatException) e).why()).contains("XZ stream ends early").doesNotContain("null"));

        ByteArrayOutputStream bos = new ByteArrayOutputStream();
        try (OutputStream os = new ZstdOutputStream(bos, 1)) {
            byte[] zeros = new byte[1 << 20];
            for (int i = 0; i <= CompressedModule.MAX_PLAIN_BASE >> 20; i++) {
                os.write(zeros);
            }
        }
        assertThatThrownBy(() -> CompressedModule.decompress(bos.toByteArray())).isInstanceOf(FormatException.class)
                .hasMessageContaining("expands too much")
                .satisfies(e -> assertThat(((FormatException) e).why()).contains("decompression bomb"));
        assertThat(CompressedModule.decompress(xz)).isEqualTo(module);
    }

    @Test
    void aConfigWithANulByteIsRefusedNamingTheLineAndCrlfReadsAsLf() throws Exception {
        Path nul = tmp.resolve("nul.config");
        Files.write(nul, "CONFIG_RUST=y\nCONFIG_\0MODULES=y\n".getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
        assertThatThrownBy(() -> KernelConfig.read(nul)).isInstanceOf(IOException.class).hasMessageContaining("NUL byte on line 2");
        Path crlf = tmp.resolve("crlf.config");
        Files.writeString(crlf, "CONFIG_RUST=y\r\n# CONFIG_MODULES is not set\r\n");
        KernelConfig c = KernelConfig.read(crlf);
        assertThat(c.value("RUST")).isEqualTo("y");
        assertThat(c.value("MODULES")).isEqualTo("n");
    }
}
