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
 * `rkmod sign` and `rkmod verify`, in-process: a detached CMS signature with no certificates and no
 * signed attributes, rsaEncryption as the signature algorithm, then sign-file's trailer, byte for byte
 * what {@code scripts/sign-file} writes.
 */
public final class SignWorkflow {
    public static final List<String> HASHES = List.of("sha256", "sha384", "sha512", "sha1", "sha224");

    /** One signed module. */
    public record Signed(Path module, Path out, String hash, int cmsBytes, CompressedModule.Kind compression) { }

    /** One verification result. */
    public record Checked(Path module, boolean valid, String reason, String signer, boolean unreadable) {
        Checked(Path module, boolean valid, String reason, String signer) {
            this(module, valid, reason, signer, false);
        }
    }

    /** What became of one module in a batch: signed, or the error that kept it from being signed (it is unchanged). */
    public record SignOutcome(Path module, Optional<Signed> signed, Optional<RkmodException> error) { }

    /** Signs every module; the first module that cannot be signed ends the call with its error (the others are signed). */
    public List<Signed> sign(List<Path> modules, Path key, Path cert, Optional<String> hashOpt, Optional<Path> kdir,
                             Optional<Path> out, boolean force, boolean insecureKeyPerms) {
        return signEach(modules, key, cert, hashOpt, kdir, out, force, insecureKeyPerms).stream().map(o -> {
            if (o.error().isPresent()) {
                throw o.error().get();
            }
            return o.signed().orElseThrow();
        }).toList();
    }

    /**
     * Signs each module on its own: a module that cannot be signed (unreadable, not a module, already signed) is
     * reported and left unchanged, and never stops the others. A bad key, certificate or option fails the whole call.
     * Each module is replaced atomically, so it is either unsigned or fully signed.
     */
    public List<SignOutcome> signEach(List<Path> modules, Path key, Path cert, Optional<String> hashOpt, Optional<Path> kdir,
                                      Optional<Path> out, boolean force, boolean insecureKeyPerms) {
        if (out.isPresent() && modules.size() != 1) {
            throw new RkmodException(ExitCode.USAGE, "--out needs exactly one module", null, "Sign several modules in place");
        }
        String hash = hashOpt.orElseGet(() -> kdir.map(SignWorkflow::configHash).orElse("sha256")).toLowerCase(Locale.ROOT);
        if (!HASHES.contains(hash)) {
            throw new RkmodException(ExitCode.USAGE, "Unsupported hash '" + hash + "'", "Supported: " + HASHES, null);
        }
        PrivateKey pk = Keys.privateKey(key, insecureKeyPerms);
        X509CertificateHolder certificate = Keys.certificate(cert);
        Keys.checkPair(pk, certificate, key, cert);
        modules.stream().map(m -> out.orElse(m).toAbsolutePath().getParent()).filter(java.util.Objects::nonNull).distinct()
                .forEach(FileOps::sweepStaleTemps); // what a killed 'sign' left
        ThreadLocal<CMSSignedDataGenerator> generators = ThreadLocal.withInitial(() -> generator(pk, certificate, hash));
        return modules.parallelStream().map(m -> {
            try {
                return new SignOutcome(m, Optional.of(signOne(m, generators.get(), hash, out, force)), Optional.empty());
            } catch (RkmodException e) {
                return new SignOutcome(m, Optional.empty(), Optional.of(e));
            }
        }).toList();
    }

