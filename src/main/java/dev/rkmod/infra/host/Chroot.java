package dev.rkmod.infra.host;

import dev.rkmod.infra.fs.Mounts;
import dev.rkmod.infra.lifecycle.Cleanup;
import dev.rkmod.infra.process.ProcessRunner;
import dev.rkmod.infra.process.ProcessSpec;
import dev.rkmod.model.ExitCode;
import dev.rkmod.model.RkmodException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;

/**
 * A session inside a Debian root: {@code /proc} is mounted on entry, and host directories can be
 * bind-mounted at the same path inside the root, so paths mean the same thing in and out. Everything
 * is unmounted on close, on failure, and when rkmod is interrupted. Commands run with a clean
 * environment.
 */
public final class Chroot implements AutoCloseable {
    public static final String PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
    private static final Duration MOUNT_TIMEOUT = Duration.ofSeconds(30);

    private final Path root;
    private final ProcessRunner runner;
    private final Deque<Path> mounted = new ArrayDeque<>();
    private final Deque<Path> createdDirs = new ArrayDeque<>();
    private final Cleanup.Handle cleanup;

    private Chroot(Path root, ProcessRunner runner) {
        this.root = root.toAbsolutePath().normalize();
        this.runner = runner;
        this.cleanup = Cleanup.register(Cleanup.Phase.MOUNTS, this::unmountAllQuietly);
    }

    /** Mounts {@code root/proc} (unless already mounted) and returns the session. */
    public static Chroot enter(Path root, ProcessRunner runner, Host host) {
        return enter(root, runner, host, List.of());
    }

    /**
     * Mounts {@code root/proc} and bind-mounts each of {@code binds} (absolute host directories) at
     * the same path inside the root.
     */
    public static Chroot enter(Path root, ProcessRunner runner, Host host, List<Path> binds) {
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
        Chroot c = new Chroot(root, runner);
        try {
            Path proc = c.root.resolve("proc");
            if (!Mounts.under(proc).contains(proc)) {
                c.mount(List.of("mount", "-t", "proc", "proc", proc.toString()), proc);
            }
            for (Path b : binds) {
                c.bind(b);
            }
            return c;
        } catch (RuntimeException e) {
            c.close();
            throw e;
        }
    }

    private void bind(Path hostDir) {
        Path abs = hostDir.toAbsolutePath().normalize();
        if (abs.startsWith(root) || root.startsWith(abs)) {
            throw new RkmodException(ExitCode.USAGE, "Cannot make " + abs + " visible inside the Debian root " + root,
                    "One contains the other", "Keep the rkmod cache (XDG_CACHE_HOME) outside your project and kernel trees");
        }
        Path target = root.resolve(abs.toString().substring(1));
        if (Mounts.under(target).contains(target)) {
            return;
        }
        try {
            Path p = target;
            Deque<Path> toCreate = new ArrayDeque<>();
            while (!Files.exists(p)) {
                toCreate.push(p);
                p = p.getParent();
            }
            for (Path d : toCreate) {
                Files.createDirectory(d);
                createdDirs.push(d);
            }
        } catch (IOException e) {
            throw new RkmodException(ExitCode.ENVIRONMENT, "Cannot create the mount point " + target,
                    e.getMessage(), "Check the Debian root's permissions and free space", e);
        }
        mount(List.of("mount", "--bind", abs.toString(), target.toString()), target);
    }

    private void mount(List<String> argv, Path target) {
        runner.run(ProcessSpec.of(argv).timeout(MOUNT_TIMEOUT).noLog().quiet().failureCode(ExitCode.ENVIRONMENT));
        mounted.push(target);
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

    /** A spec running {@code argv} inside the root. */
    public ProcessSpec spec(String dir, List<String> env, List<String> argv) {
        return ProcessSpec.of(argv(dir, env, argv)).label(argv.get(0));
    }

    @Override
    public void close() {
        try {
            unmountAll();
        } finally {
            cleanup.close();
        }
    }

    private synchronized void unmountAll() {
        RuntimeException first = null;
        while (!mounted.isEmpty()) {
            Path p = mounted.pop();
            try {
                unmount(p);
            } catch (RuntimeException e) {
                if (first == null) {
                    first = e;
                }
            }
        }
        while (!createdDirs.isEmpty()) {
            try {
                Files.deleteIfExists(createdDirs.pop());
            } catch (IOException ignored) {
                // not empty or gone: leave it
            }
        }
        if (first != null) {
            throw first;
        }
    }

    private void unmount(Path p) {
        if (!Mounts.under(p).contains(p)) {
            return;
        }
        var r = runner.run(ProcessSpec.of("umount", p.toString()).timeout(MOUNT_TIMEOUT).noLog().quiet().allowFailure());
        if (!r.ok()) {
            runner.run(ProcessSpec.of("umount", "-l", p.toString()).timeout(MOUNT_TIMEOUT)
                    .noLog().quiet().failureCode(ExitCode.ENVIRONMENT));
        }
    }

    private void unmountAllQuietly() {
        try {
            unmountAll();
        } catch (RuntimeException ignored) {
            // shutting down
        }
    }
}
