package dev.rkmod.workflow.sign;

import dev.rkmod.format.CompressedModule;
import dev.rkmod.format.FormatException;
import dev.rkmod.format.KernelConfig;
import dev.rkmod.format.ModuleSignature;
import dev.rkmod.infra.fs.FileOps;
import dev.rkmod.model.ExitCode;
import dev.rkmod.model.RkmodException;
import org.bouncycastle.asn1.DERNull;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.x509.AlgorithmIdentifier;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cms.CMSException;
import org.bouncycastle.cms.CMSProcessableByteArray;
import org.bouncycastle.cms.CMSSignedData;
import org.bouncycastle.cms.CMSSignedDataGenerator;
import org.bouncycastle.cms.CMSSignatureEncryptionAlgorithmFinder;
import org.bouncycastle.cms.SignerInformation;
import org.bouncycastle.cms.SignerInfoGeneratorBuilder;
import org.bouncycastle.cms.jcajce.JcaSimpleSignerInfoVerifierBuilder;
import org.bouncycastle.operator.ContentSigner;
import org.bouncycastle.operator.DigestCalculator;
import org.bouncycastle.operator.DigestCalculatorProvider;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.operator.jcajce.JcaDigestCalculatorProviderBuilder;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.PrivateKey;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * The BouncyCastle side of signing and verifying: the general CMS generator (used for EC keys; RSA keys take the
 * minimal writer {@link dev.rkmod.format.ModuleCms}, which the unit tests prove byte-identical to this one) and the
 * verifier. Kept apart so that signing with an RSA key loads no BouncyCastle class.
 */
final class BcCms {
    private BcCms() {
    }

    static byte[] cms(byte[] module, CMSSignedDataGenerator gen) {
        try {
            return gen.generate(new CMSProcessableByteArray(module), false).getEncoded("DER");
        } catch (CMSException | IOException e) {
            throw new RkmodException(ExitCode.ENVIRONMENT, "Signing failed", e.getClass().getSimpleName() + ": " + e.getMessage(),
                    "Check that the key and certificate belong together and the hash is supported");
        }
    }

    /** A CMS generator for detached, attribute-less signatures as sign-file makes them; reusable per thread. */
    static CMSSignedDataGenerator generator(PrivateKey key, X509CertificateHolder cert, String hash) {
        try {
            String keyAlg = key.getAlgorithm().equals("EC") ? "ECDSA" : "RSA";
            ContentSigner signer = new JcaContentSignerBuilder(hash.toUpperCase(Locale.ROOT) + "with" + keyAlg).build(key);
            CMSSignatureEncryptionAlgorithmFinder plainRsa = sigAlg -> keyAlg.equals("RSA")
                    ? new AlgorithmIdentifier(PKCSObjectIdentifiers.rsaEncryption, DERNull.INSTANCE) : sigAlg;
            CMSSignedDataGenerator gen = new CMSSignedDataGenerator();
            DigestCalculatorProvider base = new JcaDigestCalculatorProviderBuilder().build();
            // like OpenSSL, encode digest algorithms without parameters (BouncyCastle adds NULL for SHA-1)
            DigestCalculatorProvider noParams = id -> {
                DigestCalculator dc = base.get(id);
                AlgorithmIdentifier bare = new AlgorithmIdentifier(id.getAlgorithm());
                return new DigestCalculator() {
                    @Override
                    public AlgorithmIdentifier getAlgorithmIdentifier() {
                        return bare;
                    }

                    @Override
                    public java.io.OutputStream getOutputStream() {
                        return dc.getOutputStream();
                    }

                    @Override
                    public byte[] getDigest() {
                        return dc.getDigest();
                    }
                };
            };
            gen.addSignerInfoGenerator(new SignerInfoGeneratorBuilder(noParams, plainRsa)
                    .setDirectSignature(true).build(signer, cert));
            return gen;
        } catch (OperatorCreationException e) {
            throw new RkmodException(ExitCode.ENVIRONMENT, "Signing failed", e.getClass().getSimpleName() + ": " + e.getMessage(),
                    "Check that the key and certificate belong together and the hash is supported");
        }
    }

    static List<SignWorkflow.Checked> verify(List<Path> modules, Path cert) {
        X509CertificateHolder certificate = Keys.certificate(cert);
        List<SignWorkflow.Checked> out = new ArrayList<>();
        for (Path m : modules) {
            try {
                out.add(verifyOne(m, certificate));
            } catch (RkmodException e) {
                out.add(new SignWorkflow.Checked(m, false, e.paragraph(), null, true));
            }
        }
        return out;
    }

    private static SignWorkflow.Checked verifyOne(Path m, X509CertificateHolder cert) {
        byte[] plain;
        Optional<ModuleSignature> sig;
        try {
            plain = CompressedModule.decompress(read(m));
        } catch (FormatException e) { // cannot be read at all: reported as unreadable (exit 2), not as a bad signature
            throw new RkmodException(ExitCode.USAGE, e.what(), e.why(), e.fix());
        }
        try {
            sig = ModuleSignature.read(plain);
        } catch (FormatException e) {
            return new SignWorkflow.Checked(m, false, "the signature trailer cannot be parsed: " + e.why(), null);
        }
        if (sig.isEmpty()) {
            return new SignWorkflow.Checked(m, false, "no signature", null);
        }
        try {
            byte[] body = Arrays.copyOf(plain, sig.get().moduleLength());
            CMSSignedData sd = new CMSSignedData(new CMSProcessableByteArray(body), sig.get().cms());
            List<SignerInformation> signers = new ArrayList<>(sd.getSignerInfos().getSigners());
            if (signers.isEmpty()) {
                return new SignWorkflow.Checked(m, false, "the signature has no signer", null);
            }
            SignerInformation si = signers.get(0);
            String signer = si.getSID().getIssuer() == null ? "subject key id" : si.getSID().getIssuer().toString();
            if (!si.getSID().match(cert)) {
                return new SignWorkflow.Checked(m, false, "signed with another key (signer " + signer + ", serial "
                        + si.getSID().getSerialNumber() + ")", signer);
            }
            if (si.getSignedAttributes() != null) {
                return new SignWorkflow.Checked(m, false, "the signature carries signed attributes, which the kernel rejects", signer);
            }
            boolean ok = si.verify(new JcaSimpleSignerInfoVerifierBuilder().build(cert));
            return new SignWorkflow.Checked(m, ok, ok ? "valid" : "the module was modified after signing (signature mismatch)", signer);
        } catch (CMSException e) {
            return new SignWorkflow.Checked(m, false, "the module was modified after signing, or the signature is corrupt ("
                    + e.getMessage() + ")", null);
        } catch (OperatorCreationException | java.security.cert.CertificateException | RuntimeException e) {
            return new SignWorkflow.Checked(m, false, "the signature cannot be parsed (" + e.getClass().getSimpleName() + ")", null);
        }
    }

    private static byte[] read(Path m) {
        try {
            return Files.readAllBytes(m);
        } catch (IOException e) {
            throw new RkmodException(ExitCode.USAGE, "Cannot read " + m, dev.rkmod.infra.fs.FileOps.reason(e), "Check the path");
        }
    }
}
