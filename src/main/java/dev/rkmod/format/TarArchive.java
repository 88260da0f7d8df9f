package dev.rkmod.format;

import com.github.luben.zstd.ZstdInputStream;
import com.github.luben.zstd.ZstdOutputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.tukaani.xz.LZMA2Options;
import org.tukaani.xz.XZInputStream;
import org.tukaani.xz.XZOutputStream;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermission;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/**
 * Reproducible tar archives (plain, zstd or xz): entries sorted by the caller, a fixed mtime, uid and
 * gid 0 with empty names, and modes normalised to 0755 (directories, executables) or 0644. Extraction
 * refuses absolute paths, {@code ..} components and links that leave the destination.
 */
public final class TarArchive {

    /** Compression of an archive. */
    public enum Compression {
        NONE(".tar"), ZSTD(".tar.zst"), XZ(".tar.xz");

        private final String suffix;

        Compression(String suffix) {
            this.suffix = suffix;
        }

        public String suffix() {
            return suffix;
        }
    }

    /** One entry to write: a path inside the archive and the file or directory it comes from. */
    public record Item(String name, Path source) { }

    private TarArchive() {
    }

    /** Writes {@code items} in the given order. Symbolic links are stored as links. */
    public static void write(OutputStream raw, Compression c, List<Item> items, long mtimeSeconds, int zstdLevel)
            throws IOException {
        OutputStream compressed = switch (c) {
            case NONE -> raw;
            case ZSTD -> {
                ZstdOutputStream z = new ZstdOutputStream(raw, zstdLevel);
                z.setChecksum(true);
                z.setWorkers(Math.max(1, Runtime.getRuntime().availableProcessors()));
                yield z;
            }
            case XZ -> new XZOutputStream(raw, new LZMA2Options(3));
        };
        try (TarArchiveOutputStream tar = new TarArchiveOutputStream(new BufferedOutputStream(compressed, 1 << 16))) {
            tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
            tar.setBigNumberMode(TarArchiveOutputStream.BIGNUMBER_POSIX);
            tar.setAddPaxHeadersForNonAsciiNames(true);
            FileTime mtime = FileTime.fromMillis(mtimeSeconds * 1000);
            for (Item it : items) {
                checkName(it.name());
                TarArchiveEntry e;
                boolean regular = false;
                if (Files.isSymbolicLink(it.source())) {
                    e = new TarArchiveEntry(it.name(), TarArchiveEntry.LF_SYMLINK);
                    e.setLinkName(Files.readSymbolicLink(it.source()).toString());
                    e.setMode(0120777);
                } else if (Files.isDirectory(it.source(), LinkOption.NOFOLLOW_LINKS)) {
                    e = new TarArchiveEntry(it.name().endsWith("/") ? it.name() : it.name() + "/");
                    e.setMode(040755);
                } else {
                    e = new TarArchiveEntry(it.name());
                    e.setSize(Files.size(it.source()));
                    e.setMode(Files.isExecutable(it.source()) ? 0100755 : 0100644);
                    regular = true;
                }
                e.setLastModifiedTime(mtime);
                e.setUserId(0);
                e.setGroupId(0);
                e.setUserName("");
                e.setGroupName("");
                tar.putArchiveEntry(e);
                if (regular) {
                    Files.copy(it.source(), tar);
                }
                tar.closeArchiveEntry();
            }
            tar.finish();
        }
    }

    /** Detects the compression of an archive file by its magic bytes. */
    public static Compression detect(Path file) throws IOException {
        byte[] head;
        try (InputStream in = Files.newInputStream(file)) {
            head = in.readNBytes(6);
        }
        return switch (CompressedModule.detect(head)) {
            case ZSTD -> Compression.ZSTD;
            case XZ -> Compression.XZ;
            default -> Compression.NONE;
        };
    }

