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
                    "Unknown format '" + id + "'. Use dir, tar.zst or tar.xz."));
        }
    }

    /** --format of completed headers: a package format; the .deb is named as not available yet. */
    static final class HeadersFormatConverter extends FormatConverter {
        @Override
        public PackageRequest.Format convert(String id) {
            if (id.equals("deb")) {
                throw new TypeConversionException("--format deb is not available yet: the completion .deb"
                        + " (linux-rust-meta-RELEASE, owned by dpkg) comes with rkmod's package-manager support, which has"
                        + " not landed. Use --format dir or tar.zst.");
            }
            return super.convert(id);
        }
    }
}
