package dev.rkmod.format;

import com.github.luben.zstd.ZstdOutputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;

/** What the package writers share: the output file written atomically, tar streams, and the build epoch. */
public final class PackageFiles {
    /**
     * The time stamp of every entry when no SOURCE_DATE_EPOCH is given: 2024-01-01T00:00:00Z. Fixed, so that
     * two builds are byte-identical, and recent, as tools such as lintian flag ancient file times.
     */
    public static final long DEFAULT_EPOCH = 1_704_067_200L;

    private PackageFiles() {
    }

    /** A writer of the output file; it writes into a temporary file that is moved over the target at the end. */
    interface Body {
        void write(Path tmp) throws IOException;
    }

    /**
     * Writes {@code target} atomically: into a temporary file in its directory, flushed to disk and then
     * renamed over it. On failure the temporary file is removed and {@code target} is left as it was.
     */
    static void writeAtomically(Path target, Body body) throws IOException {
        Path abs = target.toAbsolutePath();
        Path dir = abs.getParent();
        Files.createDirectories(dir);
        Path tmp = Files.createTempFile(dir, "." + abs.getFileName() + ".", ".tmp");
        boolean done = false;
        try {
            // a package is readable by all, as the files of the package managers' caches are
            Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-r--r--"));
            body.write(tmp);
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
                ch.force(true);
            }
            try {
                Files.move(tmp, abs, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, abs, StandardCopyOption.REPLACE_EXISTING);
            }
            done = true;
        } finally {
            if (!done) {
                Files.deleteIfExists(tmp);
            }
        }
    }

    /** A tar stream as both package formats need it: GNU long names and numbers, names in UTF-8, no pax headers. */
    static TarArchiveOutputStream tar(OutputStream out) {
        @SuppressWarnings("deprecation")
        TarArchiveOutputStream tar = new TarArchiveOutputStream(out, StandardCharsets.UTF_8.name());
        tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_GNU);
        tar.setBigNumberMode(TarArchiveOutputStream.BIGNUMBER_STAR);
        tar.setAddPaxHeadersForNonAsciiNames(false);
        return tar;
    }

    /** A zstd stream in multi-threaded mode (at least one worker), whose output does not depend on the worker count. */
    static OutputStream zstd(OutputStream out, int level, int threads, boolean longWindow) throws IOException {
        ZstdOutputStream z = new ZstdOutputStream(out, level);
        z.setChecksum(true);
        z.setWorkers(Math.max(1, threads));
        if (longWindow) {
            z.setLong(27);
        }
        return z;
    }

    /**
     * The SOURCE_DATE_EPOCH value (seconds since 1970, a decimal integer) if it is set and valid, else
     * {@link #DEFAULT_EPOCH}. The caller reads the environment; the format classes do not.
     *
     * @throws FormatException UNSUPPORTED if the value is set but not a non-negative integer
     */
    public static long epoch(String sourceDateEpoch) {
        if (sourceDateEpoch == null || sourceDateEpoch.isBlank()) {
            return DEFAULT_EPOCH;
        }
        try {
            long v = Long.parseLong(sourceDateEpoch.strip());
            if (v >= 0 && v < 8_589_934_592L) {
                return v;
            }
        } catch (NumberFormatException ignored) {
            // reported below
        }
        throw new FormatException(FormatException.Reason.UNSUPPORTED,
                "SOURCE_DATE_EPOCH '" + sourceDateEpoch + "' is not a time",
                "It must be a number of seconds since 1970-01-01 that a tar header can hold",
                "Set it to a value such as $(git log -1 --format=%ct), or unset it");
    }
}
