package dev.rkmod.cli;

import dev.rkmod.model.Profile;
import dev.rkmod.workflow.pack.PackageRequest;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/** picocli converters for the option values several commands share; a bad value is a usage error (exit 2). */
final class Converters {
    private Converters() {
    }

    /** --profile: a toolchain profile id. */
    static final class ProfileConverter implements ITypeConverter<Profile> {
        @Override
        public Profile convert(String id) {
            return Profile.byId(id).orElseThrow(() -> new TypeConversionException(
                    "Unknown profile '" + id + "'. Known profiles: " + Profile.ids() + "."));
        }
    }

    /** --format of a package: dir, tar.zst or tar.xz. */
    static class FormatConverter implements ITypeConverter<PackageRequest.Format> {
        @Override
        public PackageRequest.Format convert(String id) {
            return PackageRequest.Format.byId(id).orElseThrow(() -> new TypeConversionException(
                    "Unknown format '" + id + "'. Use dir, tar.zst, tar.xz, deb or arch."));
        }
    }

    /** --format of completed headers: dir, tar.zst, tar.xz or deb (the completion package); no Arch package. */
    static final class HeadersFormatConverter extends FormatConverter {
        @Override
        public PackageRequest.Format convert(String id) {
            if (id.equals("arch")) {
                throw new TypeConversionException("--format arch is not available for completed headers: a completion"
                        + " package adds files to a distro's own headers package, and only Debian's are completed."
                        + " Use --format deb, dir, tar.zst or tar.xz.");
            }
            return super.convert(id);
        }
    }
}
