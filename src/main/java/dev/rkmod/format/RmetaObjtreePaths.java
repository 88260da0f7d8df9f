package dev.rkmod.format;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SortedSet;
import java.util.TreeSet;

/**
 * The files of the kernel's <em>object</em> tree that a crate's exported macros read when a module expands them:
 * the string literals of {@code include!(concat!(env!("OBJTREE"), "/rust/kernel/generated_arch_warn_asm.rs"))} in
 * {@code kernel::warn_on!}, {@code kernel::static_branch!} and the like. rustc keeps an exported macro's tokens in the
 * crate's metadata, and a string literal there is a LEB128 length, the UTF-8 bytes and the sentinel {@code 0xC1}; a
 * literal that starts with {@code /rust/} is such a path relative to {@code $(objtree)} (the source-map paths of the
 * crate's own files are absolute, so they never match). A macro that the kernel's config compiles out is not in the
 * metadata, so what this finds is exactly what a module built against this tree can read.
 *
 * <p>The scan is bounded: the file is read in chunks, a literal is at most {@link #MAX_PATH} bytes and only path
 * characters are accepted.
 */
public final class RmetaObjtreePaths {
    /** The longest literal accepted (a path under rust/). */
    public static final int MAX_PATH = 255;
    private static final byte[] PREFIX = "/rust/".getBytes(StandardCharsets.US_ASCII);
    private static final int SENTINEL = 0xC1;
    private static final int CHUNK = 1 << 20;

    private RmetaObjtreePaths() {
    }

    /** The paths (without the leading '/', e.g. {@code rust/kernel/generated_arch_warn_asm.rs}), sorted. */
    public static SortedSet<String> read(Path rmeta) throws IOException {
        SortedSet<String> out = new TreeSet<>();
        byte[] buf = new byte[CHUNK + MAX_PATH + 8];
        int keep = 0; // bytes carried over from the previous chunk, at the start of buf
        int from = 1; // the first index a literal may start at (a length byte precedes it)
        try (InputStream in = Files.newInputStream(rmeta)) {
            while (true) {
                int n = in.readNBytes(buf, keep, CHUNK);
                int len = keep + n;
                boolean last = n < CHUNK;
                // a literal starting before 'limit' ends (with its sentinel) inside this buffer
                int limit = last ? len : len - (MAX_PATH + 2);
                scan(buf, from, limit, len, out);
                if (last) {
                    return out;
                }
                keep = len - (limit - 2); // the two possible length bytes before a literal at 'limit', and after
                System.arraycopy(buf, limit - 2, buf, 0, keep);
                from = 2;
            }
        }
    }

    /** The paths in {@code data}, for tests and fuzzing. */
    public static SortedSet<String> parse(byte[] data) {
        SortedSet<String> out = new TreeSet<>();
        scan(data, 1, data.length, data.length, out);
        return out;
    }

    /** Finds literals whose first byte lies in [from, to) of data[0, end). */
    private static void scan(byte[] data, int from, int to, int end, SortedSet<String> out) {
        for (int i = from; i < to; i++) {
            if (data[i] != '/' || !startsWith(data, i, end)) {
                continue;
            }
            int stop = i;
            while (stop < end && stop - i <= MAX_PATH && pathByte(data[stop])) {
                stop++;
            }
            int length = stop - i;
            if (stop >= end || (data[stop] & 0xFF) != SENTINEL || length > MAX_PATH) {
                continue;
            }
            if (!lengthPrecedes(data, i, length)) {
                continue;
            }
            String path = new String(data, i + 1, length - 1, StandardCharsets.US_ASCII);
            if (!path.contains("/../") && !path.endsWith("/") && !path.contains("//")) {
                out.add(path);
            }
        }
    }

    private static boolean startsWith(byte[] data, int at, int end) {
        if (at + PREFIX.length > end) {
            return false;
        }
        for (int k = 0; k < PREFIX.length; k++) {
            if (data[at + k] != PREFIX[k]) {
                return false;
            }
        }
        return true;
    }

    /** The LEB128 length right before the literal: one byte below 128, or two bytes. */
    private static boolean lengthPrecedes(byte[] data, int at, int length) {
        if (length < 128) {
            return (data[at - 1] & 0xFF) == length;
        }
        return at >= 2 && (data[at - 2] & 0xFF) == ((length & 0x7F) | 0x80) && (data[at - 1] & 0xFF) == (length >>> 7);
    }

    private static boolean pathByte(byte b) {
        return (b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z') || (b >= '0' && b <= '9') || b == '_' || b == '-'
                || b == '.' || b == '/';
    }
}
