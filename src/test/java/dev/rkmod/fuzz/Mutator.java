package dev.rkmod.fuzz;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/**
 * A seeded, structure-aware mutator of real seed files, in the spirit of AFL's havoc stage: every call stacks one to
 * eight mutations on a copy of a seed. Binary mutations: bit flips, random bytes, "interesting" integers (0, -1,
 * 0x7fffffff, 0x80000000, ...) written as 1/2/4/8-byte little- or big-endian values at the field offsets of the
 * seed (every 2, 4 or 8 bytes), truncation, chunk deletion, duplication and splicing with another seed, and dictionary
 * tokens (magics). Text mutations work on lines and tokens: delete, duplicate, swap, repeat a line; replace a token by
 * a dictionary word or an interesting number; insert long runs of one token (deep nesting, long lines); invalid
 * UTF-8. The same seed gives the same sequence, so every finding can be replayed.
 */
public final class Mutator {
    private static final long[] INTERESTING = {0, 1, -1, 0x7F, 0x80, 0xFF, 0x100, 0x7FFF, 0x8000, 0xFFFF, 0x10000,
        0x7FFF_FFFFL, 0x8000_0000L, 0xFFFF_FFFFL, 0x1_0000_0000L, Long.MAX_VALUE, Long.MIN_VALUE, 16, 64, 512, 4096};
    private static final String[] TEXT_WORDS = {"", "0", "-1", "1", "2147483647", "2147483648", "-2147483649",
        "9223372036854775808", "99999999999999999999999", "0x", "0xffffffffffffffffff", "=", "==", ":", ";", ",", "\"",
        "'", "#", "\n", "\r\n", "\t", " ", "  ", "[", "]", "{", "}", "(", ")", "!", "&&", "||", "\\", "\\\n", "\0",
        "\u00e9", "\ufffd", "null", "true", "[]", "{}", "y", "m", "n", "ok", "not ok", "# SKIP", "KTAP version 1"};

    private final Random rnd;
    private final boolean text;
    private final List<byte[]> dictionary;
    private final int maxLength;

    /**
     * @param seed       the random seed
     * @param text       whether the inputs are text (adds line and token mutations)
     * @param dictionary extra tokens of the format (magics, keywords)
     * @param maxLength  the longest input made
     */
    public Mutator(long seed, boolean text, List<String> dictionary, int maxLength) {
        this.rnd = new Random(seed);
        this.text = text;
        List<byte[]> d = new ArrayList<>();
        for (String s : dictionary) {
            d.add(s.getBytes(StandardCharsets.ISO_8859_1));
        }
        if (text) {
            for (String s : TEXT_WORDS) {
                d.add(s.getBytes(StandardCharsets.UTF_8));
            }
        }
        this.dictionary = d;
        this.maxLength = maxLength;
    }

    public Random random() {
        return rnd;
    }

    /** A mutant of {@code seeds[i]} for a random i; the other seeds serve for splicing. */
    public byte[] mutate(List<byte[]> seeds) {
        byte[] data = seeds.get(rnd.nextInt(seeds.size()));
        int rounds = 1 + rnd.nextInt(rnd.nextInt(4) == 0 ? 8 : 3);
        for (int i = 0; i < rounds; i++) {
            data = text && rnd.nextInt(3) > 0 ? textOnce(data, seeds) : binaryOnce(data, seeds);
            if (data.length > maxLength) {
                data = Arrays.copyOf(data, maxLength);
            }
        }
        return data;
    }

