package dev.rkmod.format;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonParseException;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * {@code rkmod-kernel.json}: what rkmod recorded about a kernel it built. Version strings are exactly
 * what the programs printed. Made with {@link #builder()}; the components are the JSON keys, in order.
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
    public static final int SCHEMA = 1;
    /** Gson, made on first use only: reading a manifest of the usual shape needs none. */
    private static final class Holder {
        static final Gson GSON = new GsonBuilder().setPrettyPrinting().disableHtmlEscaping().serializeNulls().create();
    }

    public static Builder builder() {
        return new Builder();
    }

    public String toJson() {
        return Holder.GSON.toJson(this);
    }

    public static KernelManifest fromJson(String json) {
        try {
            return fromFlatJson(FlatJson.parse(json));
        } catch (FormatException | IllegalArgumentException e) {
            // not the plain shape rkmod writes: Gson decides, as it always did
            return Holder.GSON.fromJson(json, KernelManifest.class);
        }
    }

    /** The manifest from its members, each of exactly the type rkmod writes (anything else throws). */
    private static KernelManifest fromFlatJson(Map<String, Object> m) {
        long schema = num(m, "schema");
        if (schema != (int) schema) {
            throw new IllegalArgumentException("schema");
        }
        Object fragments = m.get("fragments");
        if (fragments != null && !(fragments instanceof List<?>)) {
            throw new IllegalArgumentException("fragments");
        }
        Object fix = m.getOrDefault("fixRust", Boolean.FALSE);
        if (!(fix instanceof Boolean)) {
            throw new IllegalArgumentException("fixRust");
        }
        @SuppressWarnings("unchecked")
        List<String> frags = (List<String>) fragments;
        return new KernelManifest((int) schema, str(m, "release"), str(m, "version"), str(m, "arch"),
                str(m, "generation"), str(m, "source"), str(m, "sourceIdentity"), str(m, "base"), frags, (Boolean) fix,
                str(m, "configSha256"), str(m, "toolchain"), str(m, "toolchainProfile"), str(m, "toolchainRoot"),
                str(m, "rustcPath"), str(m, "rustc"), str(m, "bindgen"), str(m, "clang"), str(m, "lld"), str(m, "llvm"),
                num(m, "buildSeconds"), num(m, "objects"), str(m, "bzImage"), str(m, "builtAt"));
    }

    private static String str(Map<String, Object> m, String key) {
        Object v = m.get(key);
        if (v != null && !(v instanceof String)) {
            throw new IllegalArgumentException(key);
        }
        return (String) v;
    }

    private static long num(Map<String, Object> m, String key) {
        Object v = m.containsKey(key) ? m.get(key) : Long.valueOf(0);
        if (!(v instanceof Long l)) {
            throw new IllegalArgumentException(key);
        }
        return l;
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

    /** Names every value; unset strings stay null, as in the JSON. */
    public static final class Builder {
        private int schema = SCHEMA;
        private String release;
        private String version;
        private String arch;
        private String generation;
        private String source;
        private String sourceIdentity;
        private String base;
        private List<String> fragments = List.of();
        private boolean fixRust;
        private String configSha256;
        private String toolchain;
        private String toolchainProfile;
        private String toolchainRoot;
        private String rustcPath;
        private String rustc;
        private String bindgen;
        private String clang;
        private String lld;
        private String llvm;
        private long buildSeconds;
        private long objects;
        private String bzImage;
        private String builtAt;

        private Builder() {
        }

        public Builder schema(int v) { schema = v; return this; }
        public Builder release(String v) { release = v; return this; }
        public Builder version(String v) { version = v; return this; }
        public Builder arch(String v) { arch = v; return this; }
        public Builder generation(String v) { generation = v; return this; }
        public Builder source(String v) { source = v; return this; }
        public Builder sourceIdentity(String v) { sourceIdentity = v; return this; }
        public Builder base(String v) { base = v; return this; }
        public Builder fragments(List<String> v) { fragments = List.copyOf(v); return this; }
        public Builder fixRust(boolean v) { fixRust = v; return this; }
        public Builder configSha256(String v) { configSha256 = v; return this; }
        public Builder toolchain(String v) { toolchain = v; return this; }
        public Builder toolchainProfile(String v) { toolchainProfile = v; return this; }
        public Builder toolchainRoot(String v) { toolchainRoot = v; return this; }
        public Builder rustcPath(String v) { rustcPath = v; return this; }
        public Builder rustc(String v) { rustc = v; return this; }
        public Builder bindgen(String v) { bindgen = v; return this; }
        public Builder clang(String v) { clang = v; return this; }
        public Builder lld(String v) { lld = v; return this; }
        public Builder llvm(String v) { llvm = v; return this; }
        public Builder buildSeconds(long v) { buildSeconds = v; return this; }
        public Builder objects(long v) { objects = v; return this; }
        public Builder bzImage(String v) { bzImage = v; return this; }
        public Builder builtAt(String v) { builtAt = v; return this; }

        public KernelManifest build() {
            return new KernelManifest(schema, release, version, arch, generation, source, sourceIdentity, base, fragments,
                    fixRust, configSha256, toolchain, toolchainProfile, toolchainRoot, rustcPath, rustc, bindgen, clang, lld,
                    llvm, buildSeconds, objects, bzImage, builtAt);
        }
    }
}
