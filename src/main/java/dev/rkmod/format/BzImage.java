package dev.rkmod.format;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * An x86 bzImage: the setup header's "HdrS" signature at 0x202 and the kernel version string the
 * {@code kernel_version} field (0x20E) points to, relative to 0x200.
 */
public record BzImage(int protocol, String versionString) {

    /** "6.1.192" from "6.1.192 (root@host) #1 SMP ...". */
    public String release() {
        int sp = versionString.indexOf(' ');
        return sp < 0 ? versionString : versionString.substring(0, sp);
    }

    public static BzImage read(Path file) throws IOException {
        byte[] head;
        try (InputStream in = Files.newInputStream(file)) {
            head = in.readNBytes(64 * 1024);
        }
        return parse(head, file.toString());
    }

    public static BzImage parse(byte[] d, String name) {
        if (d.length < 0x210) {
            throw new FormatException(FormatException.Reason.TRUNCATED, name + " is not a bzImage",
                    "It is only " + d.length + " bytes long, shorter than an x86 boot header", "Pass arch/x86/boot/bzImage of a built kernel");
        }
        if (d[0x202] != 'H' || d[0x203] != 'd' || d[0x204] != 'r' || d[0x205] != 'S') {
            throw new FormatException(FormatException.Reason.BAD_MAGIC, name + " is not a bzImage",
                    "The x86 boot header signature \"HdrS\" is missing at offset 0x202", "Pass arch/x86/boot/bzImage of a built kernel");
        }
        int protocol = (d[0x206] & 0xFF) | ((d[0x207] & 0xFF) << 8);
        int ptr = (d[0x20E] & 0xFF) | ((d[0x20F] & 0xFF) << 8);
        int at = 0x200 + ptr;
        if (ptr == 0 || at >= d.length) {
            throw new FormatException(FormatException.Reason.CORRUPT, name + " has no kernel version string",
                    "Its kernel_version field points outside the header", "Rebuild the kernel");
        }
        int end = Bytes.indexOf(d, (byte) 0, at, at + 512 + 1); // at most 512 characters, then the NUL
        if (end < 0) {
            throw new FormatException(FormatException.Reason.CORRUPT, name + " has a corrupt kernel version string",
                    "It is not NUL-terminated", "Rebuild the kernel");
        }
        return new BzImage(protocol, new String(d, at, end - at, StandardCharsets.US_ASCII));
    }
}
