package dev.rkmod.cli;

import dev.rkmod.model.ExitCode;
import dev.rkmod.model.Profile;
import dev.rkmod.model.RkmodException;
import dev.rkmod.workflow.kernel.BaseConfig;
import dev.rkmod.workflow.kernel.KernelRequest;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** Options shared by `kernel config` and `kernel build`. */
final class KernelOptions {
    @Option(names = "--source", paramLabel = "SRC",
            description = "Kernel source directory or linux-source-*.tar.xz. Default: the profile's Debian source.")
    Path source;

    @Option(names = "--profile", paramLabel = "6.1|6.12", converter = Converters.ProfileConverter.class,
            description = "Toolchain profile. Default: from the source version, else 6.1.")
    Profile profile;

    @Option(names = "--config", paramLabel = "BASE", defaultValue = "tiny-rust",
            description = "Base config: a .config file (plain or .xz), 'debian' (the profile's distro config) or"
                    + " 'tiny-rust' (default: tinyconfig plus serial console, initramfs, modules and Rust samples).")
    String config;

    @Option(names = "--fragment", paramLabel = "F", description = "A config fragment merged on top (repeatable).")
    List<Path> fragments = new ArrayList<>();

    @Option(names = "--fix-rust", description = "Turn off the options that block CONFIG_RUST and show the diff.")
    boolean fixRust;

    @Option(names = "--toolchain", paramLabel = "PATH_TO_RUSTC", description = "Use this rustc (and the bindgen beside it).")
    Path toolchain;

    @Option(names = "--root", paramLabel = "DIR", description = "Use the toolchain of this Debian root (via chroot).")
    Path root;

    @Option(names = "-j", paramLabel = "N", description = "Parallel make jobs. Default: the number of CPUs.")
    Integer jobs;

    @Option(names = "--timeout", paramLabel = "MINUTES", defaultValue = "180",
            description = "Stop the build after this many minutes (default ${DEFAULT-VALUE}).")
    long timeoutMinutes;

    KernelRequest request() {
        if (jobs != null && jobs < 1) {
            throw new RkmodException(ExitCode.USAGE, "-j must be at least 1", null, null);
        }
        if (timeoutMinutes < 1) {
            throw new RkmodException(ExitCode.USAGE, "--timeout must be at least 1 minute", null, null);
        }
        int j = jobs != null ? jobs : Runtime.getRuntime().availableProcessors();
        return new KernelRequest(Optional.ofNullable(source), Optional.ofNullable(profile), BaseConfig.parse(config), List.copyOf(fragments), fixRust,
                Optional.ofNullable(toolchain), Optional.ofNullable(root), j, Duration.ofMinutes(timeoutMinutes));
    }
}
