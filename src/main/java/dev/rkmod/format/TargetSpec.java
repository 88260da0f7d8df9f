package dev.rkmod.format;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A custom target specification ({@code target.json}). Its bytes are part of every crate's identity,
 * so rkmod ships it byte for byte and never regenerates it. {@link #rustcTriple()} is the name rustc
 * (1.63 and later) prints for it in E0461: {@code <file stem>-<SipHash-1-3(bytes + 0xFF)>}.
 */
public record TargetSpec(String stem, byte[] contents) {

    public static TargetSpec read(Path file) throws IOException {
        String name = file.getFileName().toString();
        String stem = name.endsWith(".json") ? name.substring(0, name.length() - 5) : name;
        return new TargetSpec(stem, Files.readAllBytes(file));
    }

    /** The hash rustc's DefaultHasher gives the contents as a str: SipHash-1-3, keys 0, over bytes + 0xFF. */
    public long hash() {
        SipHash13 h = new SipHash13(0, 0);
        h.write(contents);
        h.write(new byte[] {(byte) 0xFF});
        return h.finish();
    }

    /** As rustc prints it: "target-12184399828535944561". */
    public String rustcTriple() {
        return stem + "-" + Long.toUnsignedString(hash());
    }

    public String text() {
        return new String(contents, StandardCharsets.UTF_8);
    }

    /** SipHash with 1 compression and 3 finalisation rounds, as Rust's std DefaultHasher. */
    static final class SipHash13 {
        private long v0;
        private long v1;
        private long v2;
        private long v3;
        private long tail;
        private int ntail;
        private long length;

        SipHash13(long k0, long k1) {
            v0 = k0 ^ 0x736f6d6570736575L;
            v1 = k1 ^ 0x646f72616e646f6dL;
            v2 = k0 ^ 0x6c7967656e657261L;
            v3 = k1 ^ 0x7465646279746573L;
        }

        void write(byte[] bytes) {
            for (byte b : bytes) {
                tail |= (b & 0xFFL) << (8 * ntail);
                ntail++;
                length++;
                if (ntail == 8) {
                    compress(tail);
                    tail = 0;
                    ntail = 0;
                }
            }
        }

        private void compress(long m) {
            v3 ^= m;
            round();
            v0 ^= m;
        }

        long finish() {
            long b = ((length & 0xFF) << 56) | tail;
            compress(b);
            v2 ^= 0xFF;
            round();
            round();
            round();
            return v0 ^ v1 ^ v2 ^ v3;
        }

        private void round() {
            v0 += v1;
            v1 = Long.rotateLeft(v1, 13);
            v1 ^= v0;
            v0 = Long.rotateLeft(v0, 32);
            v2 += v3;
            v3 = Long.rotateLeft(v3, 16);
            v3 ^= v2;
            v0 += v3;
            v3 = Long.rotateLeft(v3, 21);
            v3 ^= v0;
            v2 += v1;
            v1 = Long.rotateLeft(v1, 17);
            v1 ^= v2;
            v2 = Long.rotateLeft(v2, 32);
        }
    }
}
