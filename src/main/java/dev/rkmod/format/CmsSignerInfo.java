package dev.rkmod.format;

import java.nio.charset.StandardCharsets;
import java.util.Optional;

/**
 * The first SignerInfo of a DER CMS SignedData (RFC 5652), as a module signature carries it, read without a
 * general ASN.1 library: the issuer's common name, the serial number or subject key identifier, the digest
 * algorithm OID and the signature bytes. Every length is bounds-checked; anything this reader does not expect
 * is a {@link FormatException} (callers may then fall back to a full CMS parser).
 */
public record CmsSignerInfo(Optional<String> issuerCommonName, boolean issuerPresent, byte[] keyId, String digestOid,
                            byte[] signature) {
    private static final byte[] OID_SIGNED_DATA = {0x2A, (byte) 0x86, 0x48, (byte) 0x86, (byte) 0xF7, 0x0D, 0x01, 0x07, 0x02};
    private static final byte[] OID_CN = {0x55, 0x04, 0x03};

    /** One DER element: its tag, where its contents start and end. */
    private record Tlv(int tag, int start, int end) { }

    public static CmsSignerInfo parse(byte[] der) {
        Tlv ci = tlv(der, 0, der.length);
        expect(ci, 0x30, "ContentInfo");
        Tlv oid = tlv(der, ci.start, ci.end);
        expect(oid, 0x06, "contentType");
        if (!equal(der, oid, OID_SIGNED_DATA)) {
            throw bad("the content type is not signedData");
        }
        Tlv explicit = tlv(der, oid.end, ci.end);
        expect(explicit, 0xA0, "[0] content");
        Tlv sd = tlv(der, explicit.start, explicit.end);
        expect(sd, 0x30, "SignedData");
        Tlv version = tlv(der, sd.start, sd.end);
        expect(version, 0x02, "version");
        Tlv digestAlgs = tlv(der, version.end, sd.end);
        expect(digestAlgs, 0x31, "digestAlgorithms");
        Tlv encap = tlv(der, digestAlgs.end, sd.end);
        expect(encap, 0x30, "encapContentInfo");
        Tlv next = tlv(der, encap.end, sd.end);
        if (next.tag == 0xA0) { // certificates
            next = tlv(der, next.end, sd.end);
        }
        if (next.tag == 0xA1) { // crls
            next = tlv(der, next.end, sd.end);
        }
        expect(next, 0x31, "signerInfos");
        Tlv si = tlv(der, next.start, next.end);
        expect(si, 0x30, "SignerInfo");
        Tlv siVersion = tlv(der, si.start, si.end);
        expect(siVersion, 0x02, "SignerInfo version");
        Tlv sid = tlv(der, siVersion.end, si.end);
        Optional<String> cn = Optional.empty();
        boolean issuer = false;
        byte[] keyId;
        if (sid.tag == 0x30) { // IssuerAndSerialNumber
            Tlv name = tlv(der, sid.start, sid.end);
            expect(name, 0x30, "issuer");
            issuer = true;
            cn = commonName(der, name);
            Tlv serial = tlv(der, name.end, sid.end);
            expect(serial, 0x02, "serialNumber");
            keyId = bytes(der, serial);
        } else if (sid.tag == 0x80) { // [0] SubjectKeyIdentifier
            keyId = bytes(der, sid);
        } else {
            throw bad("unexpected signer identifier tag 0x" + Integer.toHexString(sid.tag));
        }
        Tlv digestAlg = tlv(der, sid.end, si.end);
        expect(digestAlg, 0x30, "digestAlgorithm");
        Tlv digestOid = tlv(der, digestAlg.start, digestAlg.end);
        expect(digestOid, 0x06, "digestAlgorithm OID");
        Tlv after = tlv(der, digestAlg.end, si.end);
        if (after.tag == 0xA0) { // signedAttrs
            after = tlv(der, after.end, si.end);
        }
        expect(after, 0x30, "signatureAlgorithm");
        Tlv sig = tlv(der, after.end, si.end);
        expect(sig, 0x04, "signature");
        return new CmsSignerInfo(cn, issuer, keyId, oidString(der, digestOid), bytes(der, sig));
    }

    /** The first CN of a Name, when it is a plain string (else empty). */
    private static Optional<String> commonName(byte[] der, Tlv name) {
        for (int at = name.start; at < name.end; ) {
            Tlv rdn = tlv(der, at, name.end);
            expect(rdn, 0x31, "RelativeDistinguishedName");
            for (int a = rdn.start; a < rdn.end; ) {
                Tlv atv = tlv(der, a, rdn.end);
                expect(atv, 0x30, "AttributeTypeAndValue");
                Tlv type = tlv(der, atv.start, atv.end);
                expect(type, 0x06, "attribute type");
                if (equal(der, type, OID_CN)) {
                    Tlv value = tlv(der, type.end, atv.end);
                    if (value.tag != 0x0C && value.tag != 0x13 && value.tag != 0x16) {
                        throw bad("the common name is not a UTF8, printable or IA5 string");
                    }
                    return Optional.of(escape(new String(der, value.start, value.end - value.start,
                            value.tag == 0x0C ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1)));
                }
                a = atv.end;
            }
            at = rdn.end;
        }
        return Optional.empty();
    }

    /** The value as is, when X.500 text would show it unescaped; anything needing escapes is left to a full parser. */
    private static String escape(String v) {
        for (int i = 0; i < v.length(); i++) {
            if (",\"\\+=<>;#".indexOf(v.charAt(i)) >= 0 || v.charAt(i) < 0x20) {
                throw bad("the common name needs X.500 escaping");
            }
        }
        if (!v.isEmpty() && (v.charAt(0) == ' ' || v.charAt(v.length() - 1) == ' ')) {
            throw bad("the common name needs X.500 escaping");
        }
        return v;
    }

    private static String oidString(byte[] der, Tlv oid) {
        StringBuilder sb = new StringBuilder();
        long v = 0;
        boolean first = true;
        for (int i = oid.start; i < oid.end; i++) {
            if (v > (Long.MAX_VALUE >> 7)) {
                throw bad("an OID arc is too large");
            }
            v = (v << 7) | (der[i] & 0x7F);
            if ((der[i] & 0x80) == 0) {
                if (first) {
                    long a = Math.min(v / 40, 2);
                    sb.append(a).append('.').append(v - a * 40);
                    first = false;
                } else {
                    sb.append('.').append(v);
                }
                v = 0;
            }
        }
        if (first) {
            throw bad("an empty OID");
        }
        return sb.toString();
    }

    private static Tlv tlv(byte[] d, int at, int limit) {
        if (at + 2 > limit) {
            throw bad("an element runs past its container at offset " + at);
        }
        int tag = d[at] & 0xFF;
        if ((tag & 0x1F) == 0x1F) {
            throw bad("a multi-byte tag at offset " + at);
        }
        int len = d[at + 1] & 0xFF;
        int start = at + 2;
        if (len >= 0x80) {
            int n = len & 0x7F;
            if (n == 0 || n > 3 || start + n > limit) {
                throw bad("an unsupported length form at offset " + at);
            }
            len = 0;
            for (int i = 0; i < n; i++) {
                len = (len << 8) | (d[start + i] & 0xFF);
            }
            start += n;
        }
        if (len > limit - start) {
            throw bad("an element of " + len + " bytes runs past its container at offset " + at);
        }
        return new Tlv(tag, start, start + len);
    }

    private static void expect(Tlv t, int tag, String what) {
        if (t.tag != tag) {
            throw bad(what + " has tag 0x" + Integer.toHexString(t.tag) + ", not 0x" + Integer.toHexString(tag));
        }
    }

    private static boolean equal(byte[] d, Tlv t, byte[] value) {
        if (t.end - t.start != value.length) {
            return false;
        }
        for (int i = 0; i < value.length; i++) {
            if (d[t.start + i] != value[i]) {
                return false;
            }
        }
        return true;
    }

    private static byte[] bytes(byte[] d, Tlv t) {
        byte[] out = new byte[t.end - t.start];
        System.arraycopy(d, t.start, out, 0, out.length);
        return out;
    }

    private static FormatException bad(String why) {
        return new FormatException(FormatException.Reason.CORRUPT, "The module's CMS signature cannot be parsed", why,
                "Sign the module again with 'rkmod sign --force'");
    }
}
