package dev.rkmod.format;

import com.github.luben.zstd.ZstdInputStream;
import org.apache.commons.compress.archivers.ar.ArArchiveEntry;
import org.apache.commons.compress.archivers.ar.ArArchiveInputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.archivers.tar.TarConstants;
import org.tukaani.xz.MemoryLimitException;
import org.tukaani.xz.UnsupportedOptionsException;
import org.tukaani.xz.XZInputStream;

import java.io.BufferedInputStream;
import java.io.Closeable;
import java.io.EOFException;
import java.io.FilterInputStream;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.zip.GZIPInputStream;

/**
 * A bounds-checked, streaming reader of Debian binary packages (.deb): an {@code ar} archive whose
 * members are {@code debian-binary} ("2.0\n"), then {@code control.tar}, then {@code data.tar}, each
 * tar plain or compressed with gzip ({@code .gz}), xz ({@code .xz}) or zstd ({@code .zst}). Members
 * whose name starts with '_' are skipped, as dpkg does; members after {@code data.tar} are not read.
 *
 * <p>Members are decompressed and read as streams, never held in memory whole. Every ar member must
 * fit in what remains of the file, and the tar headers between two entries are bounded, so a damaged
 * or hostile file costs bounded memory. A file that is not a package, or is cut short or damaged, is a
 * {@link FormatException}; an {@link IOException} means the package file could not be read (or, when
 * extracting, the destination could not be written).
 *
 * <p>Paths inside the package are normalised to the form {@code dpkg -L} prints: a leading '/', no
 * "." components and no trailing '/'; the root directory is "/".
 */
public final class DebPackage {
    /** The default bound on the size of a file extracted by {@link #extractDataFile(Path, String, Path)}: 1 GiB. */
    public static final long DEFAULT_MAX_BYTES = 1L << 30;

