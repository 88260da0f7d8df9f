package dev.rkmod.format;

import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * The files a distribution package installs, as the package writers lay them out: every path relative to the
 * installed root ("usr/src/x", no leading '/' or "./"), every parent directory present, in depth-first order
 * with each directory's children sorted by the bytes of their names (as {@code tar --sort=name} and
 * {@code dpkg-deb --build} order them), owned by root, with normalised modes: directories 0755, files 0755 if
 * any execute bit is set and 0644 otherwise, symbolic links 0777.
 *
 * <p>A tree is read from a directory without ever following a symbolic link: a link is stored as a link
 * whatever it points to, and a file is opened with {@code O_NOFOLLOW}. Device nodes, FIFOs and sockets are
 * refused, and so are names with control characters. Hard links are stored as separate files.
 */
public final class PackageTree {
    /** The kind of an entry. */
    public enum Type { DIRECTORY, FILE, SYMLINK }

    /**
     * One entry. A file comes either from {@code source} (read when the package is written, and checked to
     * still have {@code size} bytes) or from {@code content}.
     */
    public record Entry(String path, Type type, int mode, long size, String linkTarget, Path source, byte[] content) {
        /** The tar type bits and permissions, as an archive stores them. */
        public int tarMode() {
            return switch (type) {
                case DIRECTORY -> 040000 | mode;
                case FILE -> 0100000 | mode;
                case SYMLINK -> 0120000 | mode;
            };
        }

        /** Whether this is a regular file with an execute bit. */
        public boolean executable() {
            return type == Type.FILE && (mode & 0111) != 0;
        }
    }

    /** The digests of one file's content, as computed while it was archived. */
    public record Digests(String path, long size, String md5, String sha256) { }

    private static final Comparator<String> ORDER = PackageTree::compare;
    private final List<Entry> entries;

    private PackageTree(Collection<Entry> entries) {
        this.entries = List.copyOf(entries);
    }

    public static Builder builder() {
        return new Builder();
    }

    /** The entries in archive order, the root directory ("") first. */
    public List<Entry> entries() {
        return entries;
    }

    /**
     * The installed size in KiB as {@code dpkg-gencontrol} computes it by default (deb-substvars(5)): each
     * regular file's and each symbolic link's size (the length of its target) rounded up to whole KiB, plus 1
     * KiB for every other object (the directories, the root included).
     */
    public long installedSizeKiB() {
        long kib = 0;
        for (Entry e : entries) {
            kib += switch (e.type()) {
                case FILE -> (e.size() + 1023) / 1024;
                case SYMLINK -> (e.linkTarget().getBytes(StandardCharsets.UTF_8).length + 1023) / 1024;
                case DIRECTORY -> 1;
            };
        }
        return kib;
    }

    /** The total size in bytes of the regular files and link targets, as makepkg's {@code size} counts it. */
    public long contentBytes() {
        long n = 0;
        for (Entry e : entries) {
            if (e.type() == Type.FILE) {
                n += e.size();
            }
        }
        return n;
    }

    /** The entry at {@code path}, if any. */
    public java.util.Optional<Entry> entry(String path) {
        return entries.stream().filter(e -> e.path().equals(path)).findFirst();
    }

    /**
     * Writes the entries to {@code tar}, names prefixed with {@code prefix} ("./" for a .deb, "" for an Arch
     * package; the root itself is written only when the prefix is not empty, as "./"), all owned by root:root
     * (uid and gid 0), every time set to {@code mtimeSeconds}. Returns the digests of the regular files in
     * archive order; {@code sha256} is computed only when asked.
     *
     * @throws FormatException UNSUPPORTED if a file changed size or type since the tree was read
     */
    public List<Digests> writeTo(TarArchiveOutputStream tar, String prefix, long mtimeSeconds, boolean sha256)
            throws IOException {
        FileTime mtime = FileTime.fromMillis(mtimeSeconds * 1000);
        List<Digests> digests = new ArrayList<>();
        byte[] buf = new byte[1 << 16];
        for (Entry e : entries) {
            if (e.path().isEmpty() && prefix.isEmpty()) {
                continue;
            }
            String name = prefix + e.path();
            TarArchiveEntry t = switch (e.type()) {
                case DIRECTORY -> new TarArchiveEntry(name.isEmpty() || name.endsWith("/") ? name : name + "/",
                        TarArchiveEntry.LF_DIR);
                case FILE -> new TarArchiveEntry(name, TarArchiveEntry.LF_NORMAL);
                case SYMLINK -> new TarArchiveEntry(name, TarArchiveEntry.LF_SYMLINK);
            };
            t.setMode(e.tarMode());
            t.setUserId(0);
            t.setGroupId(0);
            t.setUserName("root");
            t.setGroupName("root");
            t.setModTime(mtime);
            if (e.type() == Type.SYMLINK) {
                t.setLinkName(e.linkTarget());
            }
            if (e.type() == Type.FILE) {
                t.setSize(e.size());
            }
            tar.putArchiveEntry(t);
            if (e.type() == Type.FILE) {
                digests.add(copy(e, tar, buf, sha256));
            }
            tar.closeArchiveEntry();
        }
        return digests;
    }

