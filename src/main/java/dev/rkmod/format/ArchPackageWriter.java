package dev.rkmod.format;

import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;

import java.io.BufferedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Pattern;
import java.util.zip.Deflater;
import java.util.zip.GZIPOutputStream;

/**
 * Writes Arch Linux packages ({@code .pkg.tar.zst}) the way makepkg's create_package writes them: a tar whose
 * first entries are {@code .BUILDINFO} (format 2), {@code .MTREE} and {@code .PKGINFO}, then the package's
 * files, compressed with zstd.
 *
 * <ul>
 * <li>{@code .PKGINFO}: "key = value" lines in makepkg's order: pkgname, pkgbase, xdata (pkgtype=pkg, as
 *     makepkg 6.1 and later write it; older pacman ignore the key), pkgver (with its -pkgrel), pkgdesc, url,
 *     builddate, packager, size (the bytes of the regular files, as makepkg's dirsize counts them), arch, then
 *     license, replaces, group, conflict, provides, backup, depend, optdepend, each once per value.</li>
 * <li>{@code .MTREE}: the gzip'd mtree that {@code bsdtar --format=mtree
 *     --options='!all,use-set,type,uid,gid,mode,time,size,md5,sha256,link'} writes for the package's files and
 *     its .BUILDINFO and .PKGINFO: "#mtree", then per directory a "/set" line where the most common uid, gid
 *     or mode of its children changes, the directory, its files and links, then its subdirectories; every
 *     entry with time, and mode, uid, gid or type where they differ from the set, files with size,
 *     md5digest and sha256digest, links with link=.</li>
 * </ul>
 *
 * <p>Every entry is owned by root:root and stamped with the build epoch; the tar is in GNU format (libarchive,
 * and so pacman, reads it like the restricted pax bsdtar writes). The output is written atomically and is
 * byte-identical for the same input.
 */
public final class ArchPackageWriter {
    private static final Pattern NAME = Pattern.compile("[a-z0-9@_+][a-z0-9@._+-]*");
    private static final Pattern VERSION = Pattern.compile("([0-9]+:)?[^-:/\\s]+-[0-9]+(\\.[0-9]+)?");
    private static final Pattern VALUE = Pattern.compile("[^\\n\\r]*");

    /**
     * How the package was built, for {@code .BUILDINFO} format 2.
     *
     * @param pkgbuildSha256 the sha256 of what describes the build (makepkg: the PKGBUILD)
     * @param builddir       the build directory (fixed, for reproducibility)
     * @param startdir       the directory the build started in
     * @param buildtool      the tool, such as "rkmod"
     * @param buildtoolver   its version
     * @param buildenv       makepkg's BUILDENV, such as "!distcc"
     * @param options        makepkg's OPTIONS, such as "!strip"
     * @param installed      the packages of the build environment, as "name-version-arch"
     */
    public record BuildInfo(String pkgbuildSha256, String builddir, String startdir, String buildtool, String buildtoolver,
                            List<String> buildenv, List<String> options, List<String> installed) {
        public BuildInfo {
            buildenv = List.copyOf(buildenv);
            options = List.copyOf(options);
            installed = List.copyOf(installed);
        }
    }

    /**
     * A package to write.
     *
     * @param pkgname   the package name
     * @param pkgbase   the base name (usually the same)
     * @param pkgver    the full version: [epoch:]pkgver-pkgrel
     * @param pkgdesc   a one-line description
     * @param arch      such as "x86_64" or "any"
     * @param relations license, replaces, group, conflict, provides, backup, depend, optdepend: each key's
     *                  values, written in makepkg's order of the keys (other keys are refused)
     */
    public record Spec(String pkgname, String pkgbase, String pkgver, String pkgdesc, String url, String packager,
                       String arch, Map<String, List<String>> relations, BuildInfo buildInfo, PackageTree data) {
        public Spec {
            relations = new LinkedHashMap<>(relations);
        }

        /** makepkg's file name: name-version-arch.pkg.tar.zst. */
        public String fileName() {
            return pkgname + "-" + pkgver + "-" + arch + ".pkg.tar.zst";
        }
    }

    /** The relation keys of .PKGINFO, in makepkg's order. */
    public static final List<String> RELATIONS = List.of("license", "replaces", "group", "conflict", "provides", "backup",
            "depend", "optdepend");

    /**
     * What was written.
     *
     * @param file      the package
     * @param bytes     its size
     * @param pkginfo   the .PKGINFO text
     * @param buildinfo the .BUILDINFO text
     * @param mtree     the .MTREE text, before gzip
     */
    public record Result(Path file, long bytes, String pkginfo, String buildinfo, String mtree) { }

