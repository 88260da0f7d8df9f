package dev.rkmod.workflow.sign;

import dev.rkmod.format.ModuleCms;
import dev.rkmod.model.ExitCode;
import dev.rkmod.model.RkmodException;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;

import java.io.IOException;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Optional;
import java.util.Set;

/** Loads signing keys and certificates (PEM or DER). Never puts key material in a message. */
final class Keys {
    private Keys() {
    }

    /** What one PEM block yields, or null to read on to the next block. */
    private interface Pick<T> {
        T from(Object block) throws IOException;
    }

    static PrivateKey privateKey(Path file, boolean allowInsecurePerms) {
        try {
            Set<PosixFilePermission> perms = Files.getPosixFilePermissions(file);
            if (perms.contains(PosixFilePermission.OTHERS_READ) && !allowInsecurePerms) {
                throw new RkmodException(ExitCode.USAGE, "The private key " + file + " is readable by every user",
                        "A module signing key must stay private", "Run 'chmod 600 " + file + "', or pass --insecure-key-perms");
            }
            byte[] data = Files.readAllBytes(file);
            Optional<PrivateKey> fast = plainPemKey(data);
            if (fast.isPresent()) {
                return fast.get();
            }
            if (isPem(data)) {
                JcaPEMKeyConverter conv = new JcaPEMKeyConverter();
                return firstPem(data, o -> o instanceof PEMKeyPair kp ? conv.getKeyPair(kp).getPrivate()
                        : o instanceof PrivateKeyInfo pki ? conv.getPrivateKey(pki) : null)
                        .orElseThrow(() -> new RkmodException(ExitCode.USAGE, file + " holds no unencrypted private key",
                                "Only PEM 'PRIVATE KEY', 'RSA PRIVATE KEY' and 'EC PRIVATE KEY' blocks (or PKCS#8 DER) are read",
                                "Pass the signing key (certs/signing_key.pem of a kernel build)"));
            }
            PrivateKeyInfo pki = PrivateKeyInfo.getInstance(data);
            String alg = pki.getPrivateKeyAlgorithm().getAlgorithm().getId().equals("1.2.840.10045.2.1") ? "EC" : "RSA";
            return KeyFactory.getInstance(alg).generatePrivate(new PKCS8EncodedKeySpec(data));
        } catch (RkmodException e) {
            throw e;
        } catch (java.nio.file.NoSuchFileException e) {
            throw new RkmodException(ExitCode.USAGE, "The private key " + file + " does not exist", null,
                    "Pass the signing key (certs/signing_key.pem of a kernel build)");
        } catch (java.nio.file.AccessDeniedException e) {
            throw new RkmodException(ExitCode.USAGE, "Cannot read the private key " + file + ": permission denied",
                    "rkmod runs as user " + System.getProperty("user.name") + ", who may not read it",
                    "Run rkmod as the key's owner (or with sudo), or give that user read access (chmod u+r, or a group)");
        } catch (IOException | RuntimeException | java.security.GeneralSecurityException e) {
            throw new RkmodException(ExitCode.USAGE, "Cannot read the private key " + file,
                    "It is not a PEM or DER private key (" + e.getClass().getSimpleName() + ")", "Pass an RSA or EC private key");
        }
    }

    static X509CertificateHolder certificate(Path file) {
        try {
            byte[] data = Files.readAllBytes(file);
            if (isPem(data)) {
                return firstPem(data, o -> o instanceof X509CertificateHolder c ? c : null)
                        .orElseThrow(() -> new RkmodException(ExitCode.USAGE, file + " holds no X.509 certificate", null,
                                "Pass the certificate (PEM or DER), e.g. certs/signing_key.x509"));
            }
            return new X509CertificateHolder(data);
        } catch (RkmodException e) {
            throw e;
        } catch (java.nio.file.NoSuchFileException e) {
            throw new RkmodException(ExitCode.USAGE, "The certificate " + file + " does not exist", null,
                    "Pass the certificate (PEM or DER), e.g. certs/signing_key.x509");
        } catch (java.nio.file.AccessDeniedException e) {
            throw new RkmodException(ExitCode.USAGE, "Cannot read the certificate " + file + ": permission denied",
                    "rkmod runs as user " + System.getProperty("user.name") + ", who may not read it",
                    "Give that user read access to the certificate (it is public: chmod a+r)");
        } catch (IOException | RuntimeException e) {
            throw new RkmodException(ExitCode.USAGE, "Cannot read the certificate " + file, e.getMessage(),
                    "Pass an X.509 certificate in PEM or DER");
        }
    }

