package dev.rkmod.infra.host;

import dev.rkmod.infra.fs.Mounts;
import dev.rkmod.infra.lifecycle.Cleanup;
import dev.rkmod.infra.process.ProcessRunner;
import dev.rkmod.infra.process.ProcessSpec;
import dev.rkmod.model.ExitCode;
import dev.rkmod.model.RkmodException;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * A session inside a Debian root: {@code /proc} is mounted on entry, and host directories can be
 * bind-mounted at the same path inside the root, so paths mean the same thing in and out. Commands run with a clean
 * environment.
 *
 * <p>Every session has its own private mount namespace, held by a background {@code unshare --mount --propagation
 * private} process that commands join with {@code nsenter --mount}: its /proc and binds are invisible to the host and to
 * every other session, so two rkmod processes (or threads) in the same root never unmount each other's mounts, and
 * nothing stays mounted when rkmod is killed, even with SIGKILL, because the namespace dies with its last process (the
 * holder dies with rkmod, see {@link ProcessRunner}). The mount points a bind needs are made in the root and removed
 * again by the last session that leaves the root (a lock file beside the root counts the sessions; a list beside it
 * remembers what killed sessions left).
 */
public final class Chroot implements AutoCloseable {
    public static final String PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
    private static final Duration MOUNT_TIMEOUT = Duration.ofSeconds(30);
    private static final Map<Path, Sessions> SESSIONS = new HashMap<>();

    private final Path root;
    private final ProcessRunner runner;
    private final Cleanup.Handle cleanup;
    private ProcessRunner.Background holder;
    private long nsPid;
    private boolean joined;
    private boolean closed;

    private Chroot(Path root, ProcessRunner runner) {
        this.root = root.toAbsolutePath().normalize();
        this.runner = runner;
        this.cleanup = Cleanup.register(Cleanup.Phase.MOUNTS, this::closeQuietly);
    }

