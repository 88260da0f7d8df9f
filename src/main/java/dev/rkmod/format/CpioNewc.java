package dev.rkmod.format;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Writes an uncompressed cpio "newc" archive, the initramfs format every kernel accepts: per entry the
 * magic 070701, 13 eight-digit hex fields, the NUL-terminated name padded to 4 bytes, then the data
 * padded to 4 bytes; the archive ends with TRAILER!!!.
 */
public final class CpioNewc {
    private record Entry(String name, int mode, byte[] data) { }

    private final List<Entry> entries = new ArrayList<>();

    public CpioNewc dir(String name) {
        return add(name, 040755, new byte[0]);
    }

    public CpioNewc file(String name, int perm, byte[] data) {
        return add(name, 0100000 | (perm & 07777), data);
    }

    public CpioNewc symlink(String name, String target) {
        return add(name, 0120777, target.getBytes(StandardCharsets.UTF_8));
    }

    private CpioNewc add(String name, int mode, byte[] data) {
        TarArchive.checkName(name);
        entries.add(new Entry(name, mode, data));
        return this;
    }

    /** The archive, written into one array of its exact size (a 2 MB busybox is copied once, not regrown). */
    public byte[] toBytes() {
        List<byte[]> names = new ArrayList<>(entries.size() + 1);
        long size = 0;
        for (Entry e : entries) {
            byte[] n = (e.name() + "\0").getBytes(StandardCharsets.UTF_8);
            names.add(n);
            size += pad4(110 + n.length) + pad4(e.data().length);
        }
        byte[] trailer = "TRAILER!!!\0".getBytes(StandardCharsets.US_ASCII);
        size += pad4(110 + trailer.length);
        if (size > Integer.MAX_VALUE - 8) {
            throw new IllegalStateException("a cpio archive of " + size + " bytes does not fit in memory");
        }
        byte[] out = new byte[(int) size];
        int at = 0;
        int ino = 1;
        for (int k = 0; k < entries.size(); k++) {
            Entry e = entries.get(k);
            at = header(out, at, ino++, e.mode(), e.data().length, names.get(k));
            System.arraycopy(e.data(), 0, out, at, e.data().length);
            at = pad4(at + e.data().length);
        }
        header(out, at, 0, 0, 0, trailer);
        return out;
    }

    /** Writes a header and its padded name at {@code at}; returns where the data starts. */
    private static int header(byte[] out, int at, int ino, int mode, int size, byte[] name) {
        long[] fields = {ino, mode, 0, 0, 1, 0, size, 0, 0, 0, 0, name.length, 0};
        byte[] magic = {'0', '7', '0', '7', '0', '1'};
        System.arraycopy(magic, 0, out, at, 6);
        int p = at + 6;
        for (long f : fields) {
            for (int d = 7; d >= 0; d--) { // %08X by hand: String.format costs ~10 ms in a fresh JVM
                out[p++] = (byte) "0123456789ABCDEF".charAt((int) (f >>> (4 * d)) & 0xF);
            }
        }
        System.arraycopy(name, 0, out, p, name.length);
        return pad4(p + name.length);
    }

    private static int pad4(int n) {
        return (n + 3) & ~3;
    }

    private static long pad4(long n) {
        return (n + 3) & ~3L;
    }
}
