package dev.rkmod.format;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonParseException;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * {@code rkmod-headers.json}: what {@code rkmod headers complete} recorded about a distro kernel whose
 * headers it completed: where the headers, source and image come from, and the exact tools that made the
 * Rust set. Later commands (package, vmtest, demo) read it instead of deriving these facts again.
 *
 * @param distro          the distro id ("debian-sid"), or null for headers that came from a directory
 * @param imagePackages   packages that hold the kernel image, tried in order
 * @param imagePaths      the image's paths inside those packages
 * @param rustSymbols     how many {@code _R} symbols of the regenerated crates matched Module.symvers
 * @param fromSource      files of the kernel's source that the headers lack and the completed tree carries (the Rust
 *                        probe {@code scripts/rust_is_available.sh} and what it reads); null in older manifests
 * @param configGates     the kernel crate's modules that exist only with a config option, from the source's
 *                        {@code rust/kernel/lib.rs} ({@link KernelCrateGates}); null in older manifests
 */
public record HeadersManifest(int schema, String distro, String release, String headersPackage, String headersVersion,
                              String sourcePackage, String sourceVersion, String rustc, String bindgen, String cc,
                              boolean llvm, String toolchainRoot, java.util.List<String> imagePackages,
                              java.util.List<String> imagePaths, int rustSymbols, long makeSeconds,
                              java.util.List<String> fromSource, java.util.Map<String, String> configGates) {

    public static final String FILE = "rkmod-headers.json";
    private static final Gson GSON = new GsonBuilder().setPrettyPrinting().disableHtmlEscaping().serializeNulls().create();

    public String toJson() {
        return GSON.toJson(this);
    }

    public static Optional<HeadersManifest> read(Path dir) {
        Path f = dir.resolve(FILE);
        if (!Files.isRegularFile(f)) {
            return Optional.empty();
        }
        try {
            return Optional.ofNullable(GSON.fromJson(Files.readString(f, StandardCharsets.UTF_8), HeadersManifest.class));
        } catch (IOException | JsonParseException e) {
            return Optional.empty();
        }
    }
}
