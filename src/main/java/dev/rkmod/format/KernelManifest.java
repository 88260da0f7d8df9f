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
 * {@code rkmod-kernel.json}: what rkmod recorded about a kernel it built. Version strings are exactly
 * what the programs printed.
 */
public record KernelManifest(
        int schema,
        String release,
        String version,
        String arch,
        String generation,
        String source,
        String sourceIdentity,
        String base,
        List<String> fragments,
        boolean fixRust,
        String configSha256,
        String toolchain,
        String toolchainProfile,
        String toolchainRoot,
        String rustcPath,
        String rustc,
        String bindgen,
        String clang,
        String lld,
        String llvm,
        long buildSeconds,
        long objects,
        String bzImage,
        String builtAt) {

    public static final String FILE = "rkmod-kernel.json";
    private static final Gson GSON = new GsonBuilder().setPrettyPrinting().disableHtmlEscaping().serializeNulls().create();

    public String toJson() {
        return GSON.toJson(this);
    }

    public static KernelManifest fromJson(String json) {
        return GSON.fromJson(json, KernelManifest.class);
    }

    /** Reads {@code dir/rkmod-kernel.json}; empty when absent or unreadable. */
    public static Optional<KernelManifest> read(Path dir) {
        Path f = dir.resolve(FILE);
        if (!Files.isRegularFile(f)) {
            return Optional.empty();
        }
        try {
            return Optional.ofNullable(fromJson(Files.readString(f, StandardCharsets.UTF_8)));
        } catch (IOException | JsonParseException e) {
            return Optional.empty();
        }
    }
}
