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
    public RootSpec {
        packages = packages.stream().sorted().distinct().toList();
    }
}
