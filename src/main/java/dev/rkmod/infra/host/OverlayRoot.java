package dev.rkmod.infra.host;

import dev.rkmod.infra.fs.FileOps;
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
import java.util.List;

/**
 * A throwaway copy-on-write view of a Debian root: an overlayfs whose lower layer is the (cached, never
 * written) root and whose upper and work layers live in a scratch directory. Installing or removing packages
 * in the view changes only the upper layer, which {@link #close()} discards with the view: the mount (and
 * anything still mounted inside it, such as a chroot's /proc) is taken down, on failure and on interruption
 * too, and the scratch directory deleted.
 */
public final class OverlayRoot implements AutoCloseable {
    private static final Duration MOUNT_TIMEOUT = Duration.ofSeconds(30);

    private final Path lower;
    private final Path scratch;
    private final Path merged;
    private final ProcessRunner runner;
    private final Host host;
    private final Cleanup.Handle cleanup;
    private boolean mounted;

    private OverlayRoot(Path lower, Path scratch, ProcessRunner runner, Host host) {
        this.lower = lower;
        this.scratch = scratch;
        this.merged = scratch.resolve("merged");
        this.runner = runner;
        this.host = host;
        this.cleanup = Cleanup.register(Cleanup.Phase.MOUNTS, this::unmountQuietly);
    }

    /**
     * Mounts a view of {@code lower} at {@code scratch/merged}; {@code scratch} (created if needed, and
     * deleted on close) holds the upper and work layers and must not be on an overlayfs itself.
     */
    public static OverlayRoot mount(Path lower, Path scratch, ProcessRunner runner, Host host) {
        Path low = lower.toAbsolutePath().normalize();
        Path dir = scratch.toAbsolutePath().normalize();
        if (!host.isRoot()) {
            throw new RkmodException(ExitCode.ENVIRONMENT, "A copy-on-write view of " + low + " needs root",
                    "Mounting an overlay filesystem requires root privileges", "Run as root (for example with sudo)");
        }
        if (dir.startsWith(low) || low.startsWith(dir)) {
            throw new RkmodException(ExitCode.USAGE, "Cannot lay a view of " + low + " in " + dir,
                    "One contains the other", "Put the scratch directory outside the root");
        }
        OverlayRoot o = new OverlayRoot(low, dir, runner, host);
        try {
            Path upper = Files.createDirectories(dir.resolve("upper"));
            Path work = Files.createDirectories(dir.resolve("work"));
            Files.createDirectories(o.merged);
            runner.run(ProcessSpec.of("mount", "-t", "overlay", "overlay", "-o",
                            "lowerdir=" + escape(low) + ",upperdir=" + escape(upper) + ",workdir=" + escape(work),
                            o.merged.toString())
                    .timeout(MOUNT_TIMEOUT).noLog().quiet().failureCode(ExitCode.ENVIRONMENT));
            o.mounted = true;
            return o;
        } catch (IOException e) {
            o.close();
            throw new RkmodException(ExitCode.ENVIRONMENT, "Cannot prepare the scratch directory " + dir,
                    e.getMessage(), "Check its permissions and free space", e);
        } catch (RuntimeException e) {
            o.close();
            throw e;
        }
    }

    /** overlayfs options separate layers with ':' and options with ','; a backslash escapes them. */
    private static String escape(Path p) {
        return p.toString().replace("\\", "\\\\").replace(":", "\\:").replace(",", "\\,");
    }

    /** The merged view: the root to chroot into. */
    public Path root() {
        return merged;
    }

    /** The cached root below the view, which the view never changes. */
    public Path lower() {
        return lower;
    }

    /**
     * What the view added or changed compared with the root below, as paths relative to it (directories end in
     * '/'), sorted, leaving out the paths under {@code ignoredPrefixes}. A directory that was only copied up (something
     * was created in it and removed again) is no change when the root below has it too.
     */
    public List<String> changes(java.util.Set<String> ignoredPrefixes) throws IOException {
        Path upper = scratch.resolve("upper");
        List<String> out = new java.util.ArrayList<>();
        try (java.util.stream.Stream<Path> s = Files.walk(upper)) {
            for (Path p : s.sorted().toList()) {
                String rel = upper.relativize(p).toString();
                if (rel.isEmpty() || ignoredPrefixes.stream().anyMatch(i -> rel.equals(i) || rel.startsWith(i + "/"))) {
                    continue;
                }
                boolean dir = Files.isDirectory(p, java.nio.file.LinkOption.NOFOLLOW_LINKS);
                if (dir && Files.isDirectory(lower.resolve(rel), java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                    continue;
                }
                out.add(rel + (dir ? "/" : ""));
            }
        }
        return out;
    }

    /** A chroot session in the view, with /proc and {@code binds} mounted as {@link Chroot} does. */
    public Chroot enter(List<Path> binds) {
        return Chroot.enter(merged, runner, host, binds);
    }

    /** Unmounts everything under the view, then the view, and deletes the scratch directory. */
    @Override
    public void close() {
        try {
            unmountAll();
            FileOps.deleteTree(scratch);
        } finally {
            cleanup.close();
        }
    }

    private synchronized void unmountAll() {
        for (Path p : Mounts.under(merged)) {
            var r = runner.run(ProcessSpec.of("umount", p.toString()).timeout(MOUNT_TIMEOUT).noLog().quiet().allowFailure());
            if (!r.ok()) {
                runner.run(ProcessSpec.of("umount", "-l", p.toString()).timeout(MOUNT_TIMEOUT)
                        .noLog().quiet().failureCode(ExitCode.ENVIRONMENT));
            }
        }
        mounted = false;
    }

    /** Whether the view is still mounted. */
    public boolean isMounted() {
        return mounted && Mounts.under(merged).contains(merged);
    }

    private void unmountQuietly() {
        try {
            unmountAll();
        } catch (RuntimeException ignored) {
            // shutting down
        }
    }
}
