package dev.rkmod.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/** The top-level {@code rkmod} command. */
@Command(name = "rkmod",
        mixinStandardHelpOptions = true,
        versionProvider = VersionProvider.class,
        description = {
            "Out-of-tree Rust Linux kernel modules against a packaged kernel.",
            "Run 'rkmod <command> --help' for a command's options."
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
    /** The class of a subcommand named in {@link #SUBCOMMANDS}. */
    static Class<?> subcommand(String name) {
        try {
            return Class.forName(SUBCOMMANDS.get(name));
        } catch (ClassNotFoundException e) {
            throw new IllegalStateException("rkmod.jar lacks " + SUBCOMMANDS.get(name), e);
        }
    }

    /**
     * The subcommands, in the order usage lists them. Cli registers only the one a command line names, so a short
     * run (--version, info) does not make picocli build the model of every other command by reflection.
     */
    static final Map<String, String> SUBCOMMANDS = subcommands();

    private static Map<String, String> subcommands() {
        // class names, not class literals: a literal would load (and verify) every command class on each start
        Map<String, String> m = new LinkedHashMap<>();
        m.put("deps", "dev.rkmod.cli.DepsCommand");
        m.put("kernel", "dev.rkmod.cli.KernelCommand");
        m.put("package", "dev.rkmod.cli.PackageCommand");
        m.put("headers", "dev.rkmod.cli.HeadersCommand");
        m.put("doctor", "dev.rkmod.cli.DoctorCommand");
        m.put("dkms", "dev.rkmod.cli.DkmsCommand");
        m.put("new", "dev.rkmod.cli.NewCommand");
        m.put("build", "dev.rkmod.cli.BuildCommand");
        m.put("vmtest", "dev.rkmod.cli.VmtestCommand");
        m.put("demo", "dev.rkmod.cli.DemoCommand");
        m.put("matrix", "dev.rkmod.cli.MatrixCommand");
        m.put("info", "dev.rkmod.cli.InfoCommand");
        m.put("sign", "dev.rkmod.cli.SignCommand");
        m.put("verify", "dev.rkmod.cli.VerifyCommand");
        m.put("install", "dev.rkmod.cli.InstallCommand");
        m.put("uninstall", "dev.rkmod.cli.UninstallCommand");
        m.put("cache", "dev.rkmod.cli.CacheCommand");
        m.put("help", "picocli.CommandLine$HelpCommand");
        return Collections.unmodifiableMap(m);
    }

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "Missing command: choose one of the commands below.");
    }
}
