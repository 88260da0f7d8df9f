package dev.rkmod.workflow.install;

import dev.rkmod.infra.process.ProcessResult;
import dev.rkmod.infra.process.ProcessSpec;
import dev.rkmod.model.ExitCode;
import dev.rkmod.model.RkmodException;
import dev.rkmod.workflow.Context;

import java.nio.file.Path;
import java.time.Duration;

/** The host's depmod (kmod's: it writes the module index of a root, and is no package manager). */
public final class Depmod {
    private static final Duration TIMEOUT = Duration.ofMinutes(5);
    private final Context ctx;
    private final Path program;

    private Depmod(Context ctx, Path program) {
        this.ctx = ctx;
        this.program = program;
    }

    /** depmod on PATH (or in /usr/sbin, /sbin), or a clear environment error. */
    public static Depmod find(Context ctx) {
        return new Depmod(ctx, ctx.host().which("depmod").orElseThrow(() -> new RkmodException(ExitCode.ENVIRONMENT,
                "depmod is not installed", "rkmod runs 'depmod -b ROOT RELEASE' so that modprobe finds the modules",
                "Install kmod (apt-get install kmod, dnf install kmod, pacman -S kmod)")));
    }

    /** Runs {@code depmod -b root release}; a failure is an environment error naming depmod's last lines. */
    public void run(Path root, String release, String ifFailed) {
        ProcessResult r = ctx.runner().run(ProcessSpec.of(program.toString(), "-b", root.toString(), release)
                .capture().quiet().allowFailure().timeout(TIMEOUT).label("depmod"));
        if (!r.ok()) {
            throw new RkmodException(ExitCode.ENVIRONMENT, "depmod -b " + root + " " + release + " failed (exit " + r.exitCode() + ")",
                    String.join(" | ", r.tail()) + ". " + ifFailed,
                    "Check that " + root + "/lib/modules/" + release + " is writable and not damaged");
        }
    }
}
