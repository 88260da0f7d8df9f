package dev.rkmod.format;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/** The trailer {@code scripts/sign-file} appends: [CMS][struct module_signature (12 bytes)]["~Module signature appended~\n"]. */
public final class ModuleSignature {
    public static final byte[] MAGIC = "~Module signature appended~\n".getBytes(StandardCharsets.US_ASCII);
    public static final int INFO_SIZE = 12;

    private ModuleSignature() {
    }

    public static boolean isSigned(byte[] ko) {
        return ko.length >= MAGIC.length + INFO_SIZE
                && Arrays.equals(ko, ko.length - MAGIC.length, ko.length, MAGIC, 0, MAGIC.length);
    }

    /** The length of the module without its signature (the whole length when unsigned). */
    public static int unsignedLength(byte[] ko) {
        if (!isSigned(ko)) {
            return ko.length;
        }
        int info = ko.length - MAGIC.length - INFO_SIZE;
        long sigLen = ((ko[info + 8] & 0xFFL) << 24) | ((ko[info + 9] & 0xFFL) << 16) | ((ko[info + 10] & 0xFFL) << 8)
                | (ko[info + 11] & 0xFFL);
        if (sigLen > info) {
            throw new FormatException(FormatException.Reason.CORRUPT, "The module signature trailer is corrupt",
                    "Its signature length " + sigLen + " is larger than the module", "Sign the module again");
        }
        return (int) (info - sigLen);
    }
}
