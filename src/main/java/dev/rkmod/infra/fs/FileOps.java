package dev.rkmod.infra.fs;

import dev.rkmod.model.ExitCode;
import dev.rkmod.model.RkmodException;

import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.List;

/** Atomic writes and safe recursive deletes. */
public final class FileOps {
    private FileOps() {
    }

    /** Writes bytes to a temporary sibling, then renames it over {@code target}. */
    public static void writeAtomically(Path target, byte[] content) {
        Path dir = target.toAbsolutePath().getParent();
        try {
            Files.createDirectories(dir);
            Path tmp = Files.createTempFile(dir, "." + target.getFileName() + OWNER + ProcessHandle.current().pid() + ".", ".tmp");
            try {
                Files.write(tmp, content);
                if (Files.exists(target)) {
                    Files.setPosixFilePermissions(tmp, Files.getPosixFilePermissions(target));
                    try {
                        Object uid = Files.getAttribute(target, "unix:uid");
                        Object gid = Files.getAttribute(target, "unix:gid");
                        if (!uid.equals(Files.getAttribute(tmp, "unix:uid"))) {
                            Files.setAttribute(tmp, "unix:uid", uid);
                        }
                        if (!gid.equals(Files.getAttribute(tmp, "unix:gid"))) {
                            Files.setAttribute(tmp, "unix:gid", gid);
                        }
                    } catch (IOException | UnsupportedOperationException | IllegalArgumentException ignored) {
                        // not root, or no unix view: the file stays ours
                    }
                } else {
                    Files.setPosixFilePermissions(tmp, java.nio.file.attribute.PosixFilePermissions.fromString("rw-r--r--"));
                }
                moveAtomically(tmp, target);
            } finally {
                Files.deleteIfExists(tmp);
            }
        } catch (IOException e) {
            throw new RkmodException(ExitCode.ENVIRONMENT, "Cannot write " + target, reason(e),
                    "Check that the directory exists, is writable and has free space", e);
        }
    }

    private static final String OWNER = ".pid";
    private static final java.util.regex.Pattern OWNED_TEMP = java.util.regex.Pattern.compile("\\..*\\.pid(\\d+)\\.\\d+\\.tmp");

    /** A temporary file's name prefix in {@code dir} that names this process as its owner (see {@link #sweepStaleTemps}). */
    public static String ownedTempPrefix(String name) {
        return "." + name + OWNER + ProcessHandle.current().pid() + ".";
    }

    /**
     * Removes the temporary files that {@link #writeAtomically} (or {@link #ownedTempPrefix}) left in {@code dir} when
     * their process was killed before it could remove them: {@code .NAME.pidPID.RANDOM.tmp} whose PID is gone.
     */
    public static void sweepStaleTemps(Path dir) {
        try (java.nio.file.DirectoryStream<Path> ds = Files.newDirectoryStream(dir, ".*.tmp")) {
            for (Path p : ds) {
                var m = OWNED_TEMP.matcher(p.getFileName().toString());
                if (!m.matches() || !Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) {
                    continue;
                }
                long pid = Long.parseLong(m.group(1));
                if (pid != ProcessHandle.current().pid() && ProcessHandle.of(pid).map(h -> !h.isAlive()).orElse(true)) {
                    Files.deleteIfExists(p);
                }
            }
        } catch (IOException | RuntimeException e) {
            // best effort: a leftover temporary file is litter, never an output
        }
    }