    /**
     * Extracts into {@code dest}, which must exist. Returns the number of entries. Safe against hostile archives:
     * names are checked ({@link #checkName}); nothing is written through a symbolic link (an entry whose path passes
     * through a link already extracted is refused, and an existing link at an entry's own path is replaced, never
     * followed); a link's target is resolved against what is already extracted, following the links on its way, and
     * must stay inside {@code dest}; and a last pass checks that every link that resolves ends inside it, which
     * catches a link made harmful by a later one. Hard links, devices and FIFOs are refused.
     */
    public static int extract(Path archive, Path dest) throws IOException {
        Compression c = detect(archive);
        Path base = dest.toRealPath();
        int count = 0;
        long[] packed = {0};
        long unpacked = 0;
        try (InputStream raw = new BufferedInputStream(counting(Files.newInputStream(archive), packed), 1 << 16);
             InputStream in = switch (c) {
                 case NONE -> raw;
                 case ZSTD -> new ZstdInputStream(raw);
                 case XZ -> new XZInputStream(raw, CompressedModule.XZ_MEMORY_LIMIT_KIB);
             };
             TarArchiveInputStream tar = new TarArchiveInputStream(in)) {
            TarArchiveEntry e;
            while ((e = tar.getNextEntry()) != null) {
                String name = e.getName();
                checkName(name);
                Path target = base.resolve(name).normalize();
                if (!target.startsWith(base)) {
                    throw unsafe(name, "it would be written outside the destination");
                }
                if (target.equals(base)) {
                    if (!e.isDirectory()) {
                        throw unsafe(name, "it would replace the destination itself");
                    }
                    count++;
                    continue;
                }
                noLinkOnTheWay(base, target, name);
                if (e.isLink()) {
                    throw unsafe(name, "it is a hard link (to " + e.getLinkName() + "), which rkmod packages never hold");
                }
                if (e.isCharacterDevice() || e.isBlockDevice() || e.isFIFO()) {
                    throw unsafe(name, "it is a device node or FIFO");
                }
                if (e.getRealSize() > MAX_ENTRY) {
                    throw unsafe(name, "it claims " + e.getRealSize() + " bytes, more than any file of a kernel package"
                            + " (" + (MAX_ENTRY >> 30) + " GiB)");
                }
                if (e.isDirectory()) {
                    if (Files.isSymbolicLink(target)) {
                        Files.delete(target);
                    }
                    Files.createDirectories(target);
                } else if (e.isSymbolicLink()) {
                    Path link = Path.of(e.getLinkName());
                    if (link.isAbsolute() || !target.getParent().resolve(link).normalize().startsWith(base)
                            || !staysInside(base, target.getParent(), link)) {
                        throw unsafe(name, "it is a link to " + e.getLinkName() + ", outside the archive");
                    }
                    Files.createDirectories(target.getParent());
                    replaceable(target, name);
                    Files.createSymbolicLink(target, link);
                } else if (e.isFile()) {
                    Files.createDirectories(target.getParent());
                    replaceable(target, name);
                    try (OutputStream out = Files.newOutputStream(target, StandardOpenOption.CREATE_NEW,
                            StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS)) {
                        byte[] buf = new byte[1 << 16];
                        int n;
                        while ((n = tar.read(buf)) > 0) {
                            out.write(buf, 0, n);
                            unpacked += n;
                            if (unpacked > BOMB_FLOOR && unpacked > BOMB_RATIO * Math.max(packed[0], 1)) {
                                throw unsafe(name, "the archive expands more than " + BOMB_RATIO + " times (" + packed[0]
                                        + " bytes read became " + unpacked + "): a decompression bomb, which would fill the disk");
                            }
                        }
                    }
                    Set<PosixFilePermission> perms = EnumSet.of(PosixFilePermission.OWNER_READ,
                            PosixFilePermission.OWNER_WRITE, PosixFilePermission.GROUP_READ, PosixFilePermission.OTHERS_READ);
                    if ((e.getMode() & 0100) != 0) {
                        perms.addAll(List.of(PosixFilePermission.OWNER_EXECUTE, PosixFilePermission.GROUP_EXECUTE,
                                PosixFilePermission.OTHERS_EXECUTE));
                    }
                    Files.setPosixFilePermissions(target, perms);
                } else {
                    throw unsafe(name, "it is neither a file, a directory nor a symbolic link");
                }
                count++;
            }
            linksEndInside(base);
        } catch (FormatException ex) {
            throw ex;
        } catch (IOException | RuntimeException ex) {
            throw new FormatException(FormatException.Reason.CORRUPT, archive + " cannot be extracted",
                    ex.getClass().getSimpleName() + ": " + ex.getMessage(), "Make the archive again");
        }
        return count;
    }

