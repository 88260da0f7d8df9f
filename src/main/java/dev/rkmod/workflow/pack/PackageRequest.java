package dev.rkmod.workflow.pack;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.Optional;

/**
 * What `rkmod package` was asked for.
 *
 * @param maintainer the Maintainer (Debian) or packager (Arch) of a deb or arch package, "Name &lt;mail&gt;"; null:
 *                   {@link DistroPackage#DEFAULT_MAINTAINER}
 * @param revision   the Debian revision and Arch pkgrel of a deb or arch package, at least 1
 */
public record PackageRequest(Path kdir, Path out, Format format, boolean verify, boolean force, long sourceDateEpoch,
                             String maintainer, int revision) {

    public PackageRequest(Path kdir, Path out, Format format, boolean verify, boolean force, long sourceDateEpoch) {
        this(kdir, out, format, verify, force, sourceDateEpoch, null, 1);
    }

    /** Output formats, named as on the command line. */
    public enum Format {
        DIR("dir"), TAR_ZST("tar.zst"), TAR_XZ("tar.xz"), DEB("deb"), ARCH("arch");

        private final String id;

        Format(String id) {
            this.id = id;
        }

        /** The format named {@code id} ("dir", "tar.zst", "tar.xz", "deb", "arch"). */
        public static Optional<Format> byId(String id) {
            return Arrays.stream(values()).filter(f -> f.id.equals(id)).findFirst();
        }

        /** A distro package (deb, arch): DEST is a directory and the file gets the package's conventional name. */
        public boolean isDistroPackage() {
            return this == DEB || this == ARCH;
        }

        @Override
        public String toString() {
            return id;
        }
    }
}
