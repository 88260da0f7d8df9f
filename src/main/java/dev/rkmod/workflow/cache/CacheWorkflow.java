package dev.rkmod.workflow.cache;

import dev.rkmod.infra.cache.CacheEntry;
import dev.rkmod.infra.fs.FileOps;
import dev.rkmod.workflow.Context;

import java.util.List;

/** `rkmod cache list|clear`. */
public final class CacheWorkflow {

    /** A cache entry with its size on disk. */
    public record Listed(CacheEntry entry, long bytes) { }

    private final Context ctx;

    public CacheWorkflow(Context ctx) {
        this.ctx = ctx;
    }

    public List<Listed> list() {
        return ctx.cache().list().stream().map(e -> new Listed(e, FileOps.sizeOf(e.dir()))).toList();
    }

    public List<CacheEntry> clear(String kindOrNull) {
        if (kindOrNull != null && (!kindOrNull.matches("[a-z][a-z0-9-]{0,39}") || List.of("tmp", "locks", "logs").contains(kindOrNull)
                || !java.nio.file.Files.isDirectory(ctx.cache().root().resolve(kindOrNull)))) {
            java.util.SortedSet<String> kinds = new java.util.TreeSet<>();
            ctx.cache().list().forEach(e -> kinds.add(e.kind()));
            throw new dev.rkmod.model.RkmodException(dev.rkmod.model.ExitCode.USAGE, "The cache " + ctx.cache().root()
                    + " has no entries of kind '" + kindOrNull + "'",
                    "A mistyped kind would otherwise remove nothing and report success; kinds here: "
                            + (kinds.isEmpty() ? "none (the cache is empty)" : String.join(", ", kinds)),
                    "Pass one of those kinds, or no --kind to clear everything");
        }
        return ctx.cache().clear(kindOrNull);
    }
}