    private byte[] binaryOnce(byte[] d, List<byte[]> seeds) {
        int op = rnd.nextInt(11);
        if (d.length == 0 && op < 8) {
            op = 8;
        }
        switch (op) {
            case 0 -> { // bit flip
                byte[] m = d.clone();
                int at = pos(m.length);
                m[at] ^= (byte) (1 << rnd.nextInt(8));
                return m;
            }
            case 1, 2 -> { // random byte(s)
                byte[] m = d.clone();
                int n = 1 + rnd.nextInt(4);
                for (int i = 0; i < n; i++) {
                    m[pos(m.length)] = (byte) rnd.nextInt(256);
                }
                return m;
            }
            case 3, 4 -> { // an interesting integer at an aligned field offset
                byte[] m = d.clone();
                int width = new int[] {1, 2, 4, 8}[rnd.nextInt(4)];
                if (m.length < width) {
                    return m;
                }
                int at = pos(m.length - width + 1);
                if (rnd.nextBoolean()) {
                    at -= at % width;
                }
                long v = rnd.nextInt(8) == 0 ? m.length + rnd.nextInt(3) - 1 : INTERESTING[rnd.nextInt(INTERESTING.length)];
                if (rnd.nextInt(4) == 0) {
                    v = -v;
                }
                boolean big = rnd.nextBoolean();
                for (int i = 0; i < width; i++) {
                    int shift = 8 * (big ? width - 1 - i : i);
                    m[at + i] = (byte) (v >>> shift);
                }
                return m;
            }
            case 5 -> { // truncation
                return Arrays.copyOf(d, rnd.nextInt(d.length));
            }
            case 6 -> { // delete a chunk
                int from = pos(d.length);
                int len = 1 + rnd.nextInt(Math.min(d.length - from, 1 + rnd.nextInt(256)));
                return concat(Arrays.copyOfRange(d, 0, from), Arrays.copyOfRange(d, from + len, d.length));
            }
            case 7 -> { // duplicate a chunk somewhere
                int from = pos(d.length);
                int len = 1 + rnd.nextInt(Math.min(d.length - from, 1 + rnd.nextInt(512)));
                int to = rnd.nextInt(d.length + 1);
                return concat(Arrays.copyOfRange(d, 0, to), Arrays.copyOfRange(d, from, from + len),
                        Arrays.copyOfRange(d, to, d.length));
            }
            case 8 -> { // splice with another seed
                byte[] o = seeds.get(rnd.nextInt(seeds.size()));
                int a = rnd.nextInt(d.length + 1);
                int b = rnd.nextInt(o.length + 1);
                return concat(Arrays.copyOfRange(d, 0, a), Arrays.copyOfRange(o, b, o.length));
            }
            default -> { // a dictionary token, inserted or overwriting
                if (dictionary.isEmpty()) {
                    return d.length == 0 ? new byte[] {(byte) rnd.nextInt(256)} : d;
                }
                byte[] t = dictionary.get(rnd.nextInt(dictionary.size()));
                int at = rnd.nextInt(d.length + 1);
                if (rnd.nextBoolean() && at + t.length <= d.length) {
                    byte[] m = d.clone();
                    System.arraycopy(t, 0, m, at, t.length);
                    return m;
                }
                return concat(Arrays.copyOfRange(d, 0, at), t, Arrays.copyOfRange(d, at, d.length));
            }
        }
    }

