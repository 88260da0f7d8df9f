package dev.rkmod.format;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tukaani.xz.SeekableFileInputStream;
import org.tukaani.xz.SeekableXZInputStream;
import org.tukaani.xz.XZInputStream;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

class XzBlocksOutputStreamTest {
    @TempDir
    Path tmp;

    private static byte[] sample(int n) {
        Random r = new Random(42);
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            b[i] = (byte) ("abcdefgh".charAt(r.nextInt(8)));
        }
        return b;
    }

    private static byte[] compress(byte[] data, int blockSize, int threads, int chunk) throws Exception {
        ByteArrayOutputStream bo = new ByteArrayOutputStream();
        try (XzBlocksOutputStream xz = new XzBlocksOutputStream(bo, 1, blockSize, threads)) {
            for (int off = 0; off < data.length; off += chunk) {
                xz.write(data, off, Math.min(chunk, data.length - off));
            }
        }
        return bo.toByteArray();
    }

    @Test
    void blocksDecodeToTheInputAndTheOutputDoesNotDependOnThreads() throws Exception {
        byte[] data = sample(100_000);
        byte[] one = compress(data, 16_384, 1, 1000);
        byte[] four = compress(data, 16_384, 4, 7777);
        assertThat(four).isEqualTo(one);
        assertThat(new XZInputStream(new ByteArrayInputStream(one)).readAllBytes()).isEqualTo(data);
        Path file = Files.write(tmp.resolve("one.xz"), one);
        try (SeekableXZInputStream s = new SeekableXZInputStream(new SeekableFileInputStream(file.toFile()))) {
            assertThat(s.getBlockCount()).isEqualTo(7);
            assertThat(s.length()).isEqualTo(data.length);
            assertThat(s.readAllBytes()).isEqualTo(data);
        }
    }

    @Test
    void anExactMultipleOfTheBlockSizeAndEmptyInputAreValidStreams() throws Exception {
        byte[] data = sample(32_768);
        byte[] xz = compress(data, 16_384, 2, 4096);
        assertThat(new XZInputStream(new ByteArrayInputStream(xz)).readAllBytes()).isEqualTo(data);
        byte[] empty = compress(new byte[0], 16_384, 2, 1);
        assertThat(new XZInputStream(new ByteArrayInputStream(empty)).readAllBytes()).isEmpty();
    }
}
