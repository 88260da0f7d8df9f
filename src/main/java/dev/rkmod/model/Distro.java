package dev.rkmod.model;

import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * A distribution's kernel packaging, as data: where its archive keeps the kernel headers, source and
 * image for a flavour, and what its kernels print at boot that is not a failure. Nothing here names a
 * version: the current kernel is resolved from the archive ({@link #headersMeta}'s dependency), and the
 * exact tools from that kernel's config. Another Debian-family suite (a backports kernel, the next
 * testing release) is a new row, not new code.
 *
 * @param id             what users type: {@code --distro debian-sid}
 * @param name           for messages
 * @param suite          the Debian suite the profile's root is made from
 * @param flavour        the kernel flavour, such as "amd64"
 * @param headersMeta    the metapackage whose dependency names the flavour's current headers package
 * @param headersPrefix  headers packages are {@code headersPrefix + release}
 * @param sourceMeta     the metapackage that pulls the current kernel source package
 * @param sourcePrefix   source packages are {@code sourcePrefix + series} ("linux-source-7.2")
 * @param sourceTarball  the source tarball inside the root, {@code %s} being the series
 * @param headersDir     the headers directory inside the root, {@code %s} being the release
 * @param imagePackages  packages that may hold the bzImage, tried in order, {@code %s} being the release
 * @param imagePaths     paths of the bzImage inside those packages, tried in order
 * @param modulesPackages packages that may hold the kernel's modules, tried in order, {@code %s} being the release
 *                       (vmtest loads a module's dependencies from them)
 * @param modulesDirs    the modules directory inside those packages, tried in order ({@code %s}: the release)
 * @param bootNoise      kernel log lines of this distro's kernel that look like failures and are not
 *                       (regular expressions matched against one log line)
 */
public record Distro(String id, String name, String suite, String flavour, String headersMeta, String headersPrefix,
                     String sourceMeta, String sourcePrefix, String sourceTarball, String headersDir,
                     List<String> imagePackages, List<String> imagePaths, List<String> modulesPackages,
                     List<String> modulesDirs, List<String> bootNoise) {

    /** Debian unstable, amd64 flavour: Rust-enabled, GCC-built kernels whose headers lack the Rust set. */
    public static final Distro DEBIAN_SID = new Distro("debian-sid", "Debian sid", "sid", "amd64",
            "linux-headers-amd64", "linux-headers-", "linux-source", "linux-source-",
            "/usr/src/linux-source-%s.tar.xz", "/usr/src/linux-headers-%s",
            List.of("linux-binary-%s", "linux-image-%s"),
            List.of("usr/lib/modules/%s/vmlinuz", "boot/vmlinuz-%s"),
            // since 6.19 the modules are in linux-modules-<release>; older kernels keep them in linux-image-<release>
            List.of("linux-modules-%s", "linux-image-%s"),
            List.of("usr/lib/modules/%s", "lib/modules/%s"),
            List.of(
                    // Spectre/MDS mitigation notes and the like, printed by every generic x86 kernel under TCG
                    "^(Spectre V\\d|MDS|MMIO Stale Data|RETBleed|ITS|GDS|SRBDS|TAA|VMSCAPE)\\b.*",
                    // firmware and platform probing on QEMU's virtual hardware
                    "\\bfirmware\\b", "\\bACPI\\b.*(BIOS|Error|Warning)", "^PCI: .*"));

    private static final List<Distro> ALL = List.of(DEBIAN_SID);

    public static Optional<Distro> byId(String id) {
        return ALL.stream().filter(d -> d.id.equals(id)).findFirst();
    }

    public static String ids() {
        return ALL.stream().map(Distro::id).collect(Collectors.joining(", "));
    }

    public static List<Distro> all() {
        return ALL;
    }

    /** The headers package of a kernel release. */
    public String headersPackage(String release) {
        return headersPrefix + release;
    }

    /** The source package of a kernel series ("7.2"). */
    public String sourcePackage(String series) {
        return sourcePrefix + series;
    }

    public String sourceTarball(String series) {
        return String.format(sourceTarball, series);
    }

    public String headersDir(String release) {
        return String.format(headersDir, release);
    }

    public List<String> imagePackages(String release) {
        return imagePackages.stream().map(p -> String.format(p, release)).toList();
    }

    public List<String> imagePaths(String release) {
        return imagePaths.stream().map(p -> String.format(p, release)).toList();
    }

    public List<String> modulesPackages(String release) {
        return modulesPackages.stream().map(p -> String.format(p, release)).toList();
    }

    public List<String> modulesDirs(String release) {
        return modulesDirs.stream().map(p -> String.format(p, release)).toList();
    }

    /** "7.2" from "7.2.13+deb14-amd64". */
    public static String series(String release) {
        String[] p = release.split("[.+-]");
        return p.length < 2 ? release : p[0] + "." + p[1];
    }

    /** Parses {@code debian-sid} or {@code debian-sid:RELEASE}. */
    public record Selector(Distro distro, Optional<String> release) {
        public static Optional<Selector> parse(String s) {
            int colon = s.indexOf(':');
            String id = colon < 0 ? s : s.substring(0, colon);
            Optional<String> rel = colon < 0 || colon == s.length() - 1 ? Optional.empty() : Optional.of(s.substring(colon + 1));
            return byId(id).map(d -> new Selector(d, rel));
        }
    }

    /** All ids, for messages. */
    public static String list() {
        return Arrays.toString(ALL.stream().map(Distro::id).toArray());
    }
}