    private byte[] textOnce(byte[] d, List<byte[]> seeds) {
        List<byte[]> lines = lines(d);
        int op = rnd.nextInt(9);
        int i = rnd.nextInt(lines.size());
        switch (op) {
            case 0 -> lines.remove(i);
            case 1 -> lines.add(i, lines.get(rnd.nextInt(lines.size())));
            case 2 -> {
                int j = rnd.nextInt(lines.size());
                byte[] t = lines.get(i);
                lines.set(i, lines.get(j));
                lines.set(j, t);
            }
            case 3 -> { // a line of another seed
                List<byte[]> o = lines(seeds.get(rnd.nextInt(seeds.size())));
                lines.add(i, o.get(rnd.nextInt(o.size())));
            }
            case 4 -> { // a line repeated many times
                byte[] l = lines.get(i);
                int n = 2 + rnd.nextInt(rnd.nextInt(8) == 0 ? 2000 : 20);
                for (int k = 0; k < n && (long) n * l.length < maxLength; k++) {
                    lines.add(i, l);
                }
            }
            case 5 -> { // a long run of one token inside a line: deep nesting, huge numbers, long lines
                byte[] t = dictionary.get(rnd.nextInt(dictionary.size()));
                int n = 1 + rnd.nextInt(rnd.nextInt(4) == 0 ? 20_000 : 50);
                ByteArrayOutputStream run = new ByteArrayOutputStream();
                for (int k = 0; k < n && run.size() + t.length < maxLength / 2; k++) {
                    run.writeBytes(t);
                }
                lines.set(i, insert(lines.get(i), run.toByteArray()));
            }
            case 6 -> lines.set(i, replaceToken(lines.get(i)));
            case 7 -> { // invalid UTF-8 or a control character
                byte[][] bad = {{(byte) 0xC3}, {(byte) 0xFF, (byte) 0xFE}, {(byte) 0xE9}, {0}, {'\r'}, {(byte) 0xED, (byte) 0xA0, (byte) 0x80}};
                lines.set(i, insert(lines.get(i), bad[rnd.nextInt(bad.length)]));
            }
            default -> lines.set(i, insert(lines.get(i), dictionary.get(rnd.nextInt(dictionary.size()))));
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream(d.length + 64);
        for (int k = 0; k < lines.size(); k++) {
            if (k > 0) {
                out.write('\n');
            }
            out.writeBytes(lines.get(k));
        }
        return out.toByteArray();
    }

    /** Replaces one run of letters, digits or '_' by a dictionary word or an interesting number. */
    private byte[] replaceToken(byte[] line) {
        List<int[]> tokens = new ArrayList<>();
        int start = -1;
        for (int k = 0; k <= line.length; k++) {
            boolean word = k < line.length && (Character.isLetterOrDigit(line[k]) || line[k] == '_' || line[k] < 0);
            if (word && start < 0) {
                start = k;
            } else if (!word && start >= 0) {
                tokens.add(new int[] {start, k});
                start = -1;
            }
        }
        byte[] by = rnd.nextBoolean() ? dictionary.get(rnd.nextInt(dictionary.size()))
                : Long.toString(INTERESTING[rnd.nextInt(INTERESTING.length)] * (rnd.nextBoolean() ? 1 : -1))
                .getBytes(StandardCharsets.US_ASCII);
        if (tokens.isEmpty()) {
            return insert(line, by);
        }
        int[] t = tokens.get(rnd.nextInt(tokens.size()));
        return concat(Arrays.copyOfRange(line, 0, t[0]), by, Arrays.copyOfRange(line, t[1], line.length));
    }

    private byte[] insert(byte[] into, byte[] what) {
        int at = rnd.nextInt(into.length + 1);
        return concat(Arrays.copyOfRange(into, 0, at), what, Arrays.copyOfRange(into, at, into.length));
    }

    private static List<byte[]> lines(byte[] d) {
        List<byte[]> out = new ArrayList<>();
        int from = 0;
        for (int k = 0; k < d.length; k++) {
            if (d[k] == '\n') {
                out.add(Arrays.copyOfRange(d, from, k));
                from = k + 1;
            }
        }
        out.add(Arrays.copyOfRange(d, from, d.length));
        return out;
    }

    /** Favours the first 256 bytes (headers) and the last KiB (trailers, section tables) a third of the time each. */
    private int pos(int length) {
        return switch (rnd.nextInt(3)) {
            case 0 -> rnd.nextInt(Math.min(length, 256));
            case 1 -> length - 1 - rnd.nextInt(Math.min(length, 1024));
            default -> rnd.nextInt(length);
        };
    }

    private static byte[] concat(byte[]... parts) {
        int n = 0;
        for (byte[] p : parts) {
            n += p.length;
        }
        byte[] out = new byte[n];
        int at = 0;
        for (byte[] p : parts) {
            System.arraycopy(p, 0, out, at, p.length);
            at += p.length;
        }
        return out;
    }
}