    /** The largest file an archive entry may claim: far above any file of a kernel package, far below a full disk. */
    static final long MAX_ENTRY = 2L << 30;
    /** Past this many unpacked bytes, an archive may expand at most {@link #BOMB_RATIO} times (a package: about 5). */
    static final long BOMB_FLOOR = 64L << 20;
    static final long BOMB_RATIO = 100;

    private static InputStream counting(InputStream in, long[] count) {
        return new java.io.FilterInputStream(in) {
            @Override
            public int read() throws IOException {
                int b = super.read();
                count[0] += b < 0 ? 0 : 1;
                return b;
            }

            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                int n = super.read(b, off, len);
                count[0] += Math.max(n, 0);
                return n;
            }
        };
    }

    /** Refuses an entry whose parent path passes through a symbolic link (writing through it could leave the tree). */
    private static void noLinkOnTheWay(Path base, Path target, String name) {
        Path p = base;
        Path rel = base.relativize(target);
        for (int i = 0; i < rel.getNameCount() - 1; i++) {
            p = p.resolve(rel.getName(i));
            if (Files.isSymbolicLink(p)) {
                throw unsafe(name, "it would be written through the symbolic link " + base.relativize(p));
            }
            if (Files.exists(p, LinkOption.NOFOLLOW_LINKS) && !Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
                throw unsafe(name, base.relativize(p) + " is not a directory");
            }
        }
    }

    /** An existing file or link at the entry's path is removed (never followed); an existing directory is refused. */
    private static void replaceable(Path target, String name) throws IOException {
        if (Files.isDirectory(target, LinkOption.NOFOLLOW_LINKS)) {
            throw unsafe(name, "a directory of the same name was extracted before");
        }
        Files.deleteIfExists(target);
    }

    /**
     * Resolves {@code link} from {@code from} the way the kernel will, following the links already extracted on its
     * way (at most 40, as Linux), and says whether every step stays inside {@code base}.
     */
    private static boolean staysInside(Path base, Path from, Path link) throws IOException {
        java.util.ArrayDeque<Path> todo = new java.util.ArrayDeque<>();
        link.forEach(todo::add);
        Path cur = from;
        int hops = 0;
        while (!todo.isEmpty()) {
            String part = todo.poll().toString();
            if (part.equals(".") || part.isEmpty()) {
                continue;
            }
            cur = part.equals("..") ? cur.getParent() : cur.resolve(part);
            if (cur == null || !cur.startsWith(base)) {
                return false;
            }
            if (Files.isSymbolicLink(cur)) {
                if (++hops > 40) {
                    return false;
                }
                Path next = Files.readSymbolicLink(cur);
                if (next.isAbsolute()) {
                    return false;
                }
                java.util.List<Path> parts = new java.util.ArrayList<>();
                next.forEach(parts::add);
                for (int i = parts.size() - 1; i >= 0; i--) {
                    todo.push(parts.get(i));
                }
                cur = cur.getParent();
            }
        }
        return true;
    }

    /** After extraction: every link that resolves must end inside the tree (a later link can redirect an earlier one). */
    private static void linksEndInside(Path base) throws IOException {
        try (java.util.stream.Stream<Path> all = Files.walk(base)) {
            for (Path p : (Iterable<Path>) all::iterator) {
                if (Files.isSymbolicLink(p) && Files.exists(p) && !p.toRealPath().startsWith(base)) {
                    throw unsafe(base.relativize(p).toString(), "it is a link that, with the links extracted after it,"
                            + " points outside the archive");
                }
            }
        }
    }

    /** Refuses absolute paths and any ".." component. */
    public static void checkName(String name) {
        if (name.isEmpty() || name.startsWith("/") || name.contains("\0")) {
            throw unsafe(name, "it is empty or absolute");
        }
        for (String part : name.split("/")) {
            if (part.equals("..")) {
                throw unsafe(name, "it contains a '..' component");
            }
        }
    }

    private static FormatException unsafe(String name, String why) {
        return new FormatException(FormatException.Reason.CORRUPT, "Unsafe archive entry '" + name + "'",
                "It was refused because " + why, "Only use archives made by 'rkmod package'");
    }
}
