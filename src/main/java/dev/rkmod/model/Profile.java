package dev.rkmod.model;

import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * A toolchain profile: what a kernel generation needs on this machine. The host packages come
 * from the host's Debian; a profile whose toolchain is newer than the host's has a debootstrap
 * root as well. This is the one table `rkmod deps` reads.
 */
public enum Profile {
    LINUX_6_1("6.1",
            "Debian bookworm: linux-source-6.1 built with Debian's rustc 1.63, bindgen 0.60 and clang 14",
            List.of("linux-source-6.1", "linux-config-6.1", "rustc", "rust-src", "bindgen", "clang", "lld", "llvm",
                    "flex", "bison", "bc", "libelf-dev", "libssl-dev", "cpio", "kmod", "xz-utils", "zstd",
                    "qemu-system-x86", "busybox-static"),
            null, "/usr/bin/rustc", "/usr/src/linux-source-6.1.tar.xz",
            "/usr/src/linux-config-6.1/config.amd64_none_amd64.xz"),
    LINUX_6_12("6.12",
            "Debian trixie in a debootstrap root: linux-source-6.12 built with rustc 1.85, bindgen 0.71 and clang 19",
            List.of("debootstrap", "debian-archive-keyring", "kmod", "cpio", "zstd", "qemu-system-x86", "busybox-static"),
            new RootSpec("trixie", "minbase", List.of(
                    "build-essential", "bc", "bison", "flex", "libelf-dev", "libssl-dev", "cpio", "kmod",
                    "rustc", "rust-src", "bindgen", "clang", "lld", "llvm",
                    "linux-source-6.12", "linux-config-6.12", "xz-utils", "python3")),
            "/usr/bin/rustc", "/usr/src/linux-source-6.12.tar.xz",
            "/usr/src/linux-config-6.12/config.amd64_none_amd64.xz"),
    /**
     * Debian sid's own kernel: a debootstrap sid root with the flavour's current headers and source
     * (resolved from the archive through the metapackages), the rustc, bindgen and gcc its config names,
     * and libclang for bindgen. Not a kernel-build profile: its kernel comes from the archive.
     */
    DEBIAN_SID("debian-sid",
            "Debian sid's own kernel in a debootstrap root: its headers completed with the Rust set, made by the exact"
                    + " rustc, bindgen and gcc of the kernel's config",
            List.of("debootstrap", "debian-archive-keyring", "kmod", "cpio", "zstd", "qemu-system-x86", "busybox-static"),
            new RootSpec("sid", "minbase", List.of(
                    "build-essential", "bc", "bison", "flex", "libelf-dev", "libssl-dev", "cpio", "kmod", "xz-utils",
                    "python3", "openssl", "rustc", "rust-src", "bindgen", "libclang-dev",
                    Distro.DEBIAN_SID.headersMeta(), Distro.DEBIAN_SID.sourceMeta())),
            "/usr/bin/rustc", null, null, Distro.DEBIAN_SID);

    private final String id;
    private final String summary;
    private final List<String> hostPackages;
    private final RootSpec root;
    private final String rustc;
    private final String sourceTarball;
    private final String distroConfig;
    private final Distro distro;

    Profile(String id, String summary, List<String> hostPackages, RootSpec root, String rustc, String sourceTarball,
            String distroConfig) {
        this(id, summary, hostPackages, root, rustc, sourceTarball, distroConfig, null);
    }

    Profile(String id, String summary, List<String> hostPackages, RootSpec root, String rustc, String sourceTarball,
            String distroConfig, Distro distro) {
        this.id = id;
        this.summary = summary;
        this.hostPackages = hostPackages.stream().sorted().toList();
        this.root = root;
        this.rustc = rustc;
        this.sourceTarball = sourceTarball;
        this.distroConfig = distroConfig;
        this.distro = distro;
    }

    /** The distribution whose own kernel this profile serves (headers completion), if any. */
    public Optional<Distro> distro() {
        return Optional.ofNullable(distro);
    }

    /** Whether 'rkmod kernel build' can build this profile's kernel from source (distro profiles cannot). */
    public boolean buildsKernels() {
        return sourceTarball != null;
    }

    /** The profile of a distribution's kernel. */
    public static Optional<Profile> forDistro(Distro d) {
        return Arrays.stream(values()).filter(p -> p.distro == d).findFirst();
    }

    /** The pinned rustc, as a path seen by the toolchain (inside the root when there is one). */
    public String rustc() {
        return rustc;
    }

    /** The Debian kernel source tarball, as seen by the toolchain. */
    public String sourceTarball() {
        return sourceTarball;
    }

    /** Debian's amd64 distro config for this kernel, as seen by the toolchain. */
    public String distroConfig() {
        return distroConfig;
    }

    /** The profile for a kernel version such as "6.12.117": by its major.minor series. */
    public static Optional<Profile> forKernelVersion(String version) {
        String[] p = version.split("[.-]");
        return p.length < 2 ? Optional.empty() : byId(p[0] + "." + p[1]);
    }

    public String id() {
        return id;
    }

    public String summary() {
        return summary;
    }

    /** Debian packages needed on the host, sorted. */
    public List<String> hostPackages() {
        return hostPackages;
    }

    /** The debootstrap root this profile's toolchain lives in, if any. */
    public Optional<RootSpec> root() {
        return Optional.ofNullable(root);
    }

    public static Optional<Profile> byId(String id) {
        return Arrays.stream(values()).filter(p -> p.id.equals(id)).findFirst();
    }

    public static String ids() {
        return Arrays.stream(values()).map(Profile::id).collect(Collectors.joining(", "));
    }
}
