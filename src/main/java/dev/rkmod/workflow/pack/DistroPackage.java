package dev.rkmod.workflow.pack;

import dev.rkmod.format.ArchPackageWriter;
import dev.rkmod.format.DebArchiveWriter;
import dev.rkmod.format.DpkgStatus;
import dev.rkmod.format.KernelConfig;
import dev.rkmod.format.PackageFiles;
import dev.rkmod.format.PackageManifest;
import dev.rkmod.format.PackageTree;
import dev.rkmod.infra.fs.FileOps;
import dev.rkmod.model.ExitCode;
import dev.rkmod.model.RkmodException;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.GZIPOutputStream;

/**
 * The distro packages of a verified Rust-ready tree: {@code linux-headers-RELEASE-rust_VERSION_ARCH.deb} and
 * {@code linux-rust-headers-VERSION-ARCH.pkg.tar.zst}. Both install the tree under
 * {@code /usr/src/linux-headers-RELEASE-rust/} with {@code lib/modules/RELEASE/build} (Debian; {@code usr/lib/…} for
 * Arch) linking to it, and, for a clang-built kernel, a {@code GNUmakefile} that makes {@code LLVM=1} the default so
 * that a plain {@code make -C /lib/modules/RELEASE/build M=…} uses the kernel's own compiler family.
 *
 * <p>Versions: Debian {@code UPSTREAM-REVISION}, where UPSTREAM is the release with every character that a Debian
 * upstream version cannot hold ('_') made '+' and a '-' made '+' too ("6.1.192-rkmod" gives "6.1.192+rkmod"), and a
 * leading "-rcN" becoming "~rcN" so that a release candidate sorts before the release; Arch {@code PKGVER-PKGREL}
 * with '-' made '_' in PKGVER.
 */
public final class DistroPackage {
    /** The Maintainer and packager when --maintainer is not given. */
    public static final String DEFAULT_MAINTAINER = "rkmod <rkmod@example.org>";
    /** Where the trees go, {@code %s} being the release. */
    public static final String SRC_DIR = "usr/src/linux-headers-%s-rust";
    static final int ZSTD_LEVEL = 12;
    private static final Pattern MAINTAINER = Pattern.compile("[^<>\\n]*[^<>\\s][^<>\\n]* <[^<>@\\s]+@[^<>\\s]+>");
    private static final Pattern RC = Pattern.compile("^([0-9]+\\.[0-9]+(?:\\.[0-9]+)?)-(rc[0-9]+)(.*)$");
    private static final Pattern DEB_NAME = Pattern.compile("[a-z0-9][a-z0-9+.-]+");

    private DistroPackage() {
    }

    /** What a package was made of and where it went. */
    public record Made(Path file, String name, String version, String arch, String depends, long bytes) { }

    /** A checked --maintainer, or the default. */
    public static String maintainer(String given) {
        if (given == null) {
            return DEFAULT_MAINTAINER;
        }
        if (!MAINTAINER.matcher(given.strip()).matches()) {
            throw new RkmodException(ExitCode.USAGE, "--maintainer '" + given + "' is not 'Name <mail>'",
                    "The Maintainer field of a .deb (and the packager of an Arch package) names a person and an address",
                    "Pass --maintainer \"Your Name <you@example.org>\"");
        }
        return given.strip();
    }

    /** A checked --revision. */
    public static int revision(int revision) {
        if (revision < 1) {
            throw new RkmodException(ExitCode.USAGE, "--revision " + revision + " is not a revision",
                    "The Debian revision and the Arch pkgrel of a package count its builds from 1",
                    "Pass --revision 1 (the default), 2, …");
        }
        return revision;
    }

    /** The Debian version of a release: see the class comment. */
    public static String debVersion(String release, int revision) {
        String up = release;
        Matcher rc = RC.matcher(up);
        if (rc.matches()) {
            up = rc.group(1) + "~" + rc.group(2) + rc.group(3);
        }
        up = up.replace('-', '+').replace('_', '+');
        if (!up.matches("[0-9][A-Za-z0-9.+~]*")) {
            throw new RkmodException(ExitCode.USAGE, "Linux " + release + " has no Debian version",
                    "A Debian upstream version starts with a digit and holds only letters, digits and . + ~",
                    "Package a kernel whose release (include/config/kernel.release) is such a version");
        }
        return up + "-" + revision;
    }