    private ArchPackageWriter() {
    }

    /**
     * Writes {@code spec} to {@code out}, atomically.
     *
     * @param zstdLevel 1 to 22 (makepkg's default is 3; Arch's own build configuration uses 20)
     * @param threads   zstd workers; never changes the output
     * @throws IllegalArgumentException for an invalid name, version or value
     * @throws FormatException          if an input file changed while it was packaged
     */
    public static Result write(Path out, Spec spec, long epochSeconds, int zstdLevel, int threads) throws IOException {
        String pkginfo = pkginfo(spec, epochSeconds);
        String buildinfo = buildinfo(spec, epochSeconds);
        // The digests come first: the .MTREE, which precedes the files in the tar, lists them.
        List<PackageTree.Digests> digests = digests(spec.data());
        Map<String, PackageTree.Digests> byPath = new TreeMap<>();
        digests.forEach(d -> byPath.put(d.path(), d));
        byte[] pkginfoBytes = pkginfo.getBytes(StandardCharsets.UTF_8);
        byte[] buildinfoBytes = buildinfo.getBytes(StandardCharsets.UTF_8);
        byPath.put(".PKGINFO", digestsOf(".PKGINFO", pkginfoBytes));
        byPath.put(".BUILDINFO", digestsOf(".BUILDINFO", buildinfoBytes));
        String mtree = mtree(spec.data(), byPath, epochSeconds);
        byte[] mtreeGz = gzip(mtree.getBytes(StandardCharsets.UTF_8));
        Path target = out.toAbsolutePath();
        PackageFiles.writeAtomically(target, tmp -> {
            try (OutputStream raw = new BufferedOutputStream(Files.newOutputStream(tmp), 1 << 16);
                 TarArchiveOutputStream tar = PackageFiles.tar(new BufferedOutputStream(
                         PackageFiles.zstd(raw, zstdLevel, threads, false), 1 << 16))) {
                FileTime mtime = FileTime.fromMillis(epochSeconds * 1000);
                metadata(tar, ".BUILDINFO", buildinfoBytes, mtime);
                metadata(tar, ".MTREE", mtreeGz, mtime);
                metadata(tar, ".PKGINFO", pkginfoBytes, mtime);
                List<PackageTree.Digests> written = spec.data().writeTo(tar, "", epochSeconds, true);
                for (PackageTree.Digests d : written) {
                    if (!d.equals(byPath.get(d.path()))) {
                        throw new FormatException(FormatException.Reason.UNSUPPORTED,
                                "/" + d.path() + " changed while it was packaged",
                                "Its content differs from when .MTREE was made",
                                "Package a tree that nothing else is writing to");
                    }
                }
                tar.finish();
            }
        });
        return new Result(target, Files.size(target), pkginfo, buildinfo, mtree);
    }

    private static List<PackageTree.Digests> digests(PackageTree tree) throws IOException {
        try (TarArchiveOutputStream sink = PackageFiles.tar(OutputStream.nullOutputStream())) {
            return tree.writeTo(sink, "", 0, true);
        }
    }

    private static PackageTree.Digests digestsOf(String path, byte[] content) {
        HexFormat hex = HexFormat.of();
        MessageDigest md5 = PackageTree.digest("MD5");
        MessageDigest sha = PackageTree.digest("SHA-256");
        return new PackageTree.Digests(path, content.length, hex.formatHex(md5.digest(content)),
                hex.formatHex(sha.digest(content)));
    }

    private static void metadata(TarArchiveOutputStream tar, String name, byte[] content, FileTime mtime) throws IOException {
        TarArchiveEntry e = new TarArchiveEntry(name, TarArchiveEntry.LF_NORMAL);
        e.setMode(0100644);
        e.setSize(content.length);
        e.setUserId(0);
        e.setGroupId(0);
        e.setUserName("root");
        e.setGroupName("root");
        e.setModTime(mtime);
        tar.putArchiveEntry(e);
        tar.write(content);
        tar.closeArchiveEntry();
    }

    /** gzip without a name or time, as {@code gzip -n} writes it. */
    static byte[] gzip(byte[] data) throws IOException {
        ByteArrayOutputStream bo = new ByteArrayOutputStream();
        try (GZIPOutputStream gz = new GZIPOutputStream(bo) {
            {
                def.setLevel(Deflater.BEST_COMPRESSION);
            }
        }) {
            gz.write(data);
        }
        return bo.toByteArray();
    }