    private Signed signOne(Path m, CMSSignedDataGenerator generator, String hash, Optional<Path> out, boolean force) {
            byte[] raw = read(m);
            CompressedModule.Kind kind = CompressedModule.detect(raw);
            byte[] plain = decompress(m, raw);
            notAModule(m, plain);
            if (ModuleSignature.isSigned(plain)) {
                if (!force) {
                    throw new RkmodException(ExitCode.USAGE, m + " is already signed",
                            "Signing it again would stack a second signature", "Pass --force to replace the signature");
                }
                plain = Arrays.copyOf(plain, ModuleSignature.unsignedLength(plain));
            }
            byte[] cms = cms(plain, generator);
            byte[] trailer = ModuleSignature.trailer(cms.length);
            byte[] signed = new byte[plain.length + cms.length + trailer.length];
            System.arraycopy(plain, 0, signed, 0, plain.length);
            System.arraycopy(cms, 0, signed, plain.length, cms.length);
            System.arraycopy(trailer, 0, signed, plain.length + cms.length, trailer.length);
            Path dest = out.orElse(m);
            FileOps.writeAtomically(dest, kind == CompressedModule.Kind.NONE ? signed : CompressedModule.compress(signed, kind));
            return new Signed(m, dest, hash, cms.length, kind);
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

    public List<Checked> verify(List<Path> modules, Path cert) {
        X509CertificateHolder certificate = Keys.certificate(cert);
        List<Checked> out = new ArrayList<>();
        for (Path m : modules) {
            try {
                out.add(verifyOne(m, certificate));
            } catch (RkmodException e) {
                out.add(new Checked(m, false, e.paragraph(), null, true));
            }
        }
        return out;
    }

    private Checked verifyOne(Path m, X509CertificateHolder cert) {
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
            return new Checked(m, false, "the signature trailer cannot be parsed: " + e.why(), null);
        }
        if (sig.isEmpty()) {
            return new Checked(m, false, "no signature", null);
        }
        try {
            byte[] body = Arrays.copyOf(plain, sig.get().moduleLength());
            CMSSignedData sd = new CMSSignedData(new CMSProcessableByteArray(body), sig.get().cms());
            List<SignerInformation> signers = new ArrayList<>(sd.getSignerInfos().getSigners());
            if (signers.isEmpty()) {
                return new Checked(m, false, "the signature has no signer", null);
            }
            SignerInformation si = signers.get(0);
            String signer = si.getSID().getIssuer() == null ? "subject key id" : si.getSID().getIssuer().toString();
            if (!si.getSID().match(cert)) {
                return new Checked(m, false, "signed with another key (signer " + signer + ", serial "
                        + si.getSID().getSerialNumber() + ")", signer);
            }
            if (si.getSignedAttributes() != null) {
                return new Checked(m, false, "the signature carries signed attributes, which the kernel rejects", signer);
            }
            boolean ok = si.verify(new JcaSimpleSignerInfoVerifierBuilder().build(cert));
            return new Checked(m, ok, ok ? "valid" : "the module was modified after signing (signature mismatch)", signer);
        } catch (CMSException e) {
            return new Checked(m, false, "the module was modified after signing, or the signature is corrupt ("
                    + e.getMessage() + ")", null);
        } catch (OperatorCreationException | java.security.cert.CertificateException | RuntimeException e) {
            return new Checked(m, false, "the signature cannot be parsed (" + e.getClass().getSimpleName() + ")", null);
        }
    }

    private static String configHash(Path kdir) {
        try {
            return KernelConfig.read(kdir.resolve(".config")).string("MODULE_SIG_HASH").orElse("sha256");
        } catch (IOException e) {
            return "sha256";
        }
    }

    /** A compressed module that cannot be decompressed cannot be read (exit 2), named with its file. */
    private static byte[] decompress(Path m, byte[] raw) {
        try {
            return CompressedModule.decompress(raw);
        } catch (FormatException e) {
            throw new RkmodException(ExitCode.USAGE, m + ": " + e.what(), e.why(), e.fix());
        }
    }

    /** Refuses a file that is no ELF module (truncated, or something else): signing it would only hide the damage. */
    private static void notAModule(Path m, byte[] plain) {
        try {
            int length = ModuleSignature.isSigned(plain) ? ModuleSignature.unsignedLength(plain) : plain.length;
            dev.rkmod.format.ElfFile.parse(plain, length);
        } catch (FormatException e) {
            throw new RkmodException(ExitCode.USAGE, m + " is not a module: " + e.what(), e.why(),
                    "Rebuild it; it was left unchanged");
        }
    }

    private static byte[] read(Path m) {
        try {
            return Files.readAllBytes(m);
        } catch (IOException e) {
            throw new RkmodException(ExitCode.USAGE, "Cannot read " + m, FileOps.reason(e), "Check the path");
        }
    }
}