    private static Digests copy(Entry e, OutputStream out, byte[] buf, boolean withSha256) throws IOException {
        MessageDigest md5 = digest("MD5");
        MessageDigest sha = withSha256 ? digest("SHA-256") : null;
        long n = 0;
        if (e.content() != null) {
            out.write(e.content());
            md5.update(e.content());
            if (sha != null) {
                sha.update(e.content());
            }
            n = e.content().length;
        } else {
            try (InputStream in = Files.newInputStream(e.source(), StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS)) {
                int r;
                while ((r = in.read(buf, 0, (int) Math.min(buf.length, e.size() - n + 1))) > 0) {
                    n += r;
                    if (n > e.size()) {
                        break;
                    }
                    out.write(buf, 0, r);
                    md5.update(buf, 0, r);
                    if (sha != null) {
                        sha.update(buf, 0, r);
                    }
                }
            } catch (IOException ex) {
                if (!Files.isRegularFile(e.source(), LinkOption.NOFOLLOW_LINKS)) {
                    throw changed(e, "it is no longer a regular file");
                }
                throw ex;
            }
            if (n != e.size()) {
                throw changed(e, "it had " + e.size() + " bytes when the tree was read and now has "
                        + (n > e.size() ? "more" : n));
            }
        }
        HexFormat hex = HexFormat.of();
        return new Digests(e.path(), n, hex.formatHex(md5.digest()), sha == null ? null : hex.formatHex(sha.digest()));
    }

    private static FormatException changed(Entry e, String why) {
        return new FormatException(FormatException.Reason.UNSUPPORTED, e.source() + " changed while it was packaged",
                "It was refused because " + why, "Package a tree that nothing else is writing to");
    }

    static MessageDigest digest(String algorithm) {
        try {
            return MessageDigest.getInstance(algorithm);
        } catch (NoSuchAlgorithmException ex) {
            throw new IllegalStateException(algorithm + " is missing from the JDK", ex);
        }
    }

    /**
     * Orders paths depth-first with the children of a directory sorted by the unsigned bytes of their names
     * in UTF-8: a directory comes right before its contents.
     */
    static int compare(String a, String b) {
        byte[] x = a.getBytes(StandardCharsets.UTF_8);
        byte[] y = b.getBytes(StandardCharsets.UTF_8);
        int n = Math.min(x.length, y.length);
        for (int i = 0; i < n; i++) {
            if (x[i] != y[i]) {
                // '/' ends a component: it sorts before every other byte
                int cx = x[i] == '/' ? -1 : x[i] & 0xFF;
                int cy = y[i] == '/' ? -1 : y[i] & 0xFF;
                return Integer.compare(cx, cy);
            }
        }
        return Integer.compare(x.length, y.length);
    }

    /** Collects entries; {@link #build()} adds the missing parent directories. */
    public static final class Builder {
        private final Map<String, Entry> byPath = new TreeMap<>(ORDER);

        private Builder() {
            byPath.put("", new Entry("", Type.DIRECTORY, 0755, 0, null, null, null));
        }

        /**
         * Adds everything under {@code dir} (not {@code dir} itself, which is the directory {@code prefix}),
         * never following a symbolic link.
         *
         * @param prefix where the directory goes in the package, such as "usr/src/linux-headers-6.1" ("" for
         *               the root)
         * @throws FormatException UNSUPPORTED for a device node, FIFO or socket, or a name with a control
         *                         character; CORRUPT if {@code dir} is not a directory (a link to one included)
         */
        public Builder addTree(String prefix, Path dir) throws IOException {
            String base = checkPath(prefix, true);
            if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
                throw new FormatException(FormatException.Reason.CORRUPT, dir + " is not a directory",
                        "A package is made from a directory tree, and a symbolic link to one is not followed",
                        "Give the directory itself");
            }
            put(new Entry(base, Type.DIRECTORY, 0755, 0, null, null, null), dir.toString());
            Files.walkFileTree(dir, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult preVisitDirectory(Path d, BasicFileAttributes attrs) {
                    if (!d.equals(dir)) {
                        put(new Entry(join(base, dir, d), Type.DIRECTORY, 0755, 0, null, null, null), d.toString());
                    }
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult visitFile(Path f, BasicFileAttributes attrs) throws IOException {
                    String path = join(base, dir, f);
                    if (attrs.isSymbolicLink()) {
                        String target = Files.readSymbolicLink(f).toString();
                        checkLinkTarget(target, f.toString());
                        put(new Entry(path, Type.SYMLINK, 0777, 0, target, null, null), f.toString());
                    } else if (attrs.isRegularFile()) {
                        put(new Entry(path, Type.FILE, executable(f) ? 0755 : 0644, attrs.size(), null, f, null),
                                f.toString());
                    } else {
                        throw new FormatException(FormatException.Reason.UNSUPPORTED,
                                f + " is neither a file, a directory nor a symbolic link",
                                "Packages made by rkmod hold no device nodes, FIFOs or sockets",
                                "Remove it from the tree, or leave it out of the package");
                    }
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult visitFileFailed(Path f, IOException ex) throws IOException {
                    throw ex;
                }
            });
            return this;
        }