    /** Mounts {@code root/proc} and returns the session. */
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
            Sessions.join(c.root);
            c.joined = true;
            c.startNamespace();
            for (Path b : binds) {
                c.bind(b);
            }
            return c;
        } catch (RuntimeException e) {
            c.close();
            throw e;
        }
    }

    /** Starts the holder of the session's mount namespace and waits until it is inside it. */
    private void startNamespace() {
        // a mount and a PID namespace, with the namespace's own /proc at <root>/proc: the holder (sleep) is its first
        // process, commands join both with nsenter, and all of them die when the holder dies
        holder = runner.start(ProcessSpec.of("unshare", "--mount", "--propagation", "private", "--pid", "--fork",
                "--kill-child=KILL", "--mount-proc=" + root.resolve("proc"), "--", "sleep", "infinity"));
        String own = mountNamespace(ProcessHandle.current().pid());
        long deadline = System.nanoTime() + MOUNT_TIMEOUT.toNanos();
        while (System.nanoTime() < deadline) {
            for (ProcessHandle h : Stream.concat(Stream.of(holder.handle()), holder.handle().descendants()).toList()) {
                String ns = mountNamespace(h.pid());
                if (ns != null && !ns.equals(own) && "sleep".equals(comm(h.pid()))) {
                    nsPid = h.pid();
                    return;
                }
            }
            if (!holder.isAlive()) {
                break;
            }
            try {
                Thread.sleep(5);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        throw new RkmodException(ExitCode.ENVIRONMENT, "Cannot make a private mount namespace for the Debian root " + root,
                "'unshare --mount --propagation private' did not start" + (holder.isAlive() ? " in time" : ""),
                "Check that util-linux's unshare and nsenter are installed and that rkmod runs as root with CAP_SYS_ADMIN");
    }

    private static String mountNamespace(long pid) {
        try {
            return Files.readSymbolicLink(Path.of("/proc", Long.toString(pid), "ns", "mnt")).toString();
        } catch (IOException | UnsupportedOperationException e) {
            return null;
        }
    }

    private static String comm(long pid) {
        try {
            return Files.readString(Path.of("/proc", Long.toString(pid), "comm")).strip();
        } catch (IOException e) {
            return null;
        }
    }

    /** {@code argv} run inside the session's mount namespace (not in the root). */
    private List<String> inNamespace(List<String> argv) {
        List<String> out = new ArrayList<>(List.of("nsenter", "--target", Long.toString(nsPid), "--mount", "--pid", "--"));
        out.addAll(argv);
        return out;
    }

    private void bind(Path hostDir) {
        Path abs = hostDir.toAbsolutePath().normalize();
        if (abs.startsWith(root) || root.startsWith(abs)) {
            throw new RkmodException(ExitCode.USAGE, "Cannot make " + abs + " visible inside the Debian root " + root,
                    "One contains the other", "Keep the rkmod cache (XDG_CACHE_HOME) outside your project and kernel trees");
        }
        Path target = root.resolve(abs.toString().substring(1));
        try {
            Path p = target;
            Deque<Path> toCreate = new ArrayDeque<>();
            while (!Files.exists(p, LinkOption.NOFOLLOW_LINKS)) {
                toCreate.push(p);
                p = p.getParent();
            }
            for (Path d : toCreate) {
                Sessions.created(root, d);
                try {
                    Files.createDirectory(d);
                } catch (FileAlreadyExistsException e) {
                    // another session made it at the same time
                }
            }
        } catch (IOException e) {
            throw new RkmodException(ExitCode.ENVIRONMENT, "Cannot create the mount point " + target,
                    e.getMessage(), "Check the Debian root's permissions and free space", e);
        }
        mount(List.of("mount", "--bind", abs.toString(), target.toString()));
    }

    private void mount(List<String> argv) {
        runner.run(ProcessSpec.of(inNamespace(argv)).label(argv.get(0)).timeout(MOUNT_TIMEOUT).noLog().quiet()
                .joinsNamespaces().failureCode(ExitCode.ENVIRONMENT));
    }

    public Path root() {
        return root;
    }

    /** The argument vector that runs {@code argv} inside the root, in {@code dir} (a path inside the root). */
    public List<String> argv(String dir, List<String> env, List<String> argv) {
        List<String> out = new ArrayList<>(inNamespace(List.of("chroot", root.toString(), "/usr/bin/env", "-i")));
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
        return ProcessSpec.of(argv(dir, env, argv)).label(argv.get(0)).joinsNamespaces();
    }

    /** Ends the session: its namespace, and with it every mount, goes; the last session in the root removes mount points. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            if (holder != null) {
                holder.close();
            }
        } finally {
            try {
                if (joined) {
                    Sessions.leave(root);
                }
            } finally {
                cleanup.close();
            }
        }
    }

    private void closeQuietly() {
        try {
            close();
        } catch (RuntimeException ignored) {
            // shutting down
        }
    }

    /**
     * The sessions of this JVM in one root, and a shared lock on {@code .<root>.rkmod-chroot.lock} beside the root while
     * there are any. Leaving last, a session takes the lock exclusively when it can (no other rkmod process is in the root)
     * and removes the mount points that sessions made, listed in {@code .<root>.rkmod-chroot.dirs}: a directory that is a
     * mount point in another session's namespace must not be removed, as that would detach its mount there.
     */
    private static final class Sessions {
        private FileChannel channel;
        private FileLock shared;
        private int count;

        private static Path lockFile(Path root) {
            return root.resolveSibling("." + root.getFileName() + ".rkmod-chroot.lock");
        }

        private static Path dirsFile(Path root) {
            return root.resolveSibling("." + root.getFileName() + ".rkmod-chroot.dirs");
        }

        static void join(Path root) {
            synchronized (SESSIONS) {
                Sessions s = SESSIONS.computeIfAbsent(root, r -> new Sessions());
                if (s.count == 0) {
                    try {
                        s.channel = FileChannel.open(lockFile(root), StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                                StandardOpenOption.READ);
                        s.shared = s.channel.lock(0, Long.MAX_VALUE, true);
                    } catch (IOException e) {
                        closeChannel(s);
                        throw new RkmodException(ExitCode.ENVIRONMENT, "Cannot lock " + lockFile(root),
                                e.getClass().getSimpleName() + ": " + e.getMessage(),
                                "Make the directory that holds the Debian root writable", e);
                    }
                }
                s.count++;
            }
        }

        static void created(Path root, Path dir) throws IOException {
            synchronized (SESSIONS) {
                Files.writeString(dirsFile(root), dir + "\n", StandardCharsets.UTF_8, StandardOpenOption.CREATE,
                        StandardOpenOption.APPEND);
            }
        }

        static void leave(Path root) {
            synchronized (SESSIONS) {
                Sessions s = SESSIONS.get(root);
                if (s == null || s.count == 0) {
                    return;
                }
                if (--s.count > 0) {
                    return;
                }
                try {
                    s.shared.release();
                    FileLock exclusive = s.channel.tryLock();
                    if (exclusive != null) {
                        try {
                            removeMountPoints(root);
                        } finally {
                            exclusive.release();
                        }
                    }
                } catch (IOException | RuntimeException e) {
                    // the next session that leaves last removes them
                } finally {
                    closeChannel(s);
                    SESSIONS.remove(root);
                }
            }
        }

        /** Removes the listed mount points that are empty, deepest first; nobody else is in the root. */
        private static void removeMountPoints(Path root) throws IOException {
            Path list = dirsFile(root);
            if (!Files.exists(list)) {
                return;
            }
            List<Path> dirs = new ArrayList<>(Files.readAllLines(list, StandardCharsets.UTF_8).stream()
                    .filter(l -> !l.isBlank()).map(Path::of).filter(p -> p.startsWith(root) && !p.equals(root))
                    .distinct().toList());
            dirs.sort((a, b) -> Integer.compare(b.getNameCount(), a.getNameCount()));
            for (Path d : dirs) {
                if (!Mounts.under(d).isEmpty()) {
                    continue; // mounted in the host's namespace (not by rkmod): leave it
                }
                try {
                    Files.deleteIfExists(d);
                } catch (IOException ignored) {
                    // not empty: something was put there, leave it
                }
            }
            Files.deleteIfExists(list);
        }

        private static void closeChannel(Sessions s) {
            try {
                if (s.channel != null) {
                    s.channel.close();
                }
            } catch (IOException ignored) {
                // closing releases the lock anyway
            }
            s.channel = null;
            s.shared = null;
        }
    }
}
