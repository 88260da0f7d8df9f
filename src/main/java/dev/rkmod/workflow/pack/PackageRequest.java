package dev.rkmod.workflow.pack;

import java.nio.file.Path;

/** What `rkmod package` was asked for. */
public record PackageRequest(Path kdir, Path out, Format format, boolean verify, boolean force, long sourceDateEpoch) {

    /** Output formats. */
    public enum Format {
        DIR, TAR_ZST, TAR_XZ;

        public static Format parse(String s) {
            return switch (s) {
                case "dir" -> DIR;
                case "tar.zst" -> TAR_ZST;
                case "tar.xz" -> TAR_XZ;
                default -> throw new IllegalArgumentException(s);
            };
        }
    }
}