        /** Adds a symbolic link, such as "lib/modules/R/build" to "/usr/src/linux-headers-R". */
        public Builder addSymlink(String path, String target) {
            String p = checkPath(path, false);
            checkLinkTarget(target, path);
            put(new Entry(p, Type.SYMLINK, 0777, 0, target, null, null), "the link " + path);
            return this;
        }

        /** Adds a regular file with the given content. */
        public Builder addFile(String path, byte[] content, boolean executable) {
            String p = checkPath(path, false);
            put(new Entry(p, Type.FILE, executable ? 0755 : 0644, content.length, null, null, content.clone()),
                    "the file " + path);
            return this;
        }

        /** Adds an (empty) directory. */
        public Builder addDirectory(String path) {
            String p = checkPath(path, true);
            put(new Entry(p, Type.DIRECTORY, 0755, 0, null, null, null), "the directory " + path);
            return this;
        }

        /**
         * The tree, with a directory entry for every parent of every entry.
         *
         * @throws FormatException CORRUPT if a parent of an entry is not a directory
         */
        public PackageTree build() {
            Map<String, Entry> all = new TreeMap<>(ORDER);
            all.putAll(byPath);
            for (String p : List.copyOf(byPath.keySet())) {
                for (int i = p.lastIndexOf('/'); i > 0; i = p.lastIndexOf('/', i - 1)) {
                    String parent = p.substring(0, i);
                    Entry existing = all.get(parent);
                    if (existing == null) {
                        all.put(parent, new Entry(parent, Type.DIRECTORY, 0755, 0, null, null, null));
                    } else if (existing.type() != Type.DIRECTORY) {
                        throw new FormatException(FormatException.Reason.CORRUPT,
                                "The package would hold both " + parent + " and " + p,
                                parent + " is not a directory, so nothing can be installed below it",
                                "Remove one of them");
                    }
                }
            }
            return new PackageTree(all.values());
        }

        private void put(Entry e, String source) {
            Entry old = byPath.get(e.path());
            if (old != null && !(old.type() == Type.DIRECTORY && e.type() == Type.DIRECTORY)) {
                throw new FormatException(FormatException.Reason.CORRUPT,
                        "The package would hold /" + e.path() + " twice",
                        "It comes from " + source + " and was already added",
                        "Leave one of them out");
            }
            byPath.put(e.path(), e);
        }

        private static boolean executable(Path f) throws IOException {
            Set<PosixFilePermission> perms = Files.readAttributes(f, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS)
                    .permissions();
            return perms.contains(PosixFilePermission.OWNER_EXECUTE) || perms.contains(PosixFilePermission.GROUP_EXECUTE)
                    || perms.contains(PosixFilePermission.OTHERS_EXECUTE);
        }

        private static String join(String base, Path root, Path p) {
            StringBuilder sb = new StringBuilder(base);
            for (Path part : root.relativize(p)) {
                String name = part.toString();
                checkName(name, p.toString());
                if (sb.length() > 0) {
                    sb.append('/');
                }
                sb.append(name);
            }
            return sb.toString();
        }
    }

    /** Normalises a path given by the caller: no leading '/' or "./", no trailing '/', no "." or "..". */
    static String checkPath(String path, boolean rootAllowed) {
        String p = path;
        while (p.startsWith("./")) {
            p = p.substring(2);
        }
        while (p.startsWith("/")) {
            p = p.substring(1);
        }
        while (p.endsWith("/")) {
            p = p.substring(0, p.length() - 1);
        }
        if (p.isEmpty() || p.equals(".")) {
            if (!rootAllowed) {
                throw new IllegalArgumentException("'" + path + "' names the package root");
            }
            return "";
        }
        for (String part : p.split("/", -1)) {
            if (part.isEmpty() || part.equals(".") || part.equals("..")) {
                throw new IllegalArgumentException("'" + path + "' has an empty, '.' or '..' component");
            }
            checkName(part, path);
        }
        return p;
    }

    private static void checkName(String name, String where) {
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (c < 0x20 || c == 0x7F) {
                throw new FormatException(FormatException.Reason.UNSUPPORTED,
                        "The name of " + where.replaceAll("\\p{Cntrl}", "?") + " has a control character",
                        "Package file lists (md5sums, conffiles, .MTREE) are line-based and cannot hold it",
                        "Rename the file");
            }
        }
    }

    private static void checkLinkTarget(String target, String where) {
        if (target.isEmpty()) {
            throw new FormatException(FormatException.Reason.UNSUPPORTED, where + " is a symbolic link to nothing",
                    "An empty link target cannot be archived", "Remove the link");
        }
        checkName(target, "the target of " + where);
    }
}
