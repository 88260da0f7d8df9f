package dev.rkmod.format;

import java.io.ByteArrayOutputStream;
import java.util.Arrays;
import java.util.Locale;
import java.util.Map;

/**
 * The CMS SignedData that {@code scripts/sign-file} appends to a module when the key is RSA, written with a minimal DER
 * writer: detached content, no certificates, no signed attributes, the signer named by the certificate's issuer and
 * serial number, digest algorithms without parameters and rsaEncryption (with NULL) as the signature algorithm. That is
 * what OpenSSL's {@code CMS_sign} writes for sign-file's flags, byte for byte:
 * <pre>
 * ContentInfo { signedData, [0] SignedData { version 1, digestAlgorithms { hash }, encapContentInfo { data },
 *     signerInfos { SignerInfo { version 1, issuerAndSerialNumber, hash, rsaEncryption NULL, signature } } } }
 * </pre>
 * With no signed attributes the signature is PKCS#1 v1.5 over the module itself, so one pass of the hash suffices.
 */
public final class ModuleCms {
    private static final byte[] OID_SIGNED_DATA = hex("06092a864886f70d010702");
    private static final byte[] OID_DATA = hex("06092a864886f70d010701");
    private static final byte[] RSA_ENCRYPTION_NULL = hex("300d06092a864886f70d0101010500");
    private static final Map<String, byte[]> DIGEST_OIDS = Map.of(
            "sha1", hex("06052b0e03021a"),
            "sha224", hex("0609608648016503040204"),
            "sha256", hex("0609608648016503040201"),
            "sha384", hex("0609608648016503040202"),
            "sha512", hex("0609608648016503040203"));

    private ModuleCms() {
    }

    /** Who signed: the issuer Name and serialNumber INTEGER of the signing certificate, as their DER bytes (tag included). */
    public record Signer(byte[] issuer, byte[] serial) {
        @Override
        public boolean equals(Object o) {
            return o instanceof Signer s && Arrays.equals(issuer, s.issuer) && Arrays.equals(serial, s.serial);
        }

        @Override
        public int hashCode() {
            return 31 * Arrays.hashCode(issuer) + Arrays.hashCode(serial);
        }

        @Override
        public String toString() {
            return "Signer[issuer " + issuer.length + " bytes, serial " + serial.length + " bytes]";
        }
    }

    /** Whether {@code hash} (sign-file's name: sha256, ...) is one this writer knows. */
    public static boolean supports(String hash) {
        return DIGEST_OIDS.containsKey(hash.toLowerCase(Locale.ROOT));
    }

    /** The JCA name of the PKCS#1 v1.5 signature over the module with {@code hash}: "SHA256withRSA". */
    public static String jcaRsaAlgorithm(String hash) {
        return hash.toUpperCase(Locale.ROOT) + "withRSA";
    }

    /** The issuer and serial number of a DER X.509 certificate, read with bounds checks. */
    public static Signer signerOf(byte[] certificate) {
        Der cert = new Der(certificate, 0, certificate.length);
        Der tbs = cert.enter(0x30, "Certificate").enter(0x30, "tbsCertificate");
        if (tbs.peek() == 0xa0) {
            tbs.skip("version");
        }
        byte[] serial = tbs.take(0x02, "serialNumber");
        tbs.skip("signature algorithm");
        byte[] issuer = tbs.take(0x30, "issuer");
        return new Signer(issuer, serial);
    }

    /** The DER SubjectPublicKeyInfo of a DER X.509 certificate (what X509EncodedKeySpec takes), read with bounds checks. */
    public static byte[] publicKeyInfo(byte[] certificate) {
        Der cert = new Der(certificate, 0, certificate.length);
        Der tbs = cert.enter(0x30, "Certificate").enter(0x30, "tbsCertificate");
        if (tbs.peek() == 0xa0) {
            tbs.skip("version");
        }
        tbs.skip("serialNumber");
        tbs.skip("signature algorithm");
        tbs.skip("issuer");
        tbs.skip("validity");
        tbs.skip("subject");
        return tbs.take(0x30, "subjectPublicKeyInfo");
    }