    /**
     * Refuses a certificate that does not belong to the key: a test signature made with the key must verify with the
     * certificate's public key. Without this check every module would be signed and then rejected by the kernel.
     */
    static void checkPair(PrivateKey key, byte[] certDer, Path keyFile, Path certFile) {
        boolean ok;
        String subject = "unreadable";
        try {
            java.security.cert.X509Certificate x509 = (java.security.cert.X509Certificate) java.security.cert.CertificateFactory
                    .getInstance("X.509").generateCertificate(new java.io.ByteArrayInputStream(certDer));
            subject = x509.getSubjectX500Principal().getName();
            java.security.PublicKey pub = x509.getPublicKey();
            String alg = key.getAlgorithm().equals("EC") ? "SHA256withECDSA" : "SHA256withRSA";
            if (!pub.getAlgorithm().equals(key.getAlgorithm())) {
                ok = false;
            } else {
                byte[] probe = "rkmod key and certificate pair check".getBytes(StandardCharsets.US_ASCII);
                java.security.Signature s = java.security.Signature.getInstance(alg);
                s.initSign(key);
                s.update(probe);
                byte[] sig = s.sign();
                java.security.Signature v = java.security.Signature.getInstance(alg);
                v.initVerify(pub);
                v.update(probe);
                ok = v.verify(sig);
            }
        } catch (java.security.GeneralSecurityException | RuntimeException e) {
            ok = false;
        }
        if (!ok) {
            throw new RkmodException(ExitCode.USAGE, "The certificate " + certFile + " does not match the private key " + keyFile,
                    "Its public key is not the key's (subject " + subject + "), so the kernel would reject every"
                            + " module signed this way; no module was touched",
                    "Pass the certificate made with this key (certs/signing_key.x509 beside certs/signing_key.pem)");
        }
    }

    /**
     * The DER of the certificate in {@code file} (the first PEM certificate, or the DER file), checked to name an
     * issuer and serial number. Plain PEM and DER are read without BouncyCastle; anything else goes through
     * {@link #certificate(Path)} and its messages.
     */
    static byte[] certificateDer(Path file) {
        try {
            byte[] data = Files.readAllBytes(file);
            byte[] der = isPem(data) ? firstPlainBlock(data, "CERTIFICATE").orElse(null) : data;
            if (der != null) {
                ModuleCms.signerOf(der);
                return der;
            }
        } catch (IOException | RuntimeException e) {
            // the general reader below says what is wrong
        }
        try {
            return certificate(file).getEncoded();
        } catch (IOException e) {
            throw new RkmodException(ExitCode.USAGE, "Cannot read the certificate " + file, e.getMessage(),
                    "Pass an X.509 certificate in PEM or DER");
        }
    }

    /**
     * The common key files, read with the JDK alone (no BouncyCastle classes to load): the first private key block of a
     * PEM file when it is an unencrypted PKCS#8 'PRIVATE KEY' or a traditional 'RSA PRIVATE KEY'. Empty for anything
     * else (EC traditional keys, encrypted keys, DER files, broken blocks), which the general reader handles.
     */
    private static Optional<PrivateKey> plainPemKey(byte[] data) {
        try {
            Optional<byte[]> pkcs8 = firstPlainBlock(data, "PRIVATE KEY");
            if (pkcs8.isPresent()) {
                try {
                    return Optional.of(KeyFactory.getInstance("RSA").generatePrivate(new PKCS8EncodedKeySpec(pkcs8.get())));
                } catch (java.security.spec.InvalidKeySpecException notRsa) {
                    return Optional.of(KeyFactory.getInstance("EC").generatePrivate(new PKCS8EncodedKeySpec(pkcs8.get())));
                }
            }
            Optional<byte[]> pkcs1 = firstPlainBlock(data, "RSA PRIVATE KEY");
            if (pkcs1.isPresent()) {
                // PrivateKeyInfo { version 0, rsaEncryption NULL, OCTET STRING { RSAPrivateKey } }
                byte[] info = ModuleCms.tlv(0x30, HexFormat.of().parseHex("020100300d06092a864886f70d0101010500"), ModuleCms.tlv(0x04, pkcs1.get()));
                return Optional.of(KeyFactory.getInstance("RSA").generatePrivate(new PKCS8EncodedKeySpec(info)));
            }
        } catch (java.security.GeneralSecurityException | RuntimeException e) {
            // not a plain key: the general reader decides
        }
        return Optional.empty();
    }

    /**
     * The decoded body of the first PEM block whose label ends with {@code label}'s last word, when that block is
     * exactly {@code label} and carries no headers (no encryption); empty otherwise.
     */
    private static Optional<byte[]> firstPlainBlock(byte[] data, String label) {
        String text = new String(data, StandardCharsets.ISO_8859_1);
        String kind = label.substring(label.lastIndexOf(' ') + 1);
        int at = 0;
        while ((at = text.indexOf("-----BEGIN ", at)) >= 0) {
            int labelEnd = text.indexOf("-----", at + 11);
            if (labelEnd < 0) {
                return Optional.empty();
            }
            String found = text.substring(at + 11, labelEnd);
            at = labelEnd + 5;
            if (!found.endsWith(kind)) {
                continue;
            }
            String end = "-----END " + found + "-----";
            int stop = text.indexOf(end, at);
            if (!found.equals(label) || stop < 0) {
                return Optional.empty();
            }
            String body = text.substring(at, stop);
            if (body.indexOf(':') >= 0) {
                return Optional.empty();
            }
            return Optional.of(Base64.getMimeDecoder().decode(body));
        }
        return Optional.empty();
    }

    private static boolean isPem(byte[] data) {
        return new String(data, StandardCharsets.ISO_8859_1).contains("-----BEGIN");
    }

    /** The first of the file's PEM blocks that {@code pick} accepts, in file order. */
    private static <T> Optional<T> firstPem(byte[] data, Pick<T> pick) throws IOException {
        try (PEMParser p = new PEMParser(new StringReader(new String(data, StandardCharsets.ISO_8859_1)))) {
            Object o;
            while ((o = p.readObject()) != null) {
                T found = pick.from(o);
                if (found != null) {
                    return Optional.of(found);
                }
            }
        }
        return Optional.empty();
    }
}
