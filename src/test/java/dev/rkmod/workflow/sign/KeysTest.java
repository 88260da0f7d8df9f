package dev.rkmod.workflow.sign;

import dev.rkmod.model.ExitCode;
import dev.rkmod.model.RkmodException;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.StringWriter;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.spec.ECGenParameterSpec;
import java.util.Base64;
import java.util.Date;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Keys reads PEM (any block order, PKCS#8 or traditional) and DER keys and certificates. */
class KeysTest {
    static KeyPair rsa;
    static KeyPair ec;
    static X509CertificateHolder cert;

    @TempDir
    Path tmp;

    @BeforeAll
    static void keys() throws Exception {
        KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
        g.initialize(2048);
        rsa = g.generateKeyPair();
        KeyPairGenerator e = KeyPairGenerator.getInstance("EC");
        e.initialize(new ECGenParameterSpec("secp256r1"));
        ec = e.generateKeyPair();
        X500Name cn = new X500Name("CN=rkmod unit test");
        cert = new JcaX509v3CertificateBuilder(cn, BigInteger.ONE, new Date(0), new Date(4_000_000_000_000L), cn, rsa.getPublic())
                .build(new JcaContentSignerBuilder("SHA256withRSA").build(rsa.getPrivate()));
    }

    static String pem(Object... objects) throws Exception {
        StringWriter s = new StringWriter();
        try (JcaPEMWriter w = new JcaPEMWriter(s)) {
            for (Object o : objects) {
                w.writeObject(o);
            }
        }
        return s.toString();
    }

    static String pkcs8Pem(KeyPair kp) {
        return "-----BEGIN PRIVATE KEY-----\n" + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII))
                .encodeToString(kp.getPrivate().getEncoded()) + "\n-----END PRIVATE KEY-----\n";
    }

    Path file(String name, String content) throws Exception {
        return file(name, content.getBytes(StandardCharsets.US_ASCII));
    }

    Path file(String name, byte[] content) throws Exception {
        Path p = tmp.resolve(name);
        Files.write(p, content);
        Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rw-------"));
        return p;
    }

    @Test
    void aTraditionalRsaPemKeyFollowedByItsCertificateYieldsBoth() throws Exception {
        // certs/signing_key.pem of a kernel build: the key, then the certificate
        Path both = file("signing_key.pem", pem(rsa.getPrivate()) + pem(cert));
        assertThat(Files.readString(both)).contains("-----BEGIN RSA PRIVATE KEY-----");
        assertThat(Keys.privateKey(both, false).getEncoded()).isEqualTo(rsa.getPrivate().getEncoded());
        assertThat(Keys.certificate(both)).isEqualTo(cert);
    }

    @Test
    void aCertificateBeforeThePkcs8KeyIsSkippedWhenReadingTheKey() throws Exception {
        Path both = file("cert-then-key.pem", pem(cert) + pkcs8Pem(ec));
        assertThat(Keys.privateKey(both, false).getEncoded()).isEqualTo(ec.getPrivate().getEncoded());
        assertThat(Keys.certificate(both)).isEqualTo(cert);
    }

    @Test
    void derKeysAndCertificatesAreRead() throws Exception {
        assertThat(Keys.privateKey(file("rsa.der", rsa.getPrivate().getEncoded()), false).getAlgorithm()).isEqualTo("RSA");
        assertThat(Keys.privateKey(file("ec.der", ec.getPrivate().getEncoded()), false).getAlgorithm()).isEqualTo("EC");
        assertThat(Keys.certificate(file("cert.der", cert.getEncoded()))).isEqualTo(cert);
    }

    @Test
    void aPemWithoutTheWantedBlockNamesWhatIsMissing() throws Exception {
        Path certOnly = file("cert.pem", pem(cert));
        assertThatThrownBy(() -> Keys.privateKey(certOnly, false)).isInstanceOfSatisfying(RkmodException.class, e -> {
            assertThat(e.exitCode()).isEqualTo(ExitCode.USAGE);
            assertThat(e.what()).isEqualTo(certOnly + " holds no unencrypted private key");
        });
        Path keyOnly = file("key.pem", pkcs8Pem(rsa));
        assertThatThrownBy(() -> Keys.certificate(keyOnly)).isInstanceOfSatisfying(RkmodException.class, e -> {
            assertThat(e.exitCode()).isEqualTo(ExitCode.USAGE);
            assertThat(e.what()).isEqualTo(keyOnly + " holds no X.509 certificate");
        });
    }

    @Test
    void garbageIsAUsageErrorWithoutKeyMaterial() throws Exception {
        Path junk = file("junk.der", new byte[] {1, 2, 3, 4});
        assertThatThrownBy(() -> Keys.privateKey(junk, false)).isInstanceOfSatisfying(RkmodException.class,
                e -> assertThat(e.what()).isEqualTo("Cannot read the private key " + junk));
        assertThatThrownBy(() -> Keys.certificate(junk)).isInstanceOfSatisfying(RkmodException.class,
                e -> assertThat(e.what()).isEqualTo("Cannot read the certificate " + junk));
        Path broken = file("broken.pem", "-----BEGIN PRIVATE KEY-----\nnot base64 at all!\n-----END PRIVATE KEY-----\n");
        assertThatThrownBy(() -> Keys.privateKey(broken, false)).isInstanceOfSatisfying(RkmodException.class,
                e -> assertThat(e.paragraph()).startsWith("Cannot read the private key " + broken).doesNotContain("not base64"));
    }

    @Test
    void plainPemAndDerCertificatesAreReadWithoutBouncyCastleAsTheSameBytes() throws Exception {
        assertThat(Keys.certificateDer(file("both.pem", pem(rsa.getPrivate()) + pem(cert)))).isEqualTo(cert.getEncoded());
        assertThat(Keys.certificateDer(file("cert.der", cert.getEncoded()))).isEqualTo(cert.getEncoded());
        Path keyOnly = file("key.pem", pkcs8Pem(rsa));
        assertThatThrownBy(() -> Keys.certificateDer(keyOnly)).isInstanceOfSatisfying(RkmodException.class,
                e -> assertThat(e.what()).isEqualTo(keyOnly + " holds no X.509 certificate"));
        Path junk = file("junk.der", new byte[] {0x30, 3, 1, 2, 3});
        assertThatThrownBy(() -> Keys.certificateDer(junk)).isInstanceOfSatisfying(RkmodException.class,
                e -> assertThat(e.what()).isEqualTo("Cannot read the certificate " + junk));
    }

    @Test
    void anEncryptedPemKeyIsNotMistakenForAPlainOne() throws Exception {
        String encrypted = "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00112233445566778899AABBCCDDEEFF\n\n"
                + Base64.getMimeEncoder().encodeToString(new byte[96]) + "\n-----END RSA PRIVATE KEY-----\n";
        Path enc = file("enc.pem", encrypted);
        assertThatThrownBy(() -> Keys.privateKey(enc, false)).isInstanceOf(RkmodException.class)
                .satisfies(e -> assertThat(((RkmodException) e).exitCode()).isEqualTo(ExitCode.USAGE));
    }

    @Test
    void aWorldReadableKeyIsRefusedUnlessAllowed() throws Exception {
        Path loose = file("loose.pem", pkcs8Pem(rsa));
        Files.setPosixFilePermissions(loose, PosixFilePermissions.fromString("rw-r--r--"));
        assertThatThrownBy(() -> Keys.privateKey(loose, false)).isInstanceOfSatisfying(RkmodException.class,
                e -> assertThat(e.paragraph()).contains("readable by every user").contains("chmod 600"));
        assertThat(Keys.privateKey(loose, true).getEncoded()).isEqualTo(rsa.getPrivate().getEncoded());
    }

    @Test
    void aCertificateIsCheckedAgainstTheKeyItMustBelongTo() throws Exception {
        Keys.checkPair(rsa.getPrivate(), cert.getEncoded(), Path.of("key.pem"), Path.of("cert.pem"));
        KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
        g.initialize(2048);
        for (java.security.PrivateKey other : List.of(g.generateKeyPair().getPrivate(), ec.getPrivate())) {
            assertThatThrownBy(() -> Keys.checkPair(other, cert.getEncoded(), Path.of("key.pem"), Path.of("cert.pem")))
                    .isInstanceOfSatisfying(RkmodException.class, e -> {
                        assertThat(e.exitCode()).isEqualTo(ExitCode.USAGE);
                        assertThat(e.paragraph()).contains("does not match the private key key.pem").contains("CN=rkmod unit test");
                    });
        }
    }
}