    /** The DER SignedData for a module signed with {@code hash} by {@code signer}; {@code signature} is the RSA value. */
    public static byte[] signedData(String hash, Signer signer, byte[] signature) {
        byte[] digestAlg = tlv(0x30, DIGEST_OIDS.get(hash.toLowerCase(Locale.ROOT)));
        byte[] signerInfo = tlv(0x30,
                hex("020101"),
                tlv(0x30, signer.issuer(), signer.serial()),
                digestAlg,
                RSA_ENCRYPTION_NULL,
                tlv(0x04, signature));
        byte[] signedData = tlv(0x30,
                hex("020101"),
                tlv(0x31, digestAlg),
                tlv(0x30, OID_DATA),
                tlv(0x31, signerInfo));
        return tlv(0x30, OID_SIGNED_DATA, tlv(0xa0, signedData));
    }

    /** One DER element: {@code tag}, the definite length of {@code parts} together, then the parts. */
    public static byte[] tlv(int tag, byte[]... parts) {
        int len = 0;
        for (byte[] p : parts) {
            len += p.length;
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream(len + 6);
        out.write(tag);
        if (len < 0x80) {
            out.write(len);
        } else {
            int bytes = len > 0xffffff ? 4 : len > 0xffff ? 3 : len > 0xff ? 2 : 1;
            out.write(0x80 | bytes);
            for (int i = bytes - 1; i >= 0; i--) {
                out.write(len >>> (8 * i));
            }
        }
        for (byte[] p : parts) {
            out.write(p, 0, p.length);
        }
        return out.toByteArray();
    }

    private static byte[] hex(String s) {
        return java.util.HexFormat.of().parseHex(s);
    }

    /** A bounds-checked cursor over DER TLVs in {@code [pos, end)}. */
    private static final class Der {
        private final byte[] b;
        private int pos;
        private final int end;

        Der(byte[] b, int pos, int end) {
            this.b = b;
            this.pos = pos;
            this.end = end;
        }

        int peek() {
            if (pos >= end) {
                throw bad("it ends early");
            }
            return b[pos] & 0xff;
        }

        /** Reads the header of the next TLV; returns {content start, content end}. */
        private int[] header(int tag, String what) {
            if (tag >= 0 && peek() != tag) {
                throw bad("its " + what + " has tag 0x" + Integer.toHexString(peek()) + ", not 0x" + Integer.toHexString(tag));
            }
            int p = pos + 1;
            if (p >= end) {
                throw bad("its " + what + " is truncated");
            }
            int first = b[p++] & 0xff;
            long len;
            if (first < 0x80) {
                len = first;
            } else {
                int n = first & 0x7f;
                if (n == 0 || n > 4 || p + n > end) {
                    throw bad("its " + what + " has an unsupported or truncated length");
                }
                len = 0;
                for (int i = 0; i < n; i++) {
                    len = (len << 8) | (b[p++] & 0xff);
                }
            }
            if (len > end - p) {
                throw bad("its " + what + " runs past the end");
            }
            return new int[] {p, (int) (p + len)};
        }

        Der enter(int tag, String what) {
            int[] h = header(tag, what);
            pos = h[1];
            return new Der(b, h[0], h[1]);
        }

        byte[] take(int tag, String what) {
            int start = pos;
            int[] h = header(tag, what);
            pos = h[1];
            return Arrays.copyOfRange(b, start, h[1]);
        }

        void skip(String what) {
            pos = header(-1, what)[1];
        }

        private static FormatException bad(String why) {
            return new FormatException(FormatException.Reason.CORRUPT, "The certificate is not a DER X.509 certificate",
                    "It cannot be parsed: " + why, "Pass the X.509 certificate of the signing key (PEM or DER)");
        }
    }
}
