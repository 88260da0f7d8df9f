package dev.rkmod.cli;

import dev.rkmod.model.ExitCode;
import dev.rkmod.workflow.scaffold.NewWorkflow;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;

@Command(name = "new", mixinStandardHelpOptions = true,
        header = "Scaffold an out-of-tree Rust module in the module API of the kernel it targets.",
        description = "Scaffold an out-of-tree Rust module project in the module API of the kernel generation detected from "
            + "KDIR's contents (or --generation): Kbuild, Makefile, NAME.rs, README.md, .gitignore and rkmod.toml.")
final class NewCommand implements Callable<Integer> {
    private final Session session;

    @Parameters(index = "0", paramLabel = "NAME", description = "Module name: a Rust identifier and kernel module name.")
    String name;

    @Option(names = "--kdir", paramLabel = "DIR", description = "Kernel tree or package the module is for.")
    Path kdir;

    @Option(names = "--generation", paramLabel = "G", description = "Generation id (6.1, 6.2, 6.3, 6.10, 6.13, 6.15, 7) without a KDIR.")
    String generation;

    @Option(names = "--dir", paramLabel = "PATH", description = "Where to create it (default ./NAME).")
    Path dir;

    @Option(names = "--description", defaultValue = "Rust out-of-tree module", description = "Module description (default: ${DEFAULT-VALUE}).")
    String description;

    @Option(names = "--author", defaultValue = "rkmod user", description = "Module author (default: ${DEFAULT-VALUE}).")
    String author;

    @Option(names = "--force", description = "Write into an existing non-empty directory.")
    boolean force;

    @Mixin
    OutputOptions output = new OutputOptions();

    NewCommand(Session session) {
        this.session = session;
    }

    @Override
    public Integer call() {
        NewWorkflow.Created c = new NewWorkflow().create(name, Optional.ofNullable(kdir), Optional.ofNullable(generation),
                dir != null ? dir : Path.of(name), description, author, force);
        if (output.json()) {
            session.out().println(Json.write(new Created(c.dir(), c.generation().id(), c.files(), c.expect())));
        } else {
            session.out().println("created " + c.dir() + " for the Linux " + c.generation().id() + " module API ("
                    + c.generation().syntax().name().toLowerCase().replace('_', ' ') + ")");
            c.files().forEach(f -> session.out().println("  " + f));
            session.out().println("next: rkmod build " + c.dir() + (kdir != null ? " --kdir " + kdir : " --kdir KDIR"));
        }
        return ExitCode.OK.code();
    }

    /** --json: the project, the module API generation it is written in, its files and the log lines it expects. */
    record Created(Path dir, String generation, List<String> files, List<String> expect) { }
}