    private static final byte[] AR_MAGIC = "!<arch>\n".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] FORMAT_VERSION = "2.0\n".getBytes(StandardCharsets.US_ASCII);
    private static final List<String> SUFFIXES = List.of("", ".gz", ".xz", ".zst");
    /** Bound on the bytes of ar headers (and long names) read before one member's data. */
    private static final long AR_HEADER_SLACK = 64 << 10;
    /** Bound on the bytes of tar headers (pax records, long names) read before one entry's data. */
    private static final long TAR_HEADER_SLACK = 16 << 20;
    private static final int MAX_CONTROL_BYTES = 4 << 20;
    private static final int MAX_DATA_ENTRIES = 1_000_000;
    /** xz decoder memory bound in KiB; dpkg-deb -Zxz -z9 needs about 65 MiB. */
    private static final int XZ_MEMORY_LIMIT_KIB = 256 << 10;
    private static final String FIX = "Download or build the package again";

    /** The fields of a package's {@code control} file, in file order. */
    public static final class Control {
        private final Map<String, String> fields;
        private final Map<String, String> byLowerName;

        private Control(Map<String, String> fields) {
            this.fields = Collections.unmodifiableMap(fields);
            Map<String, String> lower = new LinkedHashMap<>();
            fields.forEach((k, v) -> lower.put(k.toLowerCase(Locale.ROOT), v));
            this.byLowerName = lower;
        }

        /**
         * Parses the control file of a binary package: one stanza of "Name: value" fields, where lines
         * starting with a space or a tab continue the field before them. A value is the text after the
         * colon without its leading blanks, each continuation line appended after a "\n" as it is, and
         * trailing white space removed: what {@code dpkg-deb -f} prints for a field, except that dpkg
         * re-formats dependency fields such as Depends. Package and Version are required.
         *
         * @throws FormatException CORRUPT for a line that is not a field, a duplicate field, a second
         *                         stanza or a missing Package or Version field
         */
        public static Control parse(String text) {
            return parse("The control file", text);
        }

        private static Control parse(String source, String text) {
            Map<String, String> fields = new LinkedHashMap<>();
            Map<String, String> seen = new HashMap<>();
            String name = null;
            StringBuilder value = null;
            boolean ended = false;
            String[] lines = text.split("\n", -1);
            for (int i = 0; i < lines.length; i++) {
                String line = lines[i];
                if (line.isBlank()) {
                    if (name != null) {
                        fields.put(name, value.toString().stripTrailing());
                        name = null;
                    }
                    ended = !fields.isEmpty();
                    continue;
                }
                if (ended) {
                    throw malformed(source, i, "a second stanza starts there; a binary package has one");
                }
                char first = line.charAt(0);
                if (first == ' ' || first == '\t') {
                    if (name == null) {
                        throw malformed(source, i, "a continuation line comes before any field");
                    }
                    value.append('\n').append(line);
                    continue;
                }
                int colon = line.indexOf(':');
                if (colon <= 0) {
                    throw malformed(source, i, "it is neither 'Name: value' nor a continuation line");
                }
                String field = line.substring(0, colon);
                for (int c = 0; c < field.length(); c++) {
                    if (field.charAt(c) <= ' ' || field.charAt(c) == 0x7F) {
                        throw malformed(source, i, "the field name '" + field + "' contains a blank or control character");
                    }
                }
                if (seen.put(field.toLowerCase(Locale.ROOT), field) != null) {
                    throw malformed(source, i, "the field " + field + " appears twice");
                }
                if (name != null) {
                    fields.put(name, value.toString().stripTrailing());
                }
                name = field;
                value = new StringBuilder(stripLeadingBlanks(line.substring(colon + 1)));
            }
            if (name != null) {
                fields.put(name, value.toString().stripTrailing());
            }
            Control control = new Control(fields);
            for (String required : List.of("Package", "Version")) {
                if (control.field(required).filter(v -> !v.isBlank()).isEmpty()) {
                    throw new FormatException(FormatException.Reason.CORRUPT, source + " has no " + required + " field",
                            "Every binary package names its " + required, FIX);
                }
            }
            return control;
        }

        private static String stripLeadingBlanks(String s) {
            int i = 0;
            while (i < s.length() && (s.charAt(i) == ' ' || s.charAt(i) == '\t')) {
                i++;
            }
            return s.substring(i);
        }

        private static FormatException malformed(String source, int lineIndex, String why) {
            return new FormatException(FormatException.Reason.CORRUPT, source + " is malformed at line " + (lineIndex + 1),
                    "It was refused because " + why, FIX);
        }

        /** All fields in file order, under their names as spelled in the file. */
        public Map<String, String> fields() {
            return fields;
        }

        /** A field's value; field names are compared ignoring case, as dpkg does. */
        public Optional<String> field(String name) {
            return Optional.ofNullable(byLowerName.get(name.toLowerCase(Locale.ROOT)));
        }

        /** The Package field. */
        public String packageName() {
            return byLowerName.get("package");
        }

        /** The Version field. */
        public String version() {
            return byLowerName.get("version");
        }

        /** The Architecture field, if there is one. */
        public Optional<String> architecture() {
            return field("Architecture");
        }

        @Override
        public String toString() {
            return "Control" + fields;
        }
    }

    private DebPackage() {
    }

    /**
     * Reads the {@code ./control} file of a package. The whole ar structure is checked too: a
     * {@code data.tar} member must follow and fit in the file.
     *
     * @throws FormatException BAD_MAGIC if {@code deb} is not an ar archive; TRUNCATED if it is cut
     *                         short; CORRUPT if members or the control file are missing or malformed;
     *                         UNSUPPORTED for another format version or an unknown compression
     * @throws IOException     if the file cannot be read
     */
    public static Control control(Path deb) throws IOException {
        return read(deb, Part.CONTROL, entries -> {
            TarArchiveEntry e;
            while ((e = entries.next()) != null) {
                if (!entryPath(deb, e.getName()).equals("/control")) {
                    continue;
                }
                if (!isRegular(e) || e.getSize() > MAX_CONTROL_BYTES) {
                    throw corrupt(deb, "./control in its control.tar is not a regular file of at most "
                            + (MAX_CONTROL_BYTES >> 20) + " MiB");
                }
                byte[] text = entries.content().readNBytes(MAX_CONTROL_BYTES + 1);
                if (text.length > MAX_CONTROL_BYTES) {
                    throw corrupt(deb, "./control in its control.tar is larger than it claims");
                }
                return Control.parse("The control file of " + deb, new String(text, StandardCharsets.UTF_8));
            }
            throw corrupt(deb, "its control.tar has no ./control file");
        });
    }

    /**
     * The normalised paths of all entries of {@code data.tar}, in archive order, the root directory
     * ("/") included.
     *
     * @throws FormatException as {@link #control(Path)} does, and CORRUPT for an entry name with a
     *                         ".." component or more than a million entries
     * @throws IOException     if the file cannot be read
     */
    public static List<String> dataPaths(Path deb) throws IOException {
        return read(deb, Part.DATA, entries -> {
            List<String> out = new ArrayList<>();
            TarArchiveEntry e;
            while ((e = entries.next()) != null) {
                if (out.size() >= MAX_DATA_ENTRIES) {
                    throw corrupt(deb, "its data.tar has more than " + MAX_DATA_ENTRIES + " entries");
                }
                out.add(entryPath(deb, e.getName()));
            }
            return List.copyOf(out);
        });
    }

    /**
     * {@link #extractDataFile(Path, String, Path, long)} with a bound of {@link #DEFAULT_MAX_BYTES}.
     */
    public static boolean extractDataFile(Path deb, String pathInPackage, Path dest) throws IOException {
        return extractDataFile(deb, pathInPackage, dest, DEFAULT_MAX_BYTES);
    }

    /**
     * Writes one regular file of {@code data.tar} to {@code dest}, atomically: into a temporary file
     * in {@code dest}'s directory (created if needed), renamed over {@code dest} once complete. The
     * file gets mode 0755 if it is executable in the package, 0644 otherwise. {@code dest} is left
     * untouched unless this returns true.
     *
     * <p>If the entry is a symbolic or hard link, it is followed once, within the package, by a second
     * pass over {@code data.tar}; a link to a link is not followed further. A symbolic link's target is
     * resolved against the link's directory, taking each component literally.
     *
     * @param pathInPackage the file's path in the package, with or without a leading "/" or "./"
     * @param maxBytes      the largest file accepted
     * @return false if the package has no such path, the path is not a regular file (a directory, a
     *         device), or it is a link whose target is absent
     * @throws FormatException as {@link #dataPaths(Path)} does; CORRUPT if the file is larger than
     *                         {@code maxBytes} or a link is absolute or leads outside the package root;
     *                         UNSUPPORTED for a link to a link or a sparse file
     * @throws IOException     if the package cannot be read or {@code dest} cannot be written
     * @throws IllegalArgumentException if {@code pathInPackage} leads above the root or {@code maxBytes} is negative
     */
    public static boolean extractDataFile(Path deb, String pathInPackage, Path dest, long maxBytes) throws IOException {
        if (maxBytes < 0) {
            throw new IllegalArgumentException("maxBytes " + maxBytes + " is negative");
        }
        String wanted = normalise(pathInPackage);
        if (wanted == null) {
            throw new IllegalArgumentException("'" + pathInPackage + "' leads above the package root");
        }
        Path target = dest.toAbsolutePath();
        Path dir = target.getParent();
        Files.createDirectories(dir);
        Path tmp = Files.createTempFile(dir, "." + target.getFileName() + ".", ".tmp");
        try {
            Found found = copyOut(deb, wanted, tmp, maxBytes);
            if (found.link() != null) {
                String link = found.link();
                found = copyOut(deb, link, tmp, maxBytes);
                if (found.link() != null) {
                    throw new FormatException(FormatException.Reason.UNSUPPORTED,
                            wanted + " in " + deb + " is a link to a link",
                            "Its target " + link + " is itself a link to " + found.link() + "; only one link is followed",
                            "Extract " + found.link() + " instead");
                }
            }
            if (!found.copied()) {
                return false;
            }
            Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString(found.executable() ? "rwxr-xr-x" : "rw-r--r--"));
            try {
                Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                throw new IOException("cannot rename " + tmp + " to " + target + " atomically", e);
            }
            return true;
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /**
     * Writes every regular file of {@code data.tar} below the directory {@code dirInPackage} to the same relative
     * path under {@code dest}, in one pass: {@code usr/lib/modules/R/kernel/fs/x.ko.xz} becomes
     * {@code dest/kernel/fs/x.ko.xz}. Files get mode 0755 if executable in the package, 0644 otherwise; directories
     * are made as needed; links, devices and other entries are not written (the count of them is returned). Entry
     * paths are normalised and checked, so nothing is written outside {@code dest}. {@code dest} should be a new
     * directory (a cache entry being built): files are written in place, not atomically one by one.
     *
     * @param maxBytes the most bytes all the files together may hold
     * @return how many files were written and how many entries below the directory were not regular files
     * @throws FormatException as {@link #dataPaths(Path)} does; CORRUPT if the files exceed {@code maxBytes} or a
     *                         path is written twice; UNSUPPORTED for a sparse file
     * @throws IOException     if the package cannot be read or {@code dest} cannot be written
     * @throws IllegalArgumentException if {@code dirInPackage} leads above the root or {@code maxBytes} is negative
     */
    public static TreeCount extractTree(Path deb, String dirInPackage, Path dest, long maxBytes) throws IOException {
        if (maxBytes < 0) {
            throw new IllegalArgumentException("maxBytes " + maxBytes + " is negative");
        }
        String dir = normalise(dirInPackage);
        if (dir == null) {
            throw new IllegalArgumentException("'" + dirInPackage + "' leads above the package root");
        }
        String prefix = dir.equals("/") ? "/" : dir + "/";
        Path root = dest.toAbsolutePath().normalize();
        Files.createDirectories(root);
        return read(deb, Part.DATA, entries -> {
            int files = 0;
            int other = 0;
            long total = 0;
            int count = 0;
            byte[] buf = new byte[1 << 16];
            TarArchiveEntry e;
            while ((e = entries.next()) != null) {
                if (++count > MAX_DATA_ENTRIES) {
                    throw corrupt(deb, "its data.tar has more than " + MAX_DATA_ENTRIES + " entries");
                }
                String path = entryPath(deb, e.getName());
                if (!path.startsWith(prefix) || path.length() == prefix.length() || e.isDirectory()) {
                    continue;
                }
                if (e.isSparse()) {
                    throw new FormatException(FormatException.Reason.UNSUPPORTED, path + " in " + deb + " is a sparse file",
                            "dpkg does not make sparse entries and rkmod does not read them", FIX);
                }
                if (!isRegular(e)) {
                    other++;
                    continue;
                }
                Path target = root.resolve(path.substring(prefix.length())).normalize();
                if (!target.startsWith(root) || target.equals(root)) {
                    throw corrupt(deb, "its entry " + path + " would be written outside " + dirInPackage);
                }
                try {
                    Files.createDirectories(target.getParent());
                } catch (IOException ex) {
                    throw new DestinationFailure(ex);
                }
                if (Files.exists(target, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                    throw corrupt(deb, "its data.tar holds " + path + " twice");
                }
                try (OutputStream out = newFile(target)) {
                    int n;
                    while ((n = entries.content().read(buf)) >= 0) {
                        total += n;
                        if (total > maxBytes) {
                            throw corrupt(deb, "the files below " + dir + " in its data.tar are larger than the limit of "
                                    + maxBytes + " bytes");
                        }
                        out.write(buf, 0, n);
                    }
                }
                try {
                    Files.setPosixFilePermissions(target, PosixFilePermissions.fromString((e.getMode() & 0100) != 0
                            ? "rwxr-xr-x" : "rw-r--r--"));
                } catch (IOException ex) {
                    throw new DestinationFailure(ex);
                }
                files++;
            }
            return new TreeCount(files, other);
        });
    }

    /** What {@link #extractTree} wrote: regular files, and entries of other kinds (links, devices) it left out. */
    public record TreeCount(int files, int notRegular) { }

    private static OutputStream newFile(Path file) {
        try {
            return new Destination(Files.newOutputStream(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE));
        } catch (IOException e) {
            throw new DestinationFailure(e);
        }
    }

    /** What one pass over data.tar found at a path. */
    private record Found(boolean copied, boolean executable, String link) {
        static final Found ABSENT = new Found(false, false, null);
    }

    private static Found copyOut(Path deb, String wanted, Path tmp, long maxBytes) throws IOException {
        return read(deb, Part.DATA, entries -> {
            TarArchiveEntry e;
            while ((e = entries.next()) != null) {
                String path = entryPath(deb, e.getName());
                if (!path.equals(wanted)) {
                    continue;
                }
                if (e.isSymbolicLink()) {
                    return new Found(false, false, symlinkTarget(deb, path, e.getLinkName()));
                }
                if (e.isLink()) {
                    return new Found(false, false, entryPath(deb, e.getLinkName()));
                }
                if (e.isSparse()) {
                    throw new FormatException(FormatException.Reason.UNSUPPORTED, path + " in " + deb + " is a sparse file",
                            "dpkg does not make sparse entries and rkmod does not read them", FIX);
                }
                if (!isRegular(e)) {
                    return Found.ABSENT;
                }
                if (e.getSize() > maxBytes) {
                    throw tooLarge(deb, path, maxBytes);
                }
                long total = 0;
                byte[] buf = new byte[1 << 16];
                try (Destination out = Destination.open(tmp)) {
                    int n;
                    while ((n = entries.content().read(buf)) >= 0) {
                        total += n;
                        if (total > maxBytes) {
                            throw tooLarge(deb, path, maxBytes);
                        }
                        out.write(buf, 0, n);
                    }
                }
                return new Found(true, (e.getMode() & 0100) != 0, null);
            }
            return Found.ABSENT;
        });
    }

    private static FormatException tooLarge(Path deb, String path, long maxBytes) {
        return corrupt(deb, path + " in its data.tar is larger than the limit of " + maxBytes + " bytes");
    }

    /** Resolves a symbolic link's target against the link's directory; refuses one that leaves the package. */
    private static String symlinkTarget(Path deb, String linkPath, String target) {
        String parent = linkPath.substring(0, linkPath.lastIndexOf('/'));
        String resolved = target.isEmpty() || target.startsWith("/") ? null : normalise(parent + "/" + target);
        if (resolved == null) {
            throw new FormatException(FormatException.Reason.CORRUPT,
                    linkPath + " in " + deb + " is a link to '" + target + "', outside the package",
                    "Links are only followed when they are relative and stay inside the package root",
                    "Extract the link's target by its path in the package");
        }
        return resolved;
    }

    // ---- the ar layer ----

    private enum Part { CONTROL, DATA }

    @FunctionalInterface
    private interface Visitor<T> {
        T visit(TarEntries entries) throws IOException;
    }

    /**
     * Opens {@code deb}, checks its ar structure and hands the decompressed control.tar or data.tar to
     * {@code visitor}. Every failure but reading the file itself (or writing a destination) becomes a
     * {@link FormatException}.
     */
    private static <T> T read(Path deb, Part part, Visitor<T> visitor) throws IOException {
        try (FileChannel channel = FileChannel.open(deb, StandardOpenOption.READ)) {
            long size = channel.size();
            Meter file = new Meter(Channels.newInputStream(channel), true);
            try {
                return walk(deb, size, file, part, visitor);
            } catch (FormatException e) {
                throw e;
            } catch (DestinationFailure e) {
                throw e.getCause();
            } catch (IOException | RuntimeException e) {
                IOException failure = ioFailure(e);
                if (failure != null) {
                    throw failure;
                }
                FormatException.Reason reason = e instanceof EOFException ? FormatException.Reason.TRUNCATED
                        : e instanceof MemoryLimitException || e instanceof UnsupportedOptionsException
                        ? FormatException.Reason.UNSUPPORTED : FormatException.Reason.CORRUPT;
                String what = reason == FormatException.Reason.TRUNCATED ? deb + " is truncated"
                        : reason == FormatException.Reason.UNSUPPORTED ? deb + " cannot be read by rkmod"
                        : deb + " is not a valid Debian package";
                throw new FormatException(reason, what, e.getClass().getSimpleName() + ": " + e.getMessage(), FIX);
            }
        }
    }

    private static <T> T walk(Path deb, long size, Meter file, Part part, Visitor<T> visitor) throws IOException {
        byte[] magic = file.readNBytes(AR_MAGIC.length);
        if (!Arrays.equals(magic, AR_MAGIC)) {
            if (magic.length < AR_MAGIC.length && Arrays.equals(magic, Arrays.copyOf(AR_MAGIC, magic.length))) {
                throw truncated(deb, "it ends within the ar signature");
            }
            throw new FormatException(FormatException.Reason.BAD_MAGIC, deb + " is not a Debian package",
                    "It does not start with the ar archive signature '!<arch>'", "Pass a .deb file");
        }
        // the signature is checked; the ar reader reads it again from the start
        ArArchiveInputStream ar = new ArArchiveInputStream(new Replay(magic, file));
        Member m = nextMember(deb, size, file, ar, null);
        if (m == null || !m.name().equals("debian-binary")) {
            throw corrupt(deb, m == null ? "it has no members" : "its first member is '" + m.name() + "', not debian-binary");
        }
        checkFormatVersion(deb, ar, m.length());
        boolean sawControl = false;
        T result = null;
        while (true) {
            m = nextMember(deb, size, file, ar, m);
            if (m == null) {
                throw corrupt(deb, "it has no " + (sawControl ? "data.tar" : "control.tar") + " member");
            }
            String name = m.name();
            if (name.startsWith("_")) {
                continue;
            }
            String kind = name.startsWith("control.tar") ? "control.tar" : name.startsWith("data.tar") ? "data.tar" : null;
            if (kind == null) {
                throw corrupt(deb, "it has an unexpected member '" + name + "'");
            }
            String suffix = name.substring(kind.length());
            if (!SUFFIXES.contains(suffix)) {
                throw new FormatException(FormatException.Reason.UNSUPPORTED,
                        deb + " has a member " + name + " rkmod cannot decompress",
                        "Only uncompressed, .gz, .xz and .zst members are read",
                        "Rebuild the package with dpkg-deb -Zxz, -Zgzip or -Zzstd");
            }
            boolean isControl = kind.equals("control.tar");
            if (isControl == sawControl) {
                throw corrupt(deb, isControl ? "it has two control.tar members" : "its data.tar comes before its control.tar");
            }
            if (isControl == (part == Part.CONTROL)) {
                try (InputStream in = decompress(new BufferedInputStream(new Unclosable(ar), 1 << 16), suffix);
                     TarEntries entries = new TarEntries(in)) {
                    result = visitor.visit(entries);
                }
            }
            if (!isControl) {
                return result;
            }
            sawControl = true;
        }
    }

    private record Member(String name, long length, long dataStart) { }

    /** The next ar member, checked to fit in the file; null at the end. */
    private static Member nextMember(Path deb, long size, Meter file, ArArchiveInputStream ar, Member previous)
            throws IOException {
        long end = previous == null ? 0 : saturatedAdd(previous.dataStart(), previous.length() + 1);
        file.limit = saturatedAdd(end, AR_HEADER_SLACK);
        ArArchiveEntry e;
        try {
            e = ar.getNextEntry();
        } catch (IOException | RuntimeException ex) {
            if (ioFailure(ex) != null) {
                throw ex;
            }
            if (file.count >= size) {
                throw truncated(deb, "it ends within an ar member header");
            }
            throw corrupt(deb, "an ar member header cannot be read (" + ex.getMessage() + ")");
        } finally {
            file.limit = Long.MAX_VALUE;
        }
        if (e == null) {
            return null;
        }
        long start = file.count; // the replayed signature was counted once, when it was first read
        long length = e.getLength();
        if (length < 0) {
            throw corrupt(deb, "its member " + e.getName() + " has a negative size");
        }
        if (length > size - start) {
            throw truncated(deb, "its member " + e.getName() + " needs " + length + " bytes but only "
                    + (size - start) + " remain");
        }
        return new Member(e.getName(), length, start);
    }

    private static void checkFormatVersion(Path deb, ArArchiveInputStream ar, long length) throws IOException {
        byte[] head = ar.readNBytes(16);
        if (length == FORMAT_VERSION.length && Arrays.equals(head, FORMAT_VERSION)) {
            return;
        }
        String text = new String(head, StandardCharsets.US_ASCII);
        String line = text.contains("\n") ? text.substring(0, text.indexOf('\n')) : text;
        if (line.matches("[0-9]+\\.[0-9]+") && !line.equals("2.0")) {
            throw new FormatException(FormatException.Reason.UNSUPPORTED,
                    deb + " is a version " + line + " Debian package", "rkmod reads format 2.0 only",
                    "Rebuild the package with a current dpkg-deb");
        }
        throw corrupt(deb, "its debian-binary member is not \"2.0\\n\"");
    }

    private static InputStream decompress(InputStream raw, String suffix) throws IOException {
        return switch (suffix) {
            case ".gz" -> new GZIPInputStream(raw, 1 << 16);
            case ".xz" -> new XZInputStream(raw, XZ_MEMORY_LIMIT_KIB);
            case ".zst" -> new ZstdInputStream(raw);
            default -> raw;
        };
    }

    // ---- the tar layer ----

    /** Tar entries with a bound on the header bytes read between one entry's data and the next. */
    private static final class TarEntries implements Closeable {
        private final Meter meter;
        private final TarArchiveInputStream tar;
        private TarArchiveEntry current;
        private long dataStart;

        TarEntries(InputStream in) {
            meter = new Meter(in, false);
            tar = new TarArchiveInputStream(meter);
        }

        TarArchiveEntry next() throws IOException {
            long end = current == null ? 0 : saturatedAdd(dataStart, roundUp512(current.getSize()));
            meter.limit = saturatedAdd(end, TAR_HEADER_SLACK);
            try {
                current = tar.getNextEntry();
            } finally {
                meter.limit = Long.MAX_VALUE;
            }
            dataStart = meter.count;
            return current;
        }

        /** The data of the current entry. */
        InputStream content() {
            return tar;
        }

        @Override
        public void close() throws IOException {
            tar.close();
        }
    }

    private static boolean isRegular(TarArchiveEntry e) {
        byte flag = e.getLinkFlag();
        return (flag == TarConstants.LF_NORMAL || flag == TarConstants.LF_OLDNORM || flag == TarConstants.LF_CONTIG)
                && !e.isSparse();
    }

    /** The normalised path of a tar entry name; CORRUPT if it has a ".." component. */
    private static String entryPath(Path deb, String name) {
        for (String part : name.split("/")) {
            if (part.equals("..")) {
                throw corrupt(deb, "it has a tar entry with an unsafe name '" + name + "' (a '..' component)");
            }
        }
        return normalise(name);
    }

    /** "./usr/lib/x/", "usr//lib/x" and "/usr/lib/x" all give "/usr/lib/x"; null if ".." climbs above the root. */
    private static String normalise(String name) {
        Deque<String> parts = new ArrayDeque<>();
        for (String part : name.split("/")) {
            if (part.isEmpty() || part.equals(".")) {
                continue;
            }
            if (part.equals("..")) {
                if (parts.isEmpty()) {
                    return null;
                }
                parts.removeLast();
            } else {
                parts.addLast(part);
            }
        }
        return "/" + String.join("/", parts);
    }

    // ---- streams ----

    /**
     * Counts what is read through it and refuses to read past {@link #limit}. On the package file it
     * also marks read failures, so that they stay I/O errors rather than format errors.
     */
    private static final class Meter extends FilterInputStream {
        private final boolean isFile;
        long count;
        long limit = Long.MAX_VALUE;

        Meter(InputStream in, boolean isFile) {
            super(in);
            this.isFile = isFile;
        }

        private long allowed(long len) throws IOException {
            if (count >= limit) {
                throw new IOException("more than " + (isFile ? (AR_HEADER_SLACK >> 10) + " KiB of ar headers precede a member"
                        : (TAR_HEADER_SLACK >> 20) + " MiB of tar headers precede an entry"));
            }
            return Math.min(len, limit - count);
        }

        @Override
        public int read() throws IOException {
            allowed(1);
            int b;
            try {
                b = in.read();
            } catch (IOException e) {
                throw isFile ? new FileFailure(e) : e;
            }
            if (b >= 0) {
                count++;
            }
            return b;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            if (len == 0) {
                return 0;
            }
            int n = (int) allowed(len);
            try {
                n = in.read(b, off, n);
            } catch (IOException e) {
                throw isFile ? new FileFailure(e) : e;
            }
            if (n > 0) {
                count += n;
            }
            return n;
        }

        @Override
        public long skip(long n) throws IOException {
            if (n <= 0) {
                return 0;
            }
            long s = allowed(n);
            try {
                s = in.skip(s);
            } catch (IOException e) {
                throw isFile ? new FileFailure(e) : e;
            }
            count += Math.max(0, s);
            return s;
        }

        @Override
        public boolean markSupported() {
            return false;
        }
    }

    /** The ar signature, already read, followed by the rest of the file. */
    private static final class Replay extends InputStream {
        private final byte[] head;
        private final InputStream rest;
        private int pos;

        Replay(byte[] head, InputStream rest) {
            this.head = head;
            this.rest = rest;
        }

        @Override
        public int read() throws IOException {
            return pos < head.length ? head[pos++] & 0xFF : rest.read();
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            if (pos < head.length && len > 0) {
                int n = Math.min(len, head.length - pos);
                System.arraycopy(head, pos, b, off, n);
                pos += n;
                return n;
            }
            return rest.read(b, off, len);
        }

        @Override
        public long skip(long n) throws IOException {
            if (pos < head.length && n > 0) {
                int s = (int) Math.min(n, head.length - pos);
                pos += s;
                return s;
            }
            return rest.skip(n);
        }
    }

    /** The package file could not be read: an I/O error, not a format error. */
    private static final class FileFailure extends IOException {
        private static final long serialVersionUID = 1L;

        FileFailure(IOException cause) {
            super(cause.getMessage(), cause);
        }
    }

    /** The destination could not be written: an I/O error, not a format error. */
    private static final class DestinationFailure extends RuntimeException {
        private static final long serialVersionUID = 1L;

        DestinationFailure(IOException cause) {
            super(cause);
        }

        @Override
        public synchronized IOException getCause() {
            return (IOException) super.getCause();
        }
    }

    /** Marks write failures as {@link DestinationFailure}s. */
    private static final class Destination extends FilterOutputStream {
        private Destination(OutputStream out) {
            super(out);
        }

        static Destination open(Path file) {
            try {
                return new Destination(Files.newOutputStream(file, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING));
            } catch (IOException e) {
                throw new DestinationFailure(e);
            }
        }

        @Override
        public void write(byte[] b, int off, int len) {
            try {
                out.write(b, off, len);
            } catch (IOException e) {
                throw new DestinationFailure(e);
            }
        }

        @Override
        public void flush() {
            try {
                out.flush();
            } catch (IOException e) {
                throw new DestinationFailure(e);
            }
        }

        @Override
        public void close() {
            try {
                out.close();
            } catch (IOException e) {
                throw new DestinationFailure(e);
            }
        }
    }

    /** Lets a member's decompressor be closed without closing the ar stream under it. */
    private static final class Unclosable extends FilterInputStream {
        Unclosable(InputStream in) {
            super(in);
        }

        @Override
        public void close() {
        }
    }

    /** The I/O error, of the package file or the destination, behind {@code e}; null for a format error. */
    private static IOException ioFailure(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof FileFailure f) {
                return (IOException) f.getCause();
            }
            if (t instanceof DestinationFailure d) {
                return d.getCause();
            }
        }
        return null;
    }

    private static long roundUp512(long n) {
        return n > Long.MAX_VALUE - 511 ? Long.MAX_VALUE : (n + 511) & ~511L;
    }

    private static long saturatedAdd(long a, long b) {
        long r = a + b;
        return ((a ^ r) & (b ^ r)) < 0 ? Long.MAX_VALUE : r;
    }

    private static FormatException truncated(Path deb, String why) {
        return new FormatException(FormatException.Reason.TRUNCATED, deb + " is truncated", "It was refused because " + why, FIX);
    }

    private static FormatException corrupt(Path deb, String why) {
        return new FormatException(FormatException.Reason.CORRUPT, deb + " is not a valid Debian package",
                "It was refused because " + why, FIX);
    }
}
