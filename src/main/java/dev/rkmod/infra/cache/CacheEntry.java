package dev.rkmod.infra.cache;

import java.nio.file.Path;
import java.time.Instant;
import java.util.Map;

/** A published cache entry. */
public record CacheEntry(String kind, String key, String description, Instant created, Path dir,
                         Map<String, String> inputs) {

    public String shortKey() {
        return key.length() > 12 ? key.substring(0, 12) : key;
    }
}
