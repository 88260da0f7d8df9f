package dev.rkmod.workflow.pack;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.Optional;

/** What `rkmod package` was asked for. */
public record PackageRequest(Path kdir, Path out, Format format, boolean verify, boolean force, long sourceDateEpoch) {

    /** Output formats, named as on the command line. */
    public enum Format {
        DIR("dir"), TAR_ZST("tar.zst"), TAR_XZ("tar.xz");

        private final String id;

        Format(String id) {
            this.id = id;
        }

        /** The format named {@code id} ("dir", "tar.zst", "tar.xz"). */
        public static Optional<Format> byId(String id) {
            return Arrays.stream(values()).filter(f -> f.id.equals(id)).findFirst();
        }

        @Override
        public String toString() {
            return id;
        }
    }
}
