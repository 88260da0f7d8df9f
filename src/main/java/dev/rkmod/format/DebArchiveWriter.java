package dev.rkmod.format;

import org.apache.commons.compress.archivers.ar.ArArchiveEntry;
import org.apache.commons.compress.archivers.ar.ArArchiveOutputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.tukaani.xz.LZMA2Options;
import org.tukaani.xz.XZ;
import org.tukaani.xz.XZOutputStream;

import java.io.BufferedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * Writes Debian binary packages (.deb, deb(5)): an {@code ar} archive of {@code debian-binary} ("2.0\n"),
 * {@code control.tar.xz} (or {@code .zst}) and {@code data.tar.xz} (or {@code .zst}).
 *
 * <p>The control member holds {@code control} (the caller's fields in the caller's order, with
 * {@code Installed-Size} computed and placed after {@code Maintainer}), {@code md5sums} (every regular file
 * but the conffiles, as dh_md5sums writes it: "md5, two spaces, path without a leading '/'", sorted by path),
 * {@code conffiles} and the maintainer scripts (mode 0755). Both tars are in GNU format (long names as GNU
 * 'L' and 'K' records, which every dpkg reads; dpkg refuses pax headers), entries named "./path" as dpkg-deb
 * names them, owned by root:root, every time stamp, the ar members' included, set to the build epoch.
 *
 * <p>xz is the default compression, for both members. Every dpkg reads it (data.tar.xz since 1.15.6,
 * control.tar.xz since 1.17.6); zstd is read only from dpkg 1.21.18 on (bookworm's 1.21.22 and later do),
 * bookworm's lintian 2.116 reports .zst members as an error (malformed-deb-archive), and at dpkg-deb's default
 * preset (6) xz is smaller than zstd -19 (a 6.1 headers tree: 17.8 MB against 19.8 MB).
 * zstd stays available: it is much faster to write. The data member is compressed in independent xz blocks
 * on several threads ({@link XzBlocksOutputStream}). The output is written atomically and two
 * runs over the same input are byte-identical.
 */
public final class DebArchiveWriter {
    /** The compression of both tar members. */
    public enum Compression {
        XZ(".xz"), ZSTD(".zst"), NONE("");

        private final String suffix;

        Compression(String suffix) {
            this.suffix = suffix;
        }

        public String suffix() {
            return suffix;
        }
    }

    /** The maintainer scripts a package may carry. */
    public static final Set<String> SCRIPTS = Set.of("preinst", "postinst", "prerm", "postrm");

    private static final Pattern PACKAGE = Pattern.compile("[a-z0-9][a-z0-9+.-]+");
    private static final Pattern VERSION = Pattern.compile("([0-9]+:)?[0-9][A-Za-z0-9.+~:-]*");
    private static final Pattern FIELD = Pattern.compile("[!-9;-~][!-9;-~]*");
    /**
     * The default uncompressed bytes of one xz block: 24 MiB, three times preset 6's dictionary, the block size
     * of {@code xz -T} and so of dpkg-deb, so that the work is shared among threads as dpkg-deb shares it on
     * any number of cores. Larger blocks compress a little better (64 MiB: 0.8% smaller on a 6.1 headers tree)
     * but leave cores idle on packages of a few blocks.
     */
    public static final int XZ_BLOCK_BYTES = 24 << 20;
    private static final List<String> REQUIRED = List.of("Package", "Version", "Architecture", "Maintainer", "Description");

    /**
     * How to write.
     *
     * @param compression  of both tars
     * @param epochSeconds every time stamp (SOURCE_DATE_EPOCH; see {@link PackageFiles#epoch(String)})
     * @param xzPreset     0 to 9; dpkg-deb's default is 6
     * @param xzBlockBytes the uncompressed bytes of one xz block (see {@link #XZ_BLOCK_BYTES})
     * @param zstdLevel    1 to 22
     * @param threads      compression threads; never changes the output
     */
    public record Options(Compression compression, long epochSeconds, int xzPreset, int xzBlockBytes, int zstdLevel,
                          int threads) {
        /** xz preset 6 (dpkg-deb's default), the default epoch, as many threads as memory and processors allow. */
        public static Options defaults() {
            return new Options(Compression.XZ, PackageFiles.DEFAULT_EPOCH, 6, XZ_BLOCK_BYTES, 19,
                    XzBlocksOutputStream.defaultThreads());
        }

        public Options withEpoch(long seconds) {
            return new Options(compression, seconds, xzPreset, xzBlockBytes, zstdLevel, threads);
        }

        public Options withCompression(Compression c) {
            return new Options(c, epochSeconds, xzPreset, xzBlockBytes, zstdLevel, threads);
        }

        public Options withThreads(int n) {
            return new Options(compression, epochSeconds, xzPreset, xzBlockBytes, zstdLevel, n);
        }

        public Options withXzBlockBytes(int n) {
            return new Options(compression, epochSeconds, xzPreset, n, zstdLevel, threads);
        }
    }

    /**
     * A package to write.
     *
     * @param control   the control fields in order, without Installed-Size; a value of several lines (the
     *                  Description) has its lines after the first written as continuation lines, an empty
     *                  one as " ."
     * @param scripts   maintainer scripts by name (preinst, postinst, prerm, postrm), each starting with "#!"
     * @param conffiles absolute paths of regular files of {@code data}
     * @param data      what the package installs
     */
    public record Spec(Map<String, String> control, Map<String, byte[]> scripts, List<String> conffiles, PackageTree data) {
        public Spec {
            control = new LinkedHashMap<>(control);
            scripts = new TreeMap<>(scripts);
            conffiles = List.copyOf(conffiles);
        }
    }

    /**
     * What was written.
     *
     * @param file             the package
     * @param bytes            its size
     * @param installedSizeKiB the Installed-Size field
     * @param control          the control file as written
     * @param md5sums          the md5sums file as written
     */
    public record Result(Path file, long bytes, long installedSizeKiB, String control, String md5sums) { }

    private DebArchiveWriter() {
    }

    /**
     * Writes {@code spec} to {@code out}, atomically.
     *
     * @throws IllegalArgumentException for invalid control fields, scripts or conffiles
     * @throws FormatException          if an input file changed while it was packaged
     * @throws IOException              if the input cannot be read or the output written
     */
    public static Result write(Path out, Spec spec, Options options) throws IOException {
        long installedSize = spec.data().installedSizeKiB();
        String control = controlText(spec.control(), installedSize);
        List<String> conffiles = checkConffiles(spec);
        checkScripts(spec.scripts());
        String[] md5sums = new String[1];
        Path target = out.toAbsolutePath();
        PackageFiles.writeAtomically(target, tmp -> {
            Path dataTmp = Files.createTempFile(target.getParent(), "." + target.getFileName() + ".", ".data");
            try {
                List<PackageTree.Digests> digests;
                try (OutputStream raw = new BufferedOutputStream(Files.newOutputStream(dataTmp), 1 << 16);
                     TarArchiveOutputStream tar = PackageFiles.tar(new BufferedOutputStream(compress(raw, options), 1 << 16))) {
                    digests = spec.data().writeTo(tar, "./", options.epochSeconds(), false);
                    tar.finish();
                }
                md5sums[0] = md5sums(digests, conffiles);
                byte[] controlTar = controlTar(control, md5sums[0], conffiles, spec.scripts(), options);
                try (OutputStream os = new BufferedOutputStream(Files.newOutputStream(tmp), 1 << 16);
                     ArArchiveOutputStream ar = new ArArchiveOutputStream(os)) {
                    long mtime = options.epochSeconds();
                    byte[] version = "2.0\n".getBytes(StandardCharsets.US_ASCII);
                    ar.putArchiveEntry(new ArArchiveEntry("debian-binary", version.length, 0, 0, 0100644, mtime));
                    ar.write(version);
                    ar.closeArchiveEntry();
                    String suffix = options.compression().suffix();
                    ar.putArchiveEntry(new ArArchiveEntry("control.tar" + suffix, controlTar.length, 0, 0, 0100644, mtime));
                    ar.write(controlTar);
                    ar.closeArchiveEntry();
                    ar.putArchiveEntry(new ArArchiveEntry("data.tar" + suffix, Files.size(dataTmp), 0, 0, 0100644, mtime));
                    Files.copy(dataTmp, ar);
                    ar.closeArchiveEntry();
                    ar.finish();
                }
            } finally {
                Files.deleteIfExists(dataTmp);
            }
        });
        return new Result(target, Files.size(target), installedSize, control, md5sums[0]);
    }

    private static OutputStream compress(OutputStream raw, Options o) throws IOException {
        return switch (o.compression()) {
            case NONE -> raw;
            case XZ -> new XzBlocksOutputStream(raw, o.xzPreset(), o.xzBlockBytes(), o.threads());
            case ZSTD -> PackageFiles.zstd(raw, o.zstdLevel(), o.threads(), false);
        };
    }

    /** The control file: the fields in order, Installed-Size inserted after Maintainer. */
    static String controlText(Map<String, String> fields, long installedSize) {
        Map<String, String> lower = new TreeMap<>();
        for (String k : fields.keySet()) {
            if (!FIELD.matcher(k).matches() || k.startsWith("#") || k.startsWith("-")) {
                throw new IllegalArgumentException("'" + k + "' is not a control field name");
            }
            if (lower.put(k.toLowerCase(Locale.ROOT), k) != null) {
                throw new IllegalArgumentException("the control field " + k + " is given twice");
            }
        }
        if (lower.containsKey("installed-size")) {
            throw new IllegalArgumentException("Installed-Size is computed from the data; do not give it");
        }
        for (String r : REQUIRED) {
            String k = lower.get(r.toLowerCase(Locale.ROOT));
            if (k == null || fields.get(k) == null || fields.get(k).isBlank()) {
                throw new IllegalArgumentException("the control field " + r + " is missing");
            }
        }
        String pkg = fields.get(lower.get("package"));
        if (!PACKAGE.matcher(pkg).matches()) {
            throw new IllegalArgumentException("'" + pkg + "' is not a Debian package name (lower case letters,"
                    + " digits, '+', '-' and '.', at least two, starting with a letter or digit)");
        }
        String version = fields.get(lower.get("version"));
        if (!VERSION.matcher(version).matches()) {
            throw new IllegalArgumentException("'" + version + "' is not a Debian version");
        }
        StringBuilder sb = new StringBuilder();
        boolean placed = false;
        List<String> keys = new ArrayList<>(fields.keySet());
        String after = lower.get("maintainer");
        for (String k : keys) {
            appendField(sb, k, fields.get(k));
            if (!placed && k.equals(after)) {
                sb.append("Installed-Size: ").append(installedSize).append('\n');
                placed = true;
            }
        }
        return sb.toString();
    }

    private static void appendField(StringBuilder sb, String name, String value) {
        String[] lines = value.strip().split("\n", -1);
        if (lines[0].isBlank()) {
            throw new IllegalArgumentException("the control field " + name + " starts with an empty line");
        }
        sb.append(name).append(": ").append(lines[0].strip()).append('\n');
        for (int i = 1; i < lines.length; i++) {
            String l = lines[i].stripTrailing();
            String text = l.isBlank() ? "." : l.startsWith(" ") ? l.substring(1) : l;
            sb.append(' ').append(text).append('\n');
        }
    }

    private static List<String> checkConffiles(Spec spec) {
        List<String> out = new ArrayList<>();
        for (String c : spec.conffiles()) {
            if (!c.startsWith("/")) {
                throw new IllegalArgumentException("the conffile '" + c + "' is not an absolute path");
            }
            String p = PackageTree.checkPath(c, false);
            if (spec.data().entry(p).filter(e -> e.type() == PackageTree.Type.FILE).isEmpty()) {
                throw new IllegalArgumentException("the conffile " + c + " is not a regular file of the package");
            }
            out.add("/" + p);
        }
        return out;
    }

    private static void checkScripts(Map<String, byte[]> scripts) {
        for (var e : scripts.entrySet()) {
            if (!SCRIPTS.contains(e.getKey())) {
                throw new IllegalArgumentException("'" + e.getKey() + "' is not a maintainer script; use one of " + SCRIPTS);
            }
            byte[] b = e.getValue();
            if (b.length < 2 || b[0] != '#' || b[1] != '!') {
                throw new IllegalArgumentException("the " + e.getKey() + " script does not start with '#!'");
            }
        }
    }

    /** The md5sums file: every regular file but the conffiles, sorted by path in byte order. */
    static String md5sums(List<PackageTree.Digests> digests, List<String> conffiles) {
        Set<String> skip = Set.copyOf(conffiles.stream().map(c -> c.substring(1)).toList());
        StringBuilder sb = new StringBuilder();
        digests.stream().filter(d -> !skip.contains(d.path()))
                .sorted(Comparator.comparing(d -> d.path().getBytes(StandardCharsets.UTF_8), java.util.Arrays::compareUnsigned))
                .forEach(d -> sb.append(d.md5()).append("  ").append(d.path()).append('\n'));
        return sb.toString();
    }

    private static byte[] controlTar(String control, String md5sums, List<String> conffiles, Map<String, byte[]> scripts,
                                     Options o) throws IOException {
        Map<String, byte[]> files = new TreeMap<>();
        files.put("control", control.getBytes(StandardCharsets.UTF_8));
        if (!md5sums.isEmpty()) {
            files.put("md5sums", md5sums.getBytes(StandardCharsets.UTF_8));
        }
        if (!conffiles.isEmpty()) {
            files.put("conffiles", (String.join("\n", conffiles) + "\n").getBytes(StandardCharsets.UTF_8));
        }
        files.putAll(scripts);
        ByteArrayOutputStream bo = new ByteArrayOutputStream();
        OutputStream compressed = switch (o.compression()) {
            case NONE -> bo;
            case XZ -> new XZOutputStream(bo, new LZMA2Options(o.xzPreset()), XZ.CHECK_CRC64);
            case ZSTD -> PackageFiles.zstd(bo, o.zstdLevel(), 1, false);
        };
        FileTime mtime = FileTime.fromMillis(o.epochSeconds() * 1000);
        try (TarArchiveOutputStream tar = PackageFiles.tar(compressed)) {
            TarArchiveEntry root = new TarArchiveEntry("./", TarArchiveEntry.LF_DIR);
            root.setMode(040755);
            owned(root, mtime);
            tar.putArchiveEntry(root);
            tar.closeArchiveEntry();
            for (var f : files.entrySet()) {
                TarArchiveEntry t = new TarArchiveEntry("./" + f.getKey(), TarArchiveEntry.LF_NORMAL);
                t.setMode(SCRIPTS.contains(f.getKey()) ? 0100755 : 0100644);
                t.setSize(f.getValue().length);
                owned(t, mtime);
                tar.putArchiveEntry(t);
                tar.write(f.getValue());
                tar.closeArchiveEntry();
            }
            tar.finish();
        }
        return bo.toByteArray();
    }

    private static void owned(TarArchiveEntry t, FileTime mtime) {
        t.setUserId(0);
        t.setGroupId(0);
        t.setUserName("root");
        t.setGroupName("root");
        t.setModTime(mtime);
    }
}