    static String pkginfo(Spec s, long epoch) {
        check("pkgname", s.pkgname(), NAME);
        check("pkgbase", s.pkgbase(), NAME);
        check("pkgver", s.pkgver(), VERSION);
        check("arch", s.arch(), NAME);
        for (String k : s.relations().keySet()) {
            if (!RELATIONS.contains(k)) {
                throw new IllegalArgumentException("'" + k + "' is not a .PKGINFO relation; use one of " + RELATIONS);
            }
        }
        StringBuilder sb = new StringBuilder("# Generated by " + s.buildInfo().buildtool() + " "
                + s.buildInfo().buildtoolver() + "\n");
        kv(sb, "pkgname", s.pkgname());
        kv(sb, "pkgbase", s.pkgbase());
        kv(sb, "xdata", "pkgtype=pkg");
        kv(sb, "pkgver", s.pkgver());
        kv(sb, "pkgdesc", s.pkgdesc().strip().replaceAll("\\s+", " "));
        kv(sb, "url", s.url());
        kv(sb, "builddate", Long.toString(epoch));
        kv(sb, "packager", s.packager());
        kv(sb, "size", Long.toString(s.data().contentBytes()));
        kv(sb, "arch", s.arch());
        for (String k : RELATIONS) {
            for (String v : s.relations().getOrDefault(k, List.of())) {
                kv(sb, k, k.equals("optdepend") ? v.replaceAll("\\s+", " ") : v);
            }
        }
        return sb.toString();
    }

    static String buildinfo(Spec s, long epoch) {
        BuildInfo b = s.buildInfo();
        StringBuilder sb = new StringBuilder();
        kv(sb, "format", "2");
        kv(sb, "pkgname", s.pkgname());
        kv(sb, "pkgbase", s.pkgbase());
        kv(sb, "pkgver", s.pkgver());
        kv(sb, "pkgarch", s.arch());
        kv(sb, "pkgbuild_sha256sum", b.pkgbuildSha256());
        kv(sb, "packager", s.packager());
        kv(sb, "builddate", Long.toString(epoch));
        kv(sb, "builddir", b.builddir());
        kv(sb, "startdir", b.startdir());
        kv(sb, "buildtool", b.buildtool());
        kv(sb, "buildtoolver", b.buildtoolver());
        b.buildenv().forEach(v -> kv(sb, "buildenv", v));
        b.options().forEach(v -> kv(sb, "options", v));
        b.installed().forEach(v -> kv(sb, "installed", v));
        return sb.toString();
    }

    private static void kv(StringBuilder sb, String key, String value) {
        if (value == null || !VALUE.matcher(value).matches()) {
            throw new IllegalArgumentException("the value of " + key + " is missing or has a line break");
        }
        sb.append(key).append(" = ").append(value).append('\n');
    }

    private static void check(String what, String value, Pattern p) {
        if (value == null || !p.matcher(value).matches()) {
            throw new IllegalArgumentException("'" + value + "' is not a valid " + what);
        }
    }

    /** One node of the mtree walk: an entry and, for a directory, its children sorted by name. */
    private static final class Node {
        final String path;
        final PackageTree.Entry entry;
        final TreeMap<String, Node> children = new TreeMap<>(ArchPackageWriter::compareBytes);

        Node(String path, PackageTree.Entry entry) {
            this.path = path;
            this.entry = entry;
        }

        boolean isDir() {
            return entry == null || entry.type() == PackageTree.Type.DIRECTORY;
        }
    }

    /** The current /set values of the mtree writer. */
    private static final class SetState {
        boolean processing;
        long uid;
        long gid;
        int mode;
    }

    /**
     * The mtree text as libarchive's writer makes it with use-set: the root is virtual (only its /set is
     * written); each directory's /set is computed from its children's most common uid, gid and mode (the
     * first seen wins a tie), then come its line, its non-directory children, then its subdirectories.
     */
    static String mtree(PackageTree tree, Map<String, PackageTree.Digests> digests, long epoch) {
        Node root = new Node("", null);
        Map<String, Node> nodes = new TreeMap<>();
        nodes.put("", root);
        List<PackageTree.Entry> all = new ArrayList<>();
        all.add(new PackageTree.Entry(".BUILDINFO", PackageTree.Type.FILE, 0644, digests.get(".BUILDINFO").size(),
                null, null, null));
        all.add(new PackageTree.Entry(".PKGINFO", PackageTree.Type.FILE, 0644, digests.get(".PKGINFO").size(),
                null, null, null));
        tree.entries().stream().filter(e -> !e.path().isEmpty()).forEach(all::add);
        all.sort((a, b) -> PackageTree.compare(a.path(), b.path()));
        for (PackageTree.Entry e : all) {
            int slash = e.path().lastIndexOf('/');
            Node parent = nodes.get(slash < 0 ? "" : e.path().substring(0, slash));
            Node n = new Node(e.path(), e);
            parent.children.put(e.path().substring(slash + 1), n);
            nodes.put(e.path(), n);
        }
        StringBuilder sb = new StringBuilder("#mtree\n");
        SetState set = new SetState();
        writeDir(sb, root, set, digests, epoch);
        return sb.toString();
    }

