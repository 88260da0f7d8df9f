package dev.rkmod.infra.cache;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Collections;
import java.util.HexFormat;
import java.util.Map;
import java.util.TreeMap;

/** A content address: the SHA-256 of the sorted inputs that determine a cached result. */
public final class CacheKey {
    private final Map<String, String> inputs;
    private final String hex;

    private CacheKey(Map<String, String> inputs) {
        this.inputs = Collections.unmodifiableMap(new TreeMap<>(inputs));
        StringBuilder sb = new StringBuilder();
        this.inputs.forEach((k, v) -> sb.append(k).append('=').append(v.replace("\n", "\\n")).append('\n'));
        this.hex = sha256(sb.toString().getBytes(StandardCharsets.UTF_8));
    }

    public static CacheKey of(Map<String, String> inputs) {
        if (inputs.isEmpty()) {
            throw new IllegalArgumentException("a cache key needs inputs");
        }
        return new CacheKey(inputs);
    }

    public Map<String, String> inputs() {
        return inputs;
    }

    public String hex() {
        return hex;
    }

    public String shortHex() {
        return hex.substring(0, 12);
    }

    public static String sha256(byte[] data) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public String toString() {
        return hex;
    }
}
