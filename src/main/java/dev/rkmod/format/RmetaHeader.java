package dev.rkmod.format;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.ByteBuffer;

/**
 * The header of rustc crate metadata ({@code .rmeta}, or the {@code .rustc} section of a proc-macro):
 * the magic {@code "rust\0\0\0"}, the METADATA_VERSION byte, a root position (u32 big-endian in old
 * layouts, u64 little-endian in newer ones), then the rustc version string as LEB128 length + UTF-8 +
 * the sentinel {@code 0xC1}. The layout is not guessed from the version byte: both offsets are tried.
 *
 * @param metadataVersion the METADATA_VERSION byte
 * @param rustcVersion    exactly what {@code rustc --version} printed for the compiler that wrote it
 * @param stringOffset    12 or 16
 */
public record RmetaHeader(int metadataVersion, String rustcVersion, int stringOffset) {
    private static final byte[] MAGIC = {'r', 'u', 's', 't', 0, 0, 0};
    private static final int SENTINEL = 0xC1;
    private static final int MAX_HEADER = 4096;

    public static RmetaHeader read(Path file) throws IOException {
        byte[] head;
        try (InputStream in = Files.newInputStream(file)) {
            head = in.readNBytes(MAX_HEADER);
        }
        return parse(head, file.toString());
    }

    /** Whether rustc metadata starts anywhere in {@code data}, e.g. in the {@code .rustc} section of a proc-macro. */
    public static boolean occursIn(byte[] data) {
        return Bytes.contains(data, MAGIC);
    }

    /** Parses the header at the start of {@code data}. */
    public static RmetaHeader parse(byte[] data, String name) {
        if (data.length < MAGIC.length + 1) {
            throw new FormatException(FormatException.Reason.TRUNCATED, name + " is truncated",
                    "It has " + data.length + " bytes, fewer than an rmeta header", "Rebuild the kernel tree or package it again");
        }
        for (int i = 0; i < MAGIC.length; i++) {
            if (data[i] != MAGIC[i]) {
                throw new FormatException(FormatException.Reason.BAD_MAGIC, name + " is not rustc metadata",
                        "It does not start with the bytes \"rust\\0\\0\\0\"", "Check that the file is a .rmeta from a kernel build");
            }
        }
        int version = data[7] & 0xFF;
        FormatException first = null;
        for (int offset : new int[] {12, 16}) {
            try {
                return new RmetaHeader(version, versionAt(data, offset, name), offset);
            } catch (FormatException e) {
                if (first == null || e.reason() == FormatException.Reason.TRUNCATED) {
                    first = e;
                }
            }
        }
        throw first;
    }

    private static String versionAt(byte[] data, int offset, String name) {
        long len = 0;
        int shift = 0;
        int pos = offset;
        while (true) {
            if (pos >= data.length) {
                throw truncated(name);
            }
            int b = data[pos++] & 0xFF;
            len |= (long) (b & 0x7F) << shift;
            if ((b & 0x80) == 0) {
                break;
            }
            shift += 7;
            if (shift > 28) {
                throw corrupt(name, "the version string length is not a valid LEB128 number");
            }
        }
        if (len == 0 || len > 1024) {
            throw corrupt(name, "the version string length " + len + " is implausible");
        }
        if (pos + len + 1 > data.length) {
            throw data.length < MAX_HEADER ? truncated(name) : corrupt(name, "the version string runs past the header");
        }
        if ((data[(int) (pos + len)] & 0xFF) != SENTINEL) {
            throw corrupt(name, "the version string is not followed by the 0xC1 sentinel");
        }
        String s;
        try {
            s = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(data, pos, (int) len)).toString();
        } catch (CharacterCodingException e) {
            throw corrupt(name, "the version string is not UTF-8");
        }
        if (!s.startsWith("rustc ")) {
            throw corrupt(name, "the version string does not start with \"rustc \"");
        }
        return s;
    }

    private static FormatException truncated(String name) {
        return new FormatException(FormatException.Reason.TRUNCATED, name + " is truncated",
                "The file ends inside the rmeta header", "Rebuild the kernel tree or package it again");
    }

    private static FormatException corrupt(String name, String why) {
        return new FormatException(FormatException.Reason.CORRUPT, name + " has a corrupt rmeta header",
                "In it, " + why, "Rebuild the kernel tree or package it again");
    }
}