    /** The Arch version (pkgver-pkgrel) of a release. */
    public static String archVersion(String release, int revision) {
        String v = release.replace('-', '_');
        if (!v.matches("[A-Za-z0-9._+]+")) {
            throw new RkmodException(ExitCode.USAGE, "Linux " + release + " has no Arch version",
                    "An Arch pkgver holds only letters, digits and . _ +", "Package a kernel with such a release");
        }
        return v + "-" + revision;
    }

    /** The Debian package of the headers: linux-headers-RELEASE-rust. */
    public static String debName(String release) {
        String n = "linux-headers-" + release + "-rust";
        if (!DEB_NAME.matcher(n).matches()) {
            throw new RkmodException(ExitCode.USAGE, "Linux " + release + " gives no Debian package name",
                    "'" + n + "' is not one: Debian package names hold lower case letters, digits, + - and .",
                    "Package a kernel whose release is in lower case without '_'");
        }
        return n;
    }

    /** Debian's and Arch's names of the kernel's architecture. */
    record Arch(String debian, String arch) { }

    static Arch arch(String srcArch, KernelConfig config) {
        boolean is64 = config.isEnabled("64BIT");
        if (srcArch.equals("x86") && is64) {
            return new Arch("amd64", "x86_64");
        }
        if (srcArch.equals("arm64")) {
            return new Arch("arm64", "aarch64");
        }
        throw new RkmodException(ExitCode.USAGE, "rkmod makes no distro package for a " + srcArch
                + (is64 ? "" : " 32-bit") + " kernel", "Only x86_64 (amd64) and arm64 packages are named and tested",
                "Use --format dir or tar.zst");
    }

