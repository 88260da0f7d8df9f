package dev.rkmod.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The top-level {@code rkmod} command. */
@Command(name = "rkmod",
        mixinStandardHelpOptions = true,
        versionProvider = VersionProvider.class,
        description = {
            "Out-of-tree Rust Linux kernel modules against a packaged kernel.",
            "Run 'rkmod <command> --help' for a command's options."
        },
        subcommands = {
            DepsCommand.class,
            KernelCommand.class,
            PackageCommand.class,
            HeadersCommand.class,
            DoctorCommand.class,
            DkmsCommand.class,
            NewCommand.class,
            BuildCommand.class,
            VmtestCommand.class,
            DemoCommand.class,
            MatrixCommand.class,
            InfoCommand.class,
            SignCommand.class,
            VerifyCommand.class,
            InstallCommand.class,
            UninstallCommand.class,
            CacheCommand.class,
            CommandLine.HelpCommand.class
        },
        footerHeading = "%nExit codes:%n",
        footer = {
            "  0  success",
            "  1  the checked thing failed (doctor findings, a failed vmtest)",
            "  2  usage error",
            "  3  environment or toolchain missing",
            "  4  the build failed",
            "  5  internal error in rkmod (a bug)"
        })
public final class RkmodCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "Missing command: choose one of the commands below.");
    }
}
