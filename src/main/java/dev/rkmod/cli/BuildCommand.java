package dev.rkmod.cli;

import dev.rkmod.format.ProjectToml;
import dev.rkmod.model.ExitCode;
import dev.rkmod.model.FailureCatalogue;
import dev.rkmod.model.Finding;
import dev.rkmod.model.RkmodException;
import dev.rkmod.workflow.build.BuildWorkflow;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;

@Command(name = "build", mixinStandardHelpOptions = true,
        header = "Build an out-of-tree module against a kernel tree or package with the kernel's exact rustc.",
        description = "Build an out-of-tree module with make -C KDIR M=DIR, after doctor's checks, with the rustc whose "
            + "--version equals the kernel's (on the host or in rkmod's Debian root) and LLVM=1 for clang-built "
            + "kernels. A failure is explained from the failure catalogue (exit 4).")
final class BuildCommand implements Callable<Integer> {
    private final Session session;

    @Parameters(index = "0", arity = "0..1", paramLabel = "DIR", description = "Module directory (default: .).")
    Path dir;

    @Option(names = "--kdir", paramLabel = "DIR", description = "Kernel tree or package (default: rkmod.toml's, else /lib/modules/$(uname -r)/build).")
    Path kdir;

    @Option(names = "--rustc", paramLabel = "PATH", description = "Prefer this rustc (it must match the kernel's).")
    Path rustc;

    @Option(names = "-j", paramLabel = "N", description = "Parallel jobs (default: CPUs).")
    Integer jobs;

    @Option(names = "--timeout", paramLabel = "MINUTES", defaultValue = "30", description = "Stop after this many minutes.")
    long timeout;

    @Option(names = "--no-check", description = "Skip doctor's checks.")
    boolean noCheck;

    @Mixin
    OutputOptions output = new OutputOptions();

    BuildCommand(Session session) {
        this.session = session;
    }

    @Override
    public Integer call() {
        Path d = dir != null ? dir : Path.of(".");
        Path k = kdir;
        if (k == null) {
            try {
                k = ProjectToml.read(d).map(ProjectToml::kdir).map(Path::of).orElse(null);
            } catch (IOException e) {
                k = null;
            }
        }
        if (k == null) {
            k = session.host().runningKernelBuildDir();
        }
        int j = jobs != null ? jobs : Runtime.getRuntime().availableProcessors();
        if (j < 1 || timeout < 1) {
            throw new RkmodException(ExitCode.USAGE, "-j and --timeout must be positive", null, null);
        }
        BuildWorkflow.Result r;
        try {
            r = new BuildWorkflow(session.context(output)).build(d, k, Optional.ofNullable(rustc), j,
                    Duration.ofMinutes(timeout), !noCheck);
        } catch (BuildWorkflow.BuildFailed f) {
            if (output.json()) {
                session.out().println(Json.write(Failed.of(f)));
                return ExitCode.BUILD_FAILED.code();
            }
            PrintWriter err = session.err();
            if (!f.errorLines().isEmpty()) {
                err.println("The build's own errors:");
                f.errorLines().forEach(l -> err.println("  " + l));
            }
            if (!f.findings().isEmpty()) {
                err.println("doctor found:");
                Text.findings(err, f.findings());
            }
            for (FailureCatalogue.Match m : f.explanations()) {
                err.println("explanation [" + m.entry().id() + "]: " + m.entry().title());
                err.println("  seen:  " + m.line());
                err.println("  cause: " + m.entry().cause());
                if (m.entry().fix() != null) {
                    err.println("  fix:   " + m.entry().fix());
                }
            }
            throw f;
        }
        if (output.json()) {
            session.out().println(Json.write(new Built(true, r.dir(), r.kdir(), r.rustc(), r.rustcCandidate(), r.llvm(),
                    r.took().toMillis(), r.modules())));
        } else {
            for (BuildWorkflow.Module m : r.modules()) {
                session.out().printf("built %s (%s)%n  vermagic %s%n  with %s%s%n", m.ko(), Text.size(m.size()),
                        m.vermagic(), r.rustcCandidate(), r.llvm() ? ", LLVM=1" : "");
            }
        }
        return ExitCode.OK.code();
    }

    /** --json of a built module. */
    record Built(boolean ok, Path dir, Path kdir, String rustc, String rustcCandidate, boolean llvm, long millis,
                 List<BuildWorkflow.Module> modules) { }

    /** --json of a failed build: its errors, the catalogue's explanations and doctor's findings. */
    record Failed(boolean ok, String error, List<String> errors, List<Explanation> explanations, List<Finding> findings,
                  int exitCode) {
        static Failed of(BuildWorkflow.BuildFailed f) {
            return new Failed(false, f.paragraph(), f.errorLines(), f.explanations().stream().map(m -> new Explanation(
                    m.entry().id(), m.entry().title(), m.entry().cause(), m.entry().fix(), m.line())).toList(),
                    f.findings(), ExitCode.BUILD_FAILED.code());
        }
    }

    /** A failure catalogue entry that explains a line of the build's output. */
    record Explanation(String id, String title, String cause, String fix, String line) { }
}
