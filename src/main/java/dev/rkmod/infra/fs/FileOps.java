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

    /**
     * Writes bytes to a temporary sibling, then renames it over {@code target}: the target is either the old file or the
     * new one, never half written. The new file takes the old one's permission bits (and owner and group, when this
     * process may set them), or rw-r--r-- when there was none. Few system calls (one open, one write, two stats, a
     * chmod, the rename), as 'rkmod sign' writes one file per module.
     */
    public static void writeAtomically(Path target, byte[] content) {
        Path abs = target.toAbsolutePath();
        Path dir = abs.getParent();
        Path tmp = null;
        try {
            tmp = createOwnedTemp(dir, abs.getFileName().toString(), content);
            java.util.Map<String, Object> old = null;
            try {
                old = Files.readAttributes(target, "unix:mode,uid,gid");
            } catch (NoSuchFileException absent) {
                // a new file
            }
            Files.setPosixFilePermissions(tmp, permissions(old == null ? 0644 : (Integer) old.get("mode")));
            if (old != null) {
                try {
                    java.util.Map<String, Object> mine = Files.readAttributes(tmp, "unix:uid,gid");
                    if (!old.get("uid").equals(mine.get("uid"))) {
                        Files.setAttribute(tmp, "unix:uid", old.get("uid"));
                    }
                    if (!old.get("gid").equals(mine.get("gid"))) {
                        Files.setAttribute(tmp, "unix:gid", old.get("gid"));
                    }
                } catch (IOException | UnsupportedOperationException | IllegalArgumentException ignored) {
                    // not root: the file stays ours
                }
            }
            moveAtomically(tmp, target);
            tmp = null;
        } catch (IOException e) {
            throw new RkmodException(ExitCode.ENVIRONMENT, "Cannot write " + target, reason(e),
                    "Check that the directory exists, is writable and has free space", e);
        } finally {
            if (tmp != null) {
                try {
                    Files.deleteIfExists(tmp);
                } catch (IOException ignored) {
                    // litter that the next sweep removes
                }
            }
        }
    }

    private static final java.util.Set<java.nio.file.OpenOption> CREATE_NEW_WRITE =
            java.util.Set.of(java.nio.file.StandardOpenOption.CREATE_NEW, java.nio.file.StandardOpenOption.WRITE);
    private static final java.nio.file.attribute.FileAttribute<?> OWNER_ONLY =
            java.nio.file.attribute.PosixFilePermissions.asFileAttribute(java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));

    /** A new file {@code .NAME.pidPID.RANDOM.tmp} in {@code dir} (made when missing) holding {@code content}. */
    private static Path createOwnedTemp(Path dir, String name, byte[] content) throws IOException {
        String prefix = ownedTempPrefix(name);
        for (int attempt = 0; ; attempt++) {
            Path tmp = dir.resolve(prefix + Long.toUnsignedString(java.util.concurrent.ThreadLocalRandom.current().nextLong()) + ".tmp");
            java.nio.channels.FileChannel ch;
            try {
                ch = java.nio.channels.FileChannel.open(tmp, CREATE_NEW_WRITE, OWNER_ONLY); // rw------- until it is done
            } catch (java.nio.file.FileAlreadyExistsException taken) {
                if (attempt < 100) {
                    continue;
                }
                throw taken;
            } catch (NoSuchFileException noDir) {
                if (attempt > 0 || Files.isDirectory(dir)) {
                    throw noDir;
                }
                Files.createDirectories(dir);
                continue;
            }
            try (ch) {
                java.nio.ByteBuffer buf = java.nio.ByteBuffer.wrap(content);
                while (buf.hasRemaining()) {
                    ch.write(buf);
                }
            } catch (IOException | RuntimeException e) {
                Files.deleteIfExists(tmp);
                throw e;
            }
            return tmp;
        }
    }

    private static final java.nio.file.attribute.PosixFilePermission[] BITS = {
        java.nio.file.attribute.PosixFilePermission.OTHERS_EXECUTE, java.nio.file.attribute.PosixFilePermission.OTHERS_WRITE,
        java.nio.file.attribute.PosixFilePermission.OTHERS_READ, java.nio.file.attribute.PosixFilePermission.GROUP_EXECUTE,
        java.nio.file.attribute.PosixFilePermission.GROUP_WRITE, java.nio.file.attribute.PosixFilePermission.GROUP_READ,
        java.nio.file.attribute.PosixFilePermission.OWNER_EXECUTE, java.nio.file.attribute.PosixFilePermission.OWNER_WRITE,
        java.nio.file.attribute.PosixFilePermission.OWNER_READ};

    /** The nine permission bits of a st_mode as a set. */
    private static java.util.Set<java.nio.file.attribute.PosixFilePermission> permissions(int mode) {
        java.util.Set<java.nio.file.attribute.PosixFilePermission> set =
                java.util.EnumSet.noneOf(java.nio.file.attribute.PosixFilePermission.class);
        for (int i = 0; i < BITS.length; i++) {
            if ((mode & (1 << i)) != 0) {
                set.add(BITS[i]);
            }
        }
        return set;
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
        // a plain filter rather than a glob: no pattern to compile, and most names fail at their first character
        try (java.nio.file.DirectoryStream<Path> ds = Files.newDirectoryStream(dir, p -> {
            String n = p.getFileName().toString();
            return n.startsWith(".") && n.endsWith(".tmp");
        })) {
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
