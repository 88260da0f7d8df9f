package dev.rkmod.format;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonParseException;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * {@code rkmod-package.json}: what a Rust-ready external-module tree holds and needs.
 *
 * <p>{@code objtreeIncludes}: the object-tree files the crates' exported macros read in a module build
 * ({@link RmetaObjtreePaths}); {@code configGates}: the kernel crate's modules that exist only with a config option
 * ({@link KernelCrateGates}). Both null in manifests written before rkmod recorded them.
 */
public record PackageManifest(
        int schema,
        String release,
        String arch,
        boolean llvm,
        String rustc,
        String bindgen,
        String generation,
        String targetSpec,
        String targetTriple,
        String toolchainRoot,
        List<Entry> files,
        List<String> objtreeIncludes,
        java.util.Map<String, String> configGates) {

    public static final String FILE = "rkmod-package.json";
    private static final Gson GSON = new GsonBuilder().setPrettyPrinting().disableHtmlEscaping().serializeNulls().create();

    /** One packaged file. */
    public record Entry(String path, long size, String sha256) { }

    public String toJson() {
        return GSON.toJson(this);
    }

    public static Optional<PackageManifest> read(Path dir) {
        Path f = dir.resolve(FILE);
        if (!Files.isRegularFile(f)) {
            return Optional.empty();
        }
        try {
            return Optional.ofNullable(GSON.fromJson(Files.readString(f, StandardCharsets.UTF_8), PackageManifest.class));
        } catch (IOException | JsonParseException e) {
            return Optional.empty();
        }
    }
}
