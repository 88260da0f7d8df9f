package dev.rkmod.format;

import java.io.ByteArrayOutputStream;
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

    public byte[] toBytes() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int ino = 1;
        for (Entry e : entries) {
            header(out, ino++, e.mode(), e.data().length, e.name());
            out.writeBytes(e.data());
            pad(out);
        }
        header(out, 0, 0, 0, "TRAILER!!!");
        return out.toByteArray();
    }

    private static void header(ByteArrayOutputStream out, int ino, int mode, int size, String name) {
        byte[] n = (name + "\0").getBytes(StandardCharsets.UTF_8);
        StringBuilder h = new StringBuilder("070701");
        long[] fields = {ino, mode, 0, 0, 1, 0, size, 0, 0, 0, 0, n.length, 0};
        for (long f : fields) {
            h.append(String.format("%08X", f));
        }
        out.writeBytes(h.toString().getBytes(StandardCharsets.US_ASCII));
        out.writeBytes(n);
        pad(out);
    }

    private static void pad(ByteArrayOutputStream out) {
        while (out.size() % 4 != 0) {
            out.write(0);
        }
    }
}
