package dev.rkmod.cli;

import dev.rkmod.model.ExitCode;
import dev.rkmod.model.Finding;
import dev.rkmod.workflow.doctor.DoctorWorkflow;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;

@Command(name = "doctor", mixinStandardHelpOptions = true,
        header = "Predict why a Rust module will not build against a kernel tree, and say how to fix it.",
        description = "Predict why an out-of-tree Rust module will not build against KDIR, before compiling: the tree and its "
            + "Rust set, the exact rustc (rmeta headers, CONFIG_RUSTC_VERSION_TEXT, the candidates on this machine), the "
            + "target spec (E0461), the C compiler family (LLVM=1) and tool versions. Exit 1 when any error is found.")
final class DoctorCommand implements Callable<Integer> {
    private final Session session;

    @Option(names = "--kdir", paramLabel = "DIR", description = "Kernel build tree or package. Default: /lib/modules/$(uname -r)/build.")
    Path kdir;

    @Option(names = "--rustc", paramLabel = "PATH", description = "The rustc you intend to use (default: the one on PATH).")
    Path rustc;

    @Mixin
    OutputOptions output = new OutputOptions();

    DoctorCommand(Session session) {
        this.session = session;
    }

    @Override
    public Integer call() {
        Path dir = kdir != null ? kdir : session.host().runningKernelBuildDir();
        DoctorWorkflow.Report r = new DoctorWorkflow(session.context(output)).run(dir, Optional.ofNullable(rustc));
        if (output.json()) {
            session.out().println(Json.write(new Doctor(r.kdir(), r.rustcVersion(), !r.hasErrors(), r.match().map(m ->
                    new Match(m.description(), m.toolchain().rustc(), m.toolchain().rootDir().map(Path::toString).orElse(null))),
                    r.findings())));
        } else {
            text(session.out(), r);
        }
        return r.hasErrors() ? ExitCode.CHECK_FAILED.code() : ExitCode.OK.code();
    }

    private static void text(PrintWriter w, DoctorWorkflow.Report r) {
        w.println("doctor: " + r.kdir() + (r.rustcVersion() != null ? "  (built with " + r.rustcVersion() + ")" : ""));
        Text.findings(w, r.findings());
        long errors = r.findings().stream().filter(f -> f.severity() == Finding.Severity.ERROR).count();
        long warnings = r.findings().stream().filter(f -> f.severity() == Finding.Severity.WARNING).count();
        w.println(errors == 0 ? "no errors" + (warnings > 0 ? ", " + warnings + " warning(s)" : "") + ": a Rust module should build"
                : errors + " error(s), " + warnings + " warning(s)");
    }

    /** --json: the tree, the kernel's rustc, the matching rustc on this machine and every finding. */
    record Doctor(Path kdir, String rustc, boolean ok, Optional<Match> match, List<Finding> findings) { }

    /** The rustc a build should use: how it was found, its path and the Debian root it runs in (or null). */
    record Match(String candidate, String rustc, String root) { }
}
