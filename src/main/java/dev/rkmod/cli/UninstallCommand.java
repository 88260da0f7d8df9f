package dev.rkmod.cli;

import dev.rkmod.model.ExitCode;
import dev.rkmod.workflow.install.InstallWorkflow;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;

@Command(name = "uninstall", mixinStandardHelpOptions = true,
        header = "Remove modules that 'rkmod install' put into a root and run depmod.",
        description = "Remove the files of the named modules from ROOT/lib/modules/RELEASE/updates and extra, then run "
            + "'depmod -b ROOT RELEASE'. RELEASE defaults to the only one that has the module.")
final class UninstallCommand implements Callable<Integer> {
    private final Session session;

    @Parameters(arity = "1..*", paramLabel = "NAME") List<String> names = new ArrayList<>();
    @Option(names = "--release", paramLabel = "R", description = "The kernel release (default: the only one that has the module).") String release;
    @Option(names = "--root", paramLabel = "DIR", defaultValue = "/", description = "The root that holds lib/modules (default ${DEFAULT-VALUE}).") Path root;
    @Mixin OutputOptions output = new OutputOptions();

    UninstallCommand(Session session) {
        this.session = session;
    }

    @Override
    public Integer call() {
        List<InstallWorkflow.Removed> removed = new InstallWorkflow(session.context(output)).uninstall(names,
                Optional.ofNullable(release), root);
        if (output.json()) {
            session.out().println(Json.write(new Uninstalled(root.toAbsolutePath().normalize(), removed)));
        } else {
            for (InstallWorkflow.Removed r : removed) {
                r.files().forEach(f -> session.out().println("removed " + f + " (kernel " + r.release() + ")"));
            }
        }
        return ExitCode.OK.code();
    }

    /** --json: the root and every removed module with its files. */
    record Uninstalled(Path root, List<InstallWorkflow.Removed> removed) { }
}
