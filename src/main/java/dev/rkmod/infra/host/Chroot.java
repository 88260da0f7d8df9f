package dev.rkmod.infra.host;

import dev.rkmod.infra.fs.Mounts;
import dev.rkmod.infra.lifecycle.Cleanup;
import dev.rkmod.infra.process.ProcessRunner;
import dev.rkmod.infra.process.ProcessSpec;
import dev.rkmod.model.ExitCode;
import dev.rkmod.model.RkmodException;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * A session inside a Debian root: {@code /proc} is mounted on entry and unmounted on close, on
 * failure, and when rkmod is interrupted. Commands run with a clean environment.
 */
public final class Chroot implements AutoCloseable {
    public static final String PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

    private final Path root;
    private final ProcessRunner runner;
    private final boolean mountedHere;
    private final Cleanup.Handle cleanup;

    private Chroot(Path root, ProcessRunner runner, boolean mountedHere) {
        this.root = root;
        this.runner = runner;
        this.mountedHere = mountedHere;
        this.cleanup = mountedHere ? Cleanup.register(Cleanup.Phase.MOUNTS, this::unmountQuietly) : () -> { };
    }

    /** Mounts {@code root/proc} (unless already mounted) and returns the session. */
    public static Chroot enter(Path root, ProcessRunner runner, Host host) {
        if (!host.isRoot()) {
            throw new RkmodException(ExitCode.ENVIRONMENT, "Running a command in the Debian root " + root + " needs root",
                    "chroot and mounting /proc require root privileges",
                    "Run rkmod as root (for example with sudo)");
        }
        if (!Files.isRegularFile(root.resolve("usr/bin/env"))) {
            throw new RkmodException(ExitCode.ENVIRONMENT, root + " is not a usable Debian root",
                    "usr/bin/env is missing, so the root is incomplete",
                    "Remove it with 'rkmod cache clear --kind root' and run 'rkmod deps --install' again");
        }
        Path proc = root.resolve("proc").toAbsolutePath().normalize();
        boolean already = Mounts.under(proc).contains(proc);
        if (!already) {
            runner.run(ProcessSpec.of("mount", "-t", "proc", "proc", proc.toString())
                    .timeout(Duration.ofSeconds(30)).noLog().quiet().failureCode(ExitCode.ENVIRONMENT));
        }
        return new Chroot(root, runner, !already);
    }

    public Path root() {
        return root;
    }

    /** The argument vector that runs {@code argv} inside the root, in {@code dir} (a path inside the root). */
    public List<String> argv(String dir, List<String> env, List<String> argv) {
        List<String> out = new ArrayList<>(List.of("chroot", root.toString(), "/usr/bin/env", "-i"));
        if (dir != null) {
            out.add("--chdir=" + dir);
        }
        out.addAll(List.of("PATH=" + PATH, "HOME=/root", "LC_ALL=C.UTF-8", "TERM=dumb"));
        out.addAll(env);
        out.addAll(argv);
        return out;
    }

    /** Convenience: a spec running {@code argv} inside the root. */
    public ProcessSpec spec(String dir, List<String> env, List<String> argv) {
        List<String> full = argv(dir, env, argv);
        return ProcessSpec.of(full).label(argv.get(0));
    }

    @Override
    public void close() {
        try {
            if (mountedHere) {
                unmount();
            }
        } finally {
            cleanup.close();
        }
    }

    private void unmount() {
        Path proc = root.resolve("proc").toAbsolutePath().normalize();
        if (!Mounts.under(proc).contains(proc)) {
            return;
        }
        var r = runner.run(ProcessSpec.of("umount", proc.toString()).timeout(Duration.ofSeconds(30))
                .noLog().quiet().allowFailure());
        if (!r.ok()) {
            runner.run(ProcessSpec.of("umount", "-l", proc.toString()).timeout(Duration.ofSeconds(30))
                    .noLog().quiet().failureCode(ExitCode.ENVIRONMENT));
        }
    }

    private void unmountQuietly() {
        try {
            unmount();
        } catch (RuntimeException ignored) {
            // shutting down
        }
    }
}