    /** The SHA-256 of a file's content, in lower-case hex. */
    public static String sha256(Path file) throws IOException {
        try (java.io.InputStream in = Files.newInputStream(file)) {
            java.security.MessageDigest md = java.security.MessageDigest.getInstance("SHA-256");
            byte[] buf = new byte[1 << 16];
            int n;
            while ((n = in.read(buf)) > 0) {
                md.update(buf, 0, n);
            }
            return java.util.HexFormat.of().formatHex(md.digest());
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Deletes a file or a tree, ignoring what cannot be deleted (best effort, for cleanup paths). */
    public static void deleteQuietly(Path p) {
        try {
            if (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
                deleteTree(p);
            } else {
                Files.deleteIfExists(p);
            }
        } catch (IOException | RuntimeException ignored) {
            // best effort: 'rkmod cache clear' removes stale temporary directories
        }
    }

    /** Renames within one file system; fails rather than copying. */
    public static void moveAtomically(Path from, Path to) throws IOException {
        try {
            Files.move(from, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            throw new IOException("cannot rename " + from + " to " + to + " atomically (different file systems?)", e);
        }
    }

    /**
     * Deletes a tree without following symbolic links. Refuses when anything is mounted inside it,
     * so that a chroot with /proc mounted is never emptied through the mount.
     */
    public static void deleteTree(Path dir) {
        if (!Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        List<Path> mounted = Mounts.under(dir);
        if (!mounted.isEmpty()) {
            throw new RkmodException(ExitCode.ENVIRONMENT, "Refusing to delete " + dir,
                    "Something is mounted inside it: " + mounted,
                    "Unmount it first (umount " + mounted.get(0) + ")");
        }
        IOException last = null;
        for (int attempt = 0; attempt < 5; attempt++) {
            try {
                walkDelete(dir);
                return;
            } catch (IOException e) {
                // another thread or process may be deleting or writing in the same tree: walk again
                last = e;
                if (!Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
                    return;
                }
            }
        }
        throw new RkmodException(ExitCode.ENVIRONMENT, "Cannot delete " + dir,
                last == null ? null : last.getClass().getSimpleName() + ": " + last.getMessage(),
                "Check ownership and permissions (it may have been made by root)", last);
    }

    /**
     * What went wrong with a file operation, as a user reads it: the system's reason and the paths, without Java's
     * exception names ("No space left on device (/out/x)", "permission denied (/out)").
     */
    public static String reason(IOException e) {
        if (e instanceof java.nio.file.FileSystemException f) {
            String why = e instanceof java.nio.file.AccessDeniedException ? "permission denied"
                    : e instanceof java.nio.file.NoSuchFileException ? "no such file or directory"
                    : e instanceof java.nio.file.FileAlreadyExistsException ? "it already exists"
                    : e instanceof java.nio.file.NotDirectoryException ? "not a directory"
                    : e instanceof java.nio.file.DirectoryNotEmptyException ? "the directory is not empty"
                    : f.getReason() != null ? f.getReason() : "it failed";
            String where = f.getFile() == null ? "" : " (" + f.getFile() + (f.getOtherFile() == null ? "" : " -> " + f.getOtherFile()) + ")";
            return why + where;
        }
        return e.getMessage() == null ? "an I/O error (" + e.getClass().getSimpleName() + ")" : e.getMessage();
    }

    private static void walkDelete(Path dir) throws IOException {
        Files.walkFileTree(dir, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                Files.deleteIfExists(file);
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFileFailed(Path file, IOException exc) throws IOException {
                if (exc instanceof NoSuchFileException) {
                    return FileVisitResult.CONTINUE;
                }
                throw exc;
            }

            @Override
            public FileVisitResult preVisitDirectory(Path d, BasicFileAttributes attrs) {
                if (!d.toFile().canWrite()) {
                    d.toFile().setWritable(true, true);
                }
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path d, IOException exc) throws IOException {
                if (exc != null && !(exc instanceof NoSuchFileException)) {
                    throw exc;
                }
                Files.deleteIfExists(d);
                return FileVisitResult.CONTINUE;
            }
        });
    }

    /** Total size in bytes of regular files below {@code dir}, not following links. */
    public static long sizeOf(Path dir) {
        long[] total = {0};
        try {
            Files.walkFileTree(dir, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) {
                    if (attrs.isRegularFile()) {
                        total[0] += attrs.size();
                    }
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult visitFileFailed(Path file, IOException exc) {
                    return FileVisitResult.CONTINUE;
                }
            });
        } catch (IOException e) {
            return total[0];
        }
        return total[0];
    }
}
