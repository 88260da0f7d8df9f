package dev.rkmod.cli;

import dev.rkmod.model.ExitCode;
import dev.rkmod.workflow.sign.SignWorkflow;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;

@Command(name = "sign", mixinStandardHelpOptions = true,
        header = "Sign modules in-process, byte-identical to the kernel's sign-file.",
        description = "Sign modules in-process, byte-identical to the kernel's scripts/sign-file: a detached CMS signature "
            + "(no certificates, no signed attributes, rsaEncryption) plus the trailer. In place and atomic; .ko.xz, "
            + ".ko.zst and .ko.gz are decompressed, signed and recompressed.")
final class SignCommand implements Callable<Integer> {
    private final Session session;

    @Parameters(arity = "1..*", paramLabel = "FILE.ko") List<Path> modules = new ArrayList<>();
    @Option(names = "--key", required = true, paramLabel = "KEY", description = "Private key (PEM or DER, RSA or EC).") Path key;
    @Option(names = "--cert", required = true, paramLabel = "CERT", description = "X.509 certificate (PEM or DER).") Path cert;
    @Option(names = "--hash", paramLabel = "ALG", description = "sha256|sha384|sha512|sha1|sha224 (default: CONFIG_MODULE_SIG_HASH with --kdir, else sha256).") String hash;
    @Option(names = "--kdir", paramLabel = "DIR", description = "Kernel tree whose CONFIG_MODULE_SIG_HASH is the default.") Path kdir;
    @Option(names = "--out", paramLabel = "FILE", description = "Write the signed module here instead of in place (one module).") Path out;
    @Option(names = "--force", description = "Replace an existing signature.") boolean force;
    @Option(names = "--insecure-key-perms", description = "Accept a world-readable private key.") boolean insecure;
    @Mixin OutputOptions output = new OutputOptions();

    SignCommand(Session session) {
        this.session = session;
    }

    @Override
    public Integer call() {
        List<SignWorkflow.SignOutcome> outcomes = new SignWorkflow().signEach(modules, key, cert, Optional.ofNullable(hash),
                Optional.ofNullable(kdir), Optional.ofNullable(out), force, insecure);
        List<SignWorkflow.Signed> done = outcomes.stream().flatMap(o -> o.signed().stream()).toList();
        List<SignWorkflow.SignOutcome> failed = outcomes.stream().filter(o -> o.error().isPresent()).toList();
        if (output.json()) {
            session.out().println(Json.write(new SignedModules(done.stream()
                    .map(d -> new Signed(d.module(), d.out(), d.hash(), d.cmsBytes())).toList(),
                    failed.isEmpty() ? Optional.empty() : Optional.of(failed.stream().map(f -> new NotSigned(f.module(),
                            f.error().get().paragraph(), f.error().get().exitCode().code())).toList()))));
        } else {
            done.forEach(s -> session.out().println("signed " + s.out() + " (" + s.hash() + ", " + s.cmsBytes() + " byte signature)"));
            session.out().flush();
            // every module that could not be signed is named, and left as it was
            failed.forEach(f -> session.err().println("rkmod: error: " + f.error().get().paragraph()));
            session.err().flush();
        }
        return failed.stream().mapToInt(f -> f.error().get().exitCode().code()).max().orElse(ExitCode.OK.code());
    }

    /** --json: every signed module. */
    record SignedModules(List<Signed> signed, Optional<List<NotSigned>> notSigned) { }

    /** A module that was not signed (and is unchanged): why, and the exit code that stands for. */
    record NotSigned(Path module, String error, int exitCode) { }

    /** A module, where its signed form went, the hash and the size of the CMS signature. */
    record Signed(Path module, Path out, String hash, int signatureBytes) { }
}
