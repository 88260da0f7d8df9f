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
import java.util.concurrent.Callable;

@Command(name = "verify", mixinStandardHelpOptions = true,
        header = "Check module signatures against a certificate.",
        description = "Check module signatures against a certificate: valid, or why not (no signature, another key, a"
                + " modified module, an unparsable trailer). Every module is reported; exit 1 if any module fails, 2 if"
                + " any cannot be read.")
final class VerifyCommand implements Callable<Integer> {
    private final Session session;

    @Parameters(arity = "1..*", paramLabel = "FILE.ko") List<Path> modules = new ArrayList<>();
    @Option(names = "--cert", required = true, paramLabel = "CERT") Path cert;
    @Mixin OutputOptions output = new OutputOptions();

    VerifyCommand(Session session) {
        this.session = session;
    }

    @Override
    public Integer call() {
        List<SignWorkflow.Checked> r = new SignWorkflow().verify(modules, cert);
        if (output.json()) {
            session.out().println(Json.write(new Verified(r.stream()
                    .map(c -> new Checked(c.module(), c.valid(), c.reason())).toList())));
        } else {
            r.forEach(c -> session.out().println((c.valid() ? "valid    " : "INVALID  ") + c.module()
                    + (c.valid() ? "" : ": " + c.reason())));
        }
        if (r.stream().anyMatch(SignWorkflow.Checked::unreadable)) {
            return ExitCode.USAGE.code();
        }
        return r.stream().allMatch(SignWorkflow.Checked::valid) ? ExitCode.OK.code() : ExitCode.CHECK_FAILED.code();
    }

    /** --json: every module checked. */
    record Verified(List<Checked> modules) { }

    /** A module, whether its signature is valid, and why not. */
    record Checked(Path module, boolean valid, String reason) { }
}
