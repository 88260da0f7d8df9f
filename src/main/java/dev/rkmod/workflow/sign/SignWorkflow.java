package dev.rkmod.workflow.sign;

import dev.rkmod.format.CompressedModule;
import dev.rkmod.format.FormatException;
import dev.rkmod.format.KernelConfig;
import dev.rkmod.format.ModuleCms;
import dev.rkmod.format.ModuleSignature;
import dev.rkmod.infra.fs.FileOps;
import dev.rkmod.model.ExitCode;
import dev.rkmod.model.RkmodException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.Signature;
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
        byte[] certDer = Keys.certificateDer(cert);
        boolean rsa = pk.getAlgorithm().equals("RSA") && ModuleCms.supports(hash);
        // RSA: the key and certificate are proven to belong together by the first module's real signature, verified
        // with the certificate's public key before any module is written (a test signature in a cold JVM cost 30 ms)
        Optional<PairProof> proof = rsa ? PairProof.of(certDer, hash) : Optional.empty();
        if (proof.isEmpty()) {
            Keys.checkPair(pk, certDer, key, cert);
        }
        CmsMaker maker = rsa
                ? rsaMaker(pk, ModuleCms.signerOf(certDer), hash, proof)
                : bcMaker(pk, Keys.certificate(cert), hash);
        // two threads pay on two cores; each has its own Signature (JCA objects are not thread-safe)
        List<SignOutcome> outcomes = modules.parallelStream().map(m -> {
            try {
                return new SignOutcome(m, Optional.of(signOne(m, maker, hash, out, force)), Optional.empty());
            } catch (RkmodException e) {
                return new SignOutcome(m, Optional.empty(), Optional.of(e));
            }
        }).toList();
        if (proof.isPresent() && !proof.get().proven()) {
            // no module was signed (all refused, or the certificate does not fit): nothing was written; the pair check
            // decides, as it always did before any module, so that a wrong certificate is reported as such
            Keys.checkPair(pk, certDer, key, cert);
            if (proof.get().refuted()) {
                throw signingFailed(new java.security.SignatureException("the first signature does not verify with the certificate"));
            }
        }
        modules.stream().map(m -> out.orElse(m).toAbsolutePath().getParent()).filter(java.util.Objects::nonNull).distinct()
                .forEach(FileOps::sweepStaleTemps); // what a killed 'sign' left
        return outcomes;
    }

    /**
     * The proof that the key and the certificate belong together: the first signature made in this call verifies with the
     * certificate's public key. Until it is proven no module is written; once refuted none is.
     */
    private static final class PairProof {
        private final java.security.PublicKey certKey;
        private final String algorithm;
        private volatile int state; // 0 not yet, 1 proven, 2 refuted

        private PairProof(java.security.PublicKey certKey, String algorithm) {
            this.certKey = certKey;
            this.algorithm = algorithm;
        }

        /** The proof for an RSA certificate, or empty when its public key cannot be read here (the general check runs). */
        static Optional<PairProof> of(byte[] certDer, String hash) {
            try {
                java.security.PublicKey pub = java.security.KeyFactory.getInstance("RSA")
                        .generatePublic(new java.security.spec.X509EncodedKeySpec(ModuleCms.publicKeyInfo(certDer)));
                return Optional.of(new PairProof(pub, ModuleCms.jcaRsaAlgorithm(hash)));
            } catch (GeneralSecurityException | RuntimeException e) {
                return Optional.empty();
            }
        }

        /** Whether {@code signature} of the module's first {@code length} bytes proves the pair (checked once, by the first caller). */
        boolean holds(byte[] module, int length, byte[] signature) {
            if (state == 0) {
                synchronized (this) {
                    if (state == 0) {
                        state = verifies(module, length, signature) ? 1 : 2;
                    }
                }
            }
            return state == 1;
        }

        private boolean verifies(byte[] module, int length, byte[] signature) {
            try {
                Signature v = Signature.getInstance(algorithm);
                v.initVerify(certKey);
                v.update(module, 0, length);
                return v.verify(signature);
            } catch (GeneralSecurityException | RuntimeException e) {
                return false;
            }
        }

        /** What a module gets once the proof failed; never reported, as the whole call then fails with the pair check's message. */
        static RkmodException refutation() {
            return new RkmodException(ExitCode.USAGE, "The certificate does not match the private key", null, null);
        }

        boolean proven() {
            return state == 1;
        }

        boolean refuted() {
            return state == 2;
        }
    }

    /** Makes the CMS signature of the first {@code length} bytes of a module; safe to call from several threads. */
    private interface CmsMaker {
        byte[] cms(byte[] module, int length);
    }

    /**
     * RSA: PKCS#1 v1.5 with the JDK's RSA (CRT when the key carries its primes, as every PEM key does), one Signature per
     * thread, initialised once with the key; the module is hashed once, and the DER is written by {@link ModuleCms}.
     */
    private static CmsMaker rsaMaker(PrivateKey pk, ModuleCms.Signer signer, String hash, Optional<PairProof> proof) {
        ThreadLocal<Signature> signatures = ThreadLocal.withInitial(() -> {
            try {
                Signature sig = Signature.getInstance(ModuleCms.jcaRsaAlgorithm(hash));
                sig.initSign(pk);
                return sig;
            } catch (GeneralSecurityException e) {
                throw signingFailed(e);
            }
        });
        return (module, length) -> {
            if (proof.isPresent() && proof.get().refuted()) {
                throw PairProof.refutation(); // no more signatures that no module will get
            }
            Signature sig = signatures.get();
            try {
                sig.update(module, 0, length);
                byte[] value = sig.sign();
                if (proof.isPresent() && !proof.get().holds(module, length, value)) {
                    throw PairProof.refutation();
                }
                return ModuleCms.signedData(hash, signer, value);
            } catch (GeneralSecurityException e) {
                throw signingFailed(e);
            }
        };
    }

    /** Other keys (EC): BouncyCastle's CMS generator, one per thread. */
    private static CmsMaker bcMaker(PrivateKey pk, org.bouncycastle.cert.X509CertificateHolder cert, String hash) {
        ThreadLocal<org.bouncycastle.cms.CMSSignedDataGenerator> generators =
                ThreadLocal.withInitial(() -> BcCms.generator(pk, cert, hash));
        return (module, length) -> BcCms.cms(length == module.length ? module : Arrays.copyOf(module, length),
                generators.get());
    }

    private static RkmodException signingFailed(GeneralSecurityException e) {
        return new RkmodException(ExitCode.ENVIRONMENT, "Signing failed", e.getClass().getSimpleName() + ": " + e.getMessage(),
                "Check that the key and certificate belong together and the hash is supported");
    }

    private Signed signOne(Path m, CmsMaker maker, String hash, Optional<Path> out, boolean force) {
        byte[] raw = read(m);
        CompressedModule.Kind kind = CompressedModule.detect(raw);
        byte[] plain = kind == CompressedModule.Kind.NONE ? raw : decompress(m, raw);
        notAModule(m, plain);
        int length = plain.length;
        if (ModuleSignature.isSigned(plain)) {
            if (!force) {
                throw new RkmodException(ExitCode.USAGE, m + " is already signed",
                        "Signing it again would stack a second signature", "Pass --force to replace the signature");
            }
            length = ModuleSignature.unsignedLength(plain);
        }
        byte[] cms = maker.cms(plain, length);
        byte[] trailer = ModuleSignature.trailer(cms.length);
        byte[] signed = new byte[length + cms.length + trailer.length];
        System.arraycopy(plain, 0, signed, 0, length);
        System.arraycopy(cms, 0, signed, length, cms.length);
        System.arraycopy(trailer, 0, signed, length + cms.length, trailer.length);
        // a whole new file renamed over the old one: a crash leaves the module unsigned or fully signed, never half
        Path dest = out.orElse(m);
        FileOps.writeAtomically(dest, kind == CompressedModule.Kind.NONE ? signed : CompressedModule.compress(signed, kind));
        return new Signed(m, dest, hash, cms.length, kind);
    }

    public List<Checked> verify(List<Path> modules, Path cert) {
        return BcCms.verify(modules, cert);
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

    static byte[] read(Path m) {
        try {
            return Files.readAllBytes(m);
        } catch (IOException e) {
            throw new RkmodException(ExitCode.USAGE, "Cannot read " + m, FileOps.reason(e), "Check the path");
        }
    }
}
