package dev.rkmod.cli;

import dev.rkmod.model.ExitCode;
import dev.rkmod.model.Finding;
import dev.rkmod.workflow.dkms.DkmsDecision;
import dev.rkmod.workflow.dkms.DkmsWorkflow;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;

@Command(name = "dkms", mixinStandardHelpOptions = true,
        header = "Package a Rust module for DKMS, which rebuilds it for every new kernel.",
        description = "DKMS knows nothing of Rust: it never picks a rustc and cannot tell missing Rust metadata from a bug. "
            + "'dkms init' writes dkms.conf and the build step it calls (rkmod-dkms-build, POSIX sh, no rkmod needed at "
            + "build time); 'dkms check' predicts what that step will do for a kernel.",
        subcommands = {DkmsCommand.InitCommand.class, DkmsCommand.CheckCommand.class})
final class DkmsCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    DkmsCommand(Session session) {
    }

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "Missing subcommand: init or check");
    }

    // no mixinStandardHelpOptions: its -V/--version would clash with PACKAGE_VERSION's --version, and picocli then
    // drops the whole mixin, --help included; the help option is declared below instead
    @Command(name = "init",
            header = "Write dkms.conf and its build step for a module directory.",
            description = "Write dkms.conf (PACKAGE_NAME, PACKAGE_VERSION, one BUILT_MODULE_NAME per obj-m module of Kbuild or "
                + "Makefile, DEST_MODULE_LOCATION /updates/dkms, AUTOINSTALL=yes, MAKE[0]) and what MAKE[0] calls: "
                + "rkmod-dkms.mk and rkmod-dkms-build. Ship all three in the module's source (dkms add / mktarball).")
    static final class InitCommand implements Callable<Integer> {
        private final Session session;

        @Parameters(index = "0", arity = "0..1", paramLabel = "DIR", description = "The module's directory (default: .).")
        Path dir;

        @Option(names = "--version", paramLabel = "V", description = "PACKAGE_VERSION (default: 1.0).")
        String version;

        @Option(names = "--force", description = "Overwrite an existing dkms.conf and build step.")
        boolean force;

        @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help message and exit.")
        boolean help;

        @Mixin
        OutputOptions output = new OutputOptions();

        InitCommand(Session session) {
            this.session = session;
        }

        @Override
        public Integer call() {
            DkmsWorkflow.Initialized r = new DkmsWorkflow(session.context(output))
                    .init(dir != null ? dir : Path.of("."), Optional.ofNullable(version), force);
            if (output.json()) {
                session.out().println(Json.write(r));
            } else {
                session.out().println("dkms: " + r.name() + " " + r.version() + " in " + r.dir() + " (modules: "
                        + String.join(", ", r.modules()) + ")");
                r.files().forEach(f -> session.out().println("  " + f));
                session.out().println("next: rkmod dkms check " + r.dir() + ", then: cp -r " + r.dir() + " /usr/src/"
                        + r.name() + "-" + r.version() + " && dkms install " + r.name() + "/" + r.version());
            }
            return ExitCode.OK.code();
        }
    }

    @Command(name = "check", mixinStandardHelpOptions = true,
            header = "Say what DKMS will do for this module and kernel, and whether it can work.",
            description = "Decide, without building, what the build step rkmod-dkms-build will decide at DKMS build time: the "
                + "kernel's Rust metadata, the rustc it was built with and the one on this machine that matches, and "
                + "what DKMS appends for clang-built kernels. Exit 1 when the DKMS build would fail.")
    static final class CheckCommand implements Callable<Integer> {
        private final Session session;

        @Parameters(index = "0", arity = "0..1", paramLabel = "DIR", description = "The module's directory (default: .).")
        Path dir;

        @Option(names = "--kdir", paramLabel = "DIR", description = "Kernel headers or build tree. Default: /lib/modules/$(uname -r)/build.")
        Path kdir;

        @Mixin
        OutputOptions output = new OutputOptions();

        CheckCommand(Session session) {
            this.session = session;
        }

        @Override
        public Integer call() {
            Path k = kdir != null ? kdir : session.host().runningKernelBuildDir();
            DkmsWorkflow.Report r = new DkmsWorkflow(session.context(output)).check(dir != null ? dir : Path.of("."), k);
            DkmsDecision d = r.decision();
            if (output.json()) {
                session.out().println(Json.write(new Check(r.dir().toAbsolutePath().normalize(), r.kdir(), d.release(),
                        d.outcome().id(), !r.hasErrors(), d.wanted(), d.rustc(), r.findings())));
            } else {
                session.out().println("dkms check: " + r.dir().toAbsolutePath().normalize() + " for Linux " + d.release() + " (" + r.kdir() + ")");
                Text.findings(session.out(), r.findings());
                session.out().println(r.hasErrors() ? "dkms build would fail" : "dkms build should work");
            }
            return r.hasErrors() ? ExitCode.CHECK_FAILED.code() : ExitCode.OK.code();
        }
    }

    /** --json of check: the decision the build step will take, and every finding. */
    record Check(Path dir, Path kdir, String release, String decision, boolean ok, String wanted, String rustc,
                 List<Finding> findings) { }
}
