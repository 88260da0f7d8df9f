package dev.rkmod.model;

import java.util.List;

/**
 * A Debian root made by debootstrap, in which a profile's kernel toolchain runs (with chroot).
 *
 * @param suite    the Debian suite, such as "trixie"
 * @param variant  the debootstrap variant
 * @param packages the packages to include, sorted
 */
public record RootSpec(String suite, String variant, List<String> packages) {
    /**
     * The root the package tests run the real package managers in, so that the host stays clean: bookworm (the
     * oldest dpkg rkmod's packages must install with, 1.21.22) with dpkg-dev and lintian, Debian's build of
     * pacman and makepkg (6.0.2) with bsdtar, and what building a Rust module against installed headers (plain
     * make or DKMS) needs. One root, so that it is made once and cached; tests use copy-on-write views of it.
     */
    public static final RootSpec PACKAGE_TOOLS = new RootSpec("bookworm", "minbase", List.of(
            "dpkg-dev", "lintian", "pacman-package-manager", "makepkg", "libarchive-tools", "xz-utils", "zstd",
            "make", "gcc", "libc6-dev", "rustc", "rust-src", "bindgen", "clang", "lld", "llvm", "libelf-dev",
            "dkms", "kmod",
            // debootstrap does not resolve virtual packages: libnet-ssleay-perl (for lintian) needs perl-openssl-abi-3
            "perl-openssl-defaults"));

    public RootSpec {
        packages = packages.stream().sorted().distinct().toList();
    }
}