    private static void writeDir(StringBuilder sb, Node dir, SetState set, Map<String, PackageTree.Digests> digests,
                                 long epoch) {
        writeGlobal(sb, dir, set);
        if (dir.entry != null) {
            line(sb, dir, set, digests, epoch);
        }
        for (Node c : dir.children.values()) {
            if (!c.isDir()) {
                line(sb, c, set, digests, epoch);
            }
        }
        for (Node c : dir.children.values()) {
            if (c.isDir()) {
                writeDir(sb, c, set, digests, epoch);
            }
        }
    }

    /**
     * The most common mode among a directory's children and its count, tallied as libarchive does: a list
     * kept sorted by count, where a value moves ahead of another only once its count is greater, so of two
     * equally common modes the one that got there first wins.
     */
    private static int[] mostCommonMode(Node dir) {
        List<int[]> list = new ArrayList<>();
        for (Node c : dir.children.values()) {
            int mode = c.entry.mode();
            int i = 0;
            while (i < list.size() && list.get(i)[0] != mode) {
                i++;
            }
            if (i == list.size()) {
                list.add(new int[] {mode, 1});
                continue;
            }
            int[] ac = list.get(i);
            ac[1]++;
            if (i == 0 || list.get(i - 1)[1] >= ac[1]) {
                continue;
            }
            list.remove(i);
            int j = i - 1;
            while (j >= 0 && list.get(j)[1] < ac[1]) {
                j--;
            }
            list.add(j + 1, ac);
        }
        return list.get(0);
    }

    private static void writeGlobal(StringBuilder sb, Node dir, SetState set) {
        if (dir.children.isEmpty()) {
            if (!set.processing) {
                sb.append("/set type=file\n");
                set.mode = -1;
                set.processing = true;
            }
            return;
        }
        int[] mode = mostCommonMode(dir);
        StringBuilder s = new StringBuilder();
        if (!set.processing) {
            s.append(" type=file uid=0 gid=0 mode=").append(Integer.toOctalString(mode[0]));
            set.uid = 0;
            set.gid = 0;
            set.mode = mode[0];
            set.processing = true;
        } else {
            // every entry is owned by 0:0, so only the mode can change
            if (mode[1] >= 2 && mode[0] != set.mode) {
                s.append(" mode=").append(Integer.toOctalString(mode[0]));
                set.mode = mode[0];
            }
        }
        if (s.length() > 0) {
            sb.append("/set").append(s).append('\n');
        }
    }

    private static void line(StringBuilder sb, Node n, SetState set, Map<String, PackageTree.Digests> digests, long epoch) {
        PackageTree.Entry e = n.entry;
        sb.append("./").append(quote(n.path));
        sb.append(" time=").append(epoch).append(".0");
        if (e.mode() != set.mode) {
            sb.append(" mode=").append(Integer.toOctalString(e.mode()));
        }
        switch (e.type()) {
            case SYMLINK -> sb.append(" type=link link=").append(quote(e.linkTarget()));
            case DIRECTORY -> sb.append(" type=dir");
            case FILE -> {
                PackageTree.Digests d = digests.get(n.path);
                sb.append(" size=").append(d.size());
                sb.append(" md5digest=").append(d.md5());
                sb.append(" sha256digest=").append(d.sha256());
            }
        }
        sb.append('\n');
    }

    /** libarchive's mtree quoting: bytes other than printable ASCII, space, '#', '=' and '\' as \ooo. */
    static String quote(String s) {
        StringBuilder sb = new StringBuilder();
        for (byte b : s.getBytes(StandardCharsets.UTF_8)) {
            int c = b & 0xFF;
            boolean safe = c > 0x20 && c < 0x7F && c != '#' && c != '=' && c != '\\';
            if (safe) {
                sb.append((char) c);
            } else {
                sb.append('\\').append((char) ('0' + c / 64)).append((char) ('0' + c / 8 % 8)).append((char) ('0' + c % 8));
            }
        }
        return sb.toString();
    }

    private static int compareBytes(String a, String b) {
        return java.util.Arrays.compareUnsigned(a.getBytes(StandardCharsets.UTF_8), b.getBytes(StandardCharsets.UTF_8));
    }
}
