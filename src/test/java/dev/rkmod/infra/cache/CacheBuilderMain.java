package dev.rkmod.infra.cache;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/** Test helper: another process that builds a cache entry slowly while holding its lock. */
public final class CacheBuilderMain {
    static final CacheKey KEY = CacheKey.of(Map.of("shared", "yes"));

    private CacheBuilderMain() {
    }

    public static void main(String[] args) throws Exception {
        Cache cache = new Cache(Path.of(args[0]));
        Path started = Path.of(args[1]);
        long sleep = Long.parseLong(args[2]);
        cache.getOrBuild("kernel", KEY, "shared kernel", e -> { }, dir -> {
            Files.writeString(started, "building");
            Thread.sleep(sleep);
            Files.writeString(dir.resolve("builder"), "other process");
        });
    }
}
