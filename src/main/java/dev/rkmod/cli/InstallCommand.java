package dev.rkmod.cli;

import dev.rkmod.model.ExitCode;
import dev.rkmod.workflow.install.InstallWorkflow;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;

@Command(name = "install", mixinStandardHelpOptions = true,
        header = "Install modules into lib/modules/RELEASE/updates of a root and run depmod.",
        description = "Install modules into ROOT/lib/modules/RELEASE/updates (or extra), RELEASE read from each module's vermagic, "
            + "then run 'depmod -b ROOT RELEASE' and print the name modprobe loads it by. The vermagic and every undefined "
            + "symbol are checked first (rkmod info's checks) against --kdir, else the root's installed headers; --sign signs the copies "
            + "(hash: the tree's CONFIG_MODULE_SIG_HASH, else sha256). Nothing is written unless every check passes, "
            + "and a failed depmod puts the root back as it was.")
final class InstallCommand implements Callable<Integer> {
    private final Session session;

    @Parameters(arity = "1..*", paramLabel = "MODULE.ko") List<Path> modules = new ArrayList<>();
    @Option(names = "--kdir", paramLabel = "DIR", description = "Kernel tree or package to check the modules against (default: ROOT/lib/modules/RELEASE/build if it has Module.symvers).") Path kdir;
    @Option(names = "--root", paramLabel = "DIR", defaultValue = "/", description = "The root that holds lib/modules (default ${DEFAULT-VALUE}).") Path root;
    @Option(names = "--dir", paramLabel = "updates|extra", defaultValue = "updates", description = "Directory under lib/modules/RELEASE (default ${DEFAULT-VALUE}).") InstallWorkflow.Dir dir;
    @Option(names = "--sign", description = "Sign the installed copies with --key and --cert.") boolean sign;
    @Option(names = "--key", paramLabel = "KEY", description = "Private key for --sign (PEM or DER).") Path key;
    @Option(names = "--cert", paramLabel = "CERT", description = "X.509 certificate for --sign.") Path cert;
    @Mixin OutputOptions output = new OutputOptions();
    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    InstallCommand(Session session) {
        this.session = session;
    }

    @Override
    public Integer call() {
        if (sign != (key != null && cert != null) || (!sign && (key != null || cert != null))) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--sign needs --key and --cert, and they need --sign");
        }
        Optional<InstallWorkflow.Signing> signing = sign ? Optional.of(new InstallWorkflow.Signing(key, cert)) : Optional.empty();
        InstallWorkflow.Result r = new InstallWorkflow(session.context(output)).install(new InstallWorkflow.Request(modules,
                Optional.ofNullable(kdir), root, signing, dir));
        if (output.json()) {
            session.out().println(Json.write(r));
        } else {
            for (InstallWorkflow.Installed i : r.installed()) {
                session.out().println("installed " + i.file() + " (kernel " + i.release()
                        + i.signedWith().map(h -> ", signed " + h).orElse("") + ")");
                session.out().println("  modprobe " + i.name());
            }
            if (r.checkedAgainst().isEmpty()) {
                session.out().println("not checked against a kernel tree (pass --kdir to check the vermagic and the symbols)");
            }
        }
        return ExitCode.OK.code();
    }
}
