package dev.rkmod.format;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Optional;

/**
 * The trailer {@code scripts/sign-file} appends to a module:
 * {@code [module][CMS SignedData, DER][struct module_signature, 12 bytes]["~Module signature appended~\n"]}.
 * {@code struct module_signature { u8 algo, hash, id_type, signer_len, key_id_len; u8 pad[3]; __be32 sig_len; }}.
 */
public record ModuleSignature(int algo, int hash, int idType, int signerLen, int keyIdLen, byte[] cms, int moduleLength) {
    public static final byte[] MAGIC = "~Module signature appended~\n".getBytes(StandardCharsets.US_ASCII);
    public static final int INFO_SIZE = 12;
    /** id_type for PKCS#7/CMS signatures. */
    public static final int PKEY_ID_PKCS7 = 2;

    public static boolean isSigned(byte[] ko) {
        return ko.length >= MAGIC.length + INFO_SIZE
                && Arrays.equals(ko, ko.length - MAGIC.length, ko.length, MAGIC, 0, MAGIC.length);
    }

    /** Reads the trailer from the end of the file; empty when the module is not signed. */
    public static Optional<ModuleSignature> read(byte[] ko) {
        if (!isSigned(ko)) {
            return Optional.empty();
        }
        int info = ko.length - MAGIC.length - INFO_SIZE;
        ByteBuffer b = ByteBuffer.wrap(ko, info, INFO_SIZE);
        int algo = b.get() & 0xFF;
        int hash = b.get() & 0xFF;
        int idType = b.get() & 0xFF;
        int signerLen = b.get() & 0xFF;
        int keyIdLen = b.get() & 0xFF;
        b.position(b.position() + 3);
        long sigLen = b.getInt() & 0xFFFFFFFFL;
        if (sigLen == 0 || sigLen > info) {
            throw new FormatException(FormatException.Reason.CORRUPT, "The module signature trailer cannot be parsed",
                    "Its signature length " + sigLen + " does not fit in the " + info + " bytes before it",
                    "Sign the module again with 'rkmod sign --force'");
        }
        int start = (int) (info - sigLen);
        return Optional.of(new ModuleSignature(algo, hash, idType, signerLen, keyIdLen,
                Arrays.copyOfRange(ko, start, info), start));
    }

    /** {@link #read(byte[])} of a module read at offsets (see {@link ElfFile.Source}): only the trailer's bytes. */
    public static Optional<ModuleSignature> read(ElfFile.Source ko) {
        if (ko.length() > Integer.MAX_VALUE) {
            return Optional.empty();
        }
        int n = (int) ko.length();
        int tail = MAGIC.length + INFO_SIZE;
        if (n < tail) {
            return Optional.empty();
        }
        byte[] end = new byte[tail];
        ko.read(n - tail, end);
        if (!isSigned(end)) {
            return Optional.empty();
        }
        long sigLen = ByteBuffer.wrap(end, 8, 4).getInt() & 0xFFFFFFFFL;
        int info = n - tail;
        if (sigLen == 0 || sigLen > info) {
            throw new FormatException(FormatException.Reason.CORRUPT, "The module signature trailer cannot be parsed",
                    "Its signature length " + sigLen + " does not fit in the " + info + " bytes before it",
                    "Sign the module again with 'rkmod sign --force'");
        }
        int start = (int) (info - sigLen);
        byte[] cms = new byte[(int) sigLen];
        ko.read(start, cms);
        return Optional.of(new ModuleSignature(end[0] & 0xFF, end[1] & 0xFF, end[2] & 0xFF, end[3] & 0xFF, end[4] & 0xFF,
                cms, start));
    }

    /** The length of the module without its signature (the whole length when unsigned). */
    public static int unsignedLength(byte[] ko) {
        return read(ko).map(ModuleSignature::moduleLength).orElse(ko.length);
    }

    /** The trailer for a CMS signature of {@code cmsLength} bytes, as sign-file writes it. */
    public static byte[] trailer(int cmsLength) {
        ByteBuffer b = ByteBuffer.allocate(INFO_SIZE + MAGIC.length);
        b.put((byte) 0).put((byte) 0).put((byte) PKEY_ID_PKCS7).put((byte) 0).put((byte) 0);
        b.put(new byte[3]);
        b.putInt(cmsLength);
        b.put(MAGIC);
        return b.array();
    }
}
