package dev.rkmod.format;

/** Searches in raw bytes, shared by the format readers and the workflows that look into binaries. */
public final class Bytes {
    private Bytes() {
    }

    /** The first index of {@code needle} in {@code hay}, or -1; an empty needle is found at 0. */
    public static int indexOf(byte[] hay, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= hay.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (hay[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }

    public static boolean contains(byte[] hay, byte[] needle) {
        return indexOf(hay, needle) >= 0;
    }

    /** The first index of {@code b} in {@code data[from, to)}, or -1 ({@code to} is clamped to the array). */
    public static int indexOf(byte[] data, byte b, int from, int to) {
        for (int i = from, end = Math.min(to, data.length); i < end; i++) {
            if (data[i] == b) {
                return i;
            }
        }
        return -1;
    }
}
