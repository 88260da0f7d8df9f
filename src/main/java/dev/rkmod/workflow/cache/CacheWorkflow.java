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
        return ctx.cache().clear(kindOrNull);
    }
}