    /**
     * The Debian version of the package whose {@code /usr/bin/rustc} is the recorded rustc, from the dpkg status of
     * {@code root} (a Debian root, or "/" for the host): the package "rustc" must be installed, own /usr/bin/rustc
     * and have the upstream version the rustc prints.
     */
    public static Optional<String> rustcDebVersion(Path root, String rustc) {
        try {
            DpkgStatus status = DpkgStatus.read(root.resolve("var/lib/dpkg/status"));
            Optional<String> v = status.version("rustc");
            Path list = root.resolve("var/lib/dpkg/info/rustc.list");
            if (v.isEmpty() || !Files.isRegularFile(list)
                    || !Files.readAllLines(list, StandardCharsets.UTF_8).contains("/usr/bin/rustc")) {
                return Optional.empty();
            }
            return upstreamNumber(v.get()).equals(rustcNumber(rustc)) ? v : Optional.empty();
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    /** "1:1.63.0+dfsg1-2" gives "1.63.0". */
    static String upstreamNumber(String debVersion) {
        String v = debVersion.contains(":") ? debVersion.substring(debVersion.indexOf(':') + 1) : debVersion;
        Matcher m = Pattern.compile("^([0-9]+(?:\\.[0-9]+)*)").matcher(v);
        return m.find() ? m.group(1) : "";
    }

    /** "rustc 1.63.0 (4b91a6ea7 2022-08-08)" gives "1.63.0". */
    static String rustcNumber(String rustc) {
        Matcher m = Pattern.compile("^rustc ([0-9]+(?:\\.[0-9]+)*)").matcher(rustc == null ? "" : rustc.strip());
        return m.find() ? m.group(1) : "-";
    }

    /**
     * A Description: the synopsis, then the paragraphs word-wrapped at 72 columns (lintian flags lines over 80),
     * separated by empty lines (written as " .").
     */
    public static String description(String synopsis, String... paragraphs) {
        StringBuilder sb = new StringBuilder(synopsis);
        for (int i = 0; i < paragraphs.length; i++) {
            if (i > 0) {
                sb.append("\n");
            }
            StringBuilder line = new StringBuilder();
            for (String word : paragraphs[i].strip().split("\\s+")) {
                if (line.length() > 0 && line.length() + 1 + word.length() > 72) {
                    sb.append('\n').append(line);
                    line.setLength(0);
                }
                if (line.length() > 0) {
                    line.append(' ');
                }
                line.append(word);
            }
            if (line.length() > 0) {
                sb.append('\n').append(line);
            }
        }
        return sb.toString();
    }

    /** The epoch of a distro package: SOURCE_DATE_EPOCH, or (unset) 2024-01-01, as lintian flags 1970 as ancient. */
    static long epoch(long sourceDateEpoch) {
        return sourceDateEpoch > 0 ? sourceDateEpoch : PackageFiles.DEFAULT_EPOCH;
    }

    /** The GNUmakefile of a clang-built tree: make reads it before Makefile. */
    static byte[] gnuMakefile() {
        return """
                # Written by rkmod: this kernel was built with clang and LLVM (CONFIG_CC_IS_CLANG=y), so external modules
                # are built with LLVM=1 unless the caller says otherwise. make reads GNUmakefile before Makefile.
                LLVM ?= 1
                export LLVM
                include Makefile
                """.getBytes(StandardCharsets.UTF_8);
    }

    /** The headers .deb of a verified staged tree, written into {@code outDir}. */
    static Made writeDeb(Path tree, PackageManifest m, KernelConfig config, Path outDir, PackageRequest req,
                         String rustcDebVersion) throws IOException {
        String name = debName(m.release());
        String version = debVersion(m.release(), revision(req.revision()));
        Arch arch = arch(m.arch(), config);
        String maintainer = maintainer(req.maintainer());
        long epoch = epoch(req.sourceDateEpoch());
        PackageTree.Builder b = headersTree(tree, m, "lib/modules/");
        docs(b, name, version, maintainer, epoch, "Rust-ready headers of Linux " + m.release() + ", made by rkmod.");
        PackageTree data = b.build();
        refuseKeys(data);
        List<String> deps = new ArrayList<>();
        deps.add("make");
        deps.addAll(m.llvm() ? List.of("clang", "lld", "llvm") : List.of("gcc"));
        deps.add("libc6-dev");
        deps.add("libc6");
        if (rustcDebVersion != null) {
            deps.add("rustc (= " + rustcDebVersion + ")");
        }
        Map<String, String> control = new LinkedHashMap<>();
        control.put("Package", name);
        control.put("Source", "linux-rust-headers");
        control.put("Version", version);
        control.put("Architecture", arch.debian());
        control.put("Maintainer", maintainer);
        control.put("Depends", String.join(", ", deps));
        control.put("Section", "kernel");
        control.put("Priority", "optional");
        control.put("Homepage", "https://www.kernel.org/");
        control.put("Description", description("Rust-ready headers for building modules for Linux " + m.release(),
                "The external-module build tree of Linux " + m.release() + " (" + m.generation() + " module API"
                        + " generation) with its Rust set: rust/*.rmeta, the proc macros and the target spec, verified"
                        + " by rkmod by building a C and a Rust module at another path.",
                "Rust modules must be built with the kernel's exact compiler: " + m.rustc() + " (recorded in"
                        + " rust-toolchain and rkmod-package.json)." + (m.llvm()
                        ? " The kernel was built with clang: a GNUmakefile makes LLVM=1 the default." : "")));
        Path file = outDir.resolve(name + "_" + version + "_" + arch.debian() + ".deb");
        DebArchiveWriter.Result r = DebArchiveWriter.write(file, new DebArchiveWriter.Spec(control, Map.of(), List.of(), data),
                DebArchiveWriter.Options.defaults().withEpoch(epoch));
        return new Made(file, name, version, arch.debian(), String.join(", ", deps), r.bytes());
    }

    /** The headers Arch package of a verified staged tree, written into {@code outDir}. */
    static Made writeArch(Path tree, PackageManifest m, KernelConfig config, Path outDir, PackageRequest req)
            throws IOException {
        String version = archVersion(m.release(), revision(req.revision()));
        Arch arch = arch(m.arch(), config);
        String packager = maintainer(req.maintainer());
        long epoch = epoch(req.sourceDateEpoch());
        PackageTree.Builder b = headersTree(tree, m, "usr/lib/modules/");
        PackageTree data = b.build();
        refuseKeys(data);
        List<String> deps = new ArrayList<>(List.of("make"));
        deps.addAll(m.llvm() ? List.of("clang", "lld", "llvm") : List.of("gcc"));
        Map<String, List<String>> rel = new LinkedHashMap<>();
        rel.put("license", List.of("GPL-2.0-only"));
        rel.put("depend", deps);
        String version0 = implementationVersion();
        var bi = new ArchPackageWriter.BuildInfo(FileOps.sha256(tree.resolve(PackageManifest.FILE)), "/build", "/build",
                "rkmod", version0, List.of("!distcc", "!ccache"), List.of("!strip", "!debug"), List.of());
        var spec = new ArchPackageWriter.Spec("linux-rust-headers", "linux-rust-headers", version,
                "Rust-ready headers of Linux " + m.release() + " for modules built with " + m.rustc(),
                "https://www.kernel.org/", packager, arch.arch(), rel, bi, data);
        Path file = outDir.resolve(spec.fileName());
        ArchPackageWriter.Result r = ArchPackageWriter.write(file, spec, epoch, ZSTD_LEVEL,
                Math.max(1, Runtime.getRuntime().availableProcessors()));
        return new Made(file, spec.pkgname(), version, arch.arch(), String.join(" ", deps), r.bytes());
    }

    /**
     * The verified tree under {@code /usr/src/linux-headers-RELEASE-rust}, {@code MODULES_DIR/RELEASE/build} pointing to
     * it, and for a clang-built kernel the GNUmakefile that makes LLVM=1 the default.
     */
    private static PackageTree.Builder headersTree(Path tree, PackageManifest m, String modulesDir) throws IOException {
        String src = String.format(SRC_DIR, m.release());
        PackageTree.Builder b = PackageTree.builder().addTree(src, tree)
                .addSymlink(modulesDir + m.release() + "/build", "/" + src);
        if (m.llvm()) {
            b.addFile(src + "/GNUmakefile", gnuMakefile(), false);
        }
        return b;
    }

    private static String implementationVersion() {
        String v = DistroPackage.class.getPackage().getImplementationVersion();
        return v == null ? "dev" : v;
    }

    /** Never a private key, whatever the tree holds (the file set leaves them out; this is the last check). */
    static void refuseKeys(PackageTree data) {
        for (PackageTree.Entry e : data.entries()) {
            String n = e.path().substring(e.path().lastIndexOf('/') + 1);
            boolean key = n.equals("signing_key.pem") || n.endsWith(".priv") || n.equals("signing_key.x509")
                    || (e.type() == PackageTree.Type.FILE && e.source() != null && PackageFileSet.isPrivateKey(e.source()));
            if (key) {
                throw new RkmodException(ExitCode.CHECK_FAILED, "The package would hold key material: /" + e.path(),
                        "rkmod never packages a kernel's signing key or any private key",
                        "Remove it from the tree (it belongs in a safe place, not in a headers package)");
            }
        }
    }

    /** /usr/share/doc/NAME/copyright and changelog.Debian.gz, as Debian policy wants of every package. */
    public static void docs(PackageTree.Builder b, String name, String version, String maintainer, long epoch, String change)
            throws IOException {
        String doc = "usr/share/doc/" + name + "/";
        b.addFile(doc + "copyright", ("""
                Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
                Upstream-Name: Linux
                Upstream-Contact: Linus Torvalds <torvalds@linux-foundation.org>
                Source: https://www.kernel.org/

                Files: *
                Copyright: 1991-2026 Linus Torvalds and many others
                License: GPL-2.0-only
                 On Debian systems, the full text of the GNU General Public License version 2 can be found in the
                 file '/usr/share/common-licenses/GPL-2'.
                """).getBytes(StandardCharsets.UTF_8), false);
        String date = DateTimeFormatter.ofPattern("EEE, dd MMM yyyy HH:mm:ss '+0000'", Locale.ENGLISH)
                .format(Instant.ofEpochSecond(epoch).atOffset(ZoneOffset.UTC));
        String changelog = name + " (" + version + ") unstable; urgency=medium\n\n" + changeLines(change) + "\n -- "
                + maintainer + "  " + date + "\n";
        b.addFile(doc + "changelog.Debian.gz", gzip(changelog), false);
    }

    /**
     * A changelog entry's text as Debian writes it: "  * " and then lines of at most 80 characters, continued with
     * four spaces (lintian's debian-changelog-line-too-long: a cloud flavour's release name made one line 86 long).
     */
    static String changeLines(String change) {
        StringBuilder out = new StringBuilder();
        StringBuilder line = new StringBuilder("  *");
        for (String word : change.split(" ")) {
            if (line.length() + 1 + word.length() > 80 && line.length() > 4) {
                out.append(line).append('\n');
                line = new StringBuilder("   ");
            }
            line.append(' ').append(word);
        }
        return out.append(line).append('\n').toString();
    }

    /** gzip -9n: no name, no time, "maximum compression", OS Unix, as lintian expects. */
    static byte[] gzip(String text) throws IOException {
        ByteArrayOutputStream bo = new ByteArrayOutputStream();
        try (GZIPOutputStream gz = new GZIPOutputStream(bo) {
            {
                def.setLevel(java.util.zip.Deflater.BEST_COMPRESSION);
            }
        }) {
            gz.write(text.getBytes(StandardCharsets.UTF_8));
        }
        byte[] out = bo.toByteArray();
        out[8] = 2;
        out[9] = 3;
        return out;
    }
}
