package dev.rkmod.format;

import com.github.luben.zstd.ZstdInputStream;
import com.github.luben.zstd.ZstdOutputStream;
import org.tukaani.xz.LZMA2Options;
import org.tukaani.xz.XZ;
import org.tukaani.xz.XZInputStream;
import org.tukaani.xz.XZOutputStream;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;

/** Kernel modules compressed as .ko.xz, .ko.zst or .ko.gz, recognised by their magic bytes. */
public final class CompressedModule {
    /** How a module file is compressed. */
    public enum Kind { NONE, XZ, ZSTD, GZIP }

    private CompressedModule() {
    }

    public static Kind detect(byte[] d) {
        if (d.length >= 6 && (d[0] & 0xFF) == 0xFD && d[1] == '7' && d[2] == 'z' && d[3] == 'X' && d[4] == 'Z' && d[5] == 0) {
            return Kind.XZ;
        }
        if (d.length >= 4 && (d[0] & 0xFF) == 0x28 && (d[1] & 0xFF) == 0xB5 && (d[2] & 0xFF) == 0x2F && (d[3] & 0xFF) == 0xFD) {
            return Kind.ZSTD;
        }
        if (d.length >= 2 && (d[0] & 0xFF) == 0x1F && (d[1] & 0xFF) == 0x8B) {
            return Kind.GZIP;
        }
        return Kind.NONE;
    }

    /**
     * The xz decoder's memory bound in KiB: 96 MiB, room for the 64 MiB dictionary of {@code xz -9}; the kernel's
     * own modules use 1 MiB. A file that declares a larger dictionary is refused before anything is allocated.
     */
    public static final int XZ_MEMORY_LIMIT_KIB = 96 << 10;
    /** A module decompresses to at most this many bytes plus {@link #MAX_RATIO} times its compressed size. */
    public static final long MAX_PLAIN_BASE = 32L << 20;
    public static final int MAX_RATIO = 32;

    /**
     * The module, decompressed. The output is bounded: at most 32 MiB plus 32 times the compressed size (real modules
     * compress 3 to 5 times), so that a decompression bomb (a few KiB that expand to GiBs) is refused rather than
     * exhausting memory.
     *
     * @throws FormatException CORRUPT if the data cannot be decompressed or expands beyond the bound
     */
    public static byte[] decompress(byte[] d) {
        Kind k = detect(d);
        if (k == Kind.NONE) {
            return d;
        }
        long max = MAX_PLAIN_BASE + (long) MAX_RATIO * d.length;
        try (InputStream in = switch (k) {
            case XZ -> new XZInputStream(new ByteArrayInputStream(d), XZ_MEMORY_LIMIT_KIB);
            case ZSTD -> new ZstdInputStream(new ByteArrayInputStream(d));
            case GZIP -> new GZIPInputStream(new ByteArrayInputStream(d));
            default -> throw new IllegalStateException();
        }) {
            byte[] out = in.readNBytes((int) Math.min(Integer.MAX_VALUE - 8, max + 1));
            if (out.length > max) {
                throw new FormatException(FormatException.Reason.CORRUPT, "The compressed module expands too much",
                        k + ": its " + d.length + " bytes decompress to more than " + max + " bytes (32 MiB plus "
                                + MAX_RATIO + " times its size), which is a decompression bomb rather than a module",
                        "Compress the module again from the .ko the kernel build made");
            }
            return out;
        } catch (EOFException e) {
            throw new FormatException(FormatException.Reason.TRUNCATED, "The compressed module cannot be decompressed",
                    "Its " + k + " stream ends early: the file is truncated", "Copy or compress the module again");
        } catch (IOException e) {
            throw new FormatException(FormatException.Reason.CORRUPT, "The compressed module cannot be decompressed",
                    k + ": " + (e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage()),
                    "Compress the module again");
        }
    }

    /** Compresses as the kernel's module installation does (xz: CRC32 check, 1 MiB dictionary). */
    public static byte[] compress(byte[] d, Kind k) {
        ByteArrayOutputStream bos = new ByteArrayOutputStream();
        try (OutputStream out = switch (k) {
            case XZ -> {
                LZMA2Options o = new LZMA2Options();
                o.setDictSize(1 << 20);
                yield new XZOutputStream(bos, o, XZ.CHECK_CRC32);
            }
            case ZSTD -> new ZstdOutputStream(bos, 19);
            case GZIP -> new GZIPOutputStream(bos);
            case NONE -> bos;
        }) {
            out.write(d);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        return bos.toByteArray();
    }
}
