package dev.rkmod.format;

import dev.rkmod.model.RustcVersion;

/**
 * rustup's {@code rust-toolchain} file that rkmod writes into kernel trees and packages: it pins the exact
 * release the kernel was built with, and carries the full version string (suffix included) as a comment.
 */
public final class RustToolchainFile {
    public static final String FILE = "rust-toolchain";

    private RustToolchainFile() {
    }

    /** The file's text for a {@code rustc --version} string such as "rustc 1.85.1 (…) (built from a source tarball)". */
    public static String format(String rustcVersion) {
        return "# " + rustcVersion + "\n[toolchain]\nchannel = \"" + RustcVersion.parse(rustcVersion).release() + "\"\n";
    }
}
