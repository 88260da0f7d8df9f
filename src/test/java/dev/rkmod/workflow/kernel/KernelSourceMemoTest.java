package dev.rkmod.workflow.kernel;

import dev.rkmod.infra.cache.Cache;
import dev.rkmod.infra.event.EventSink;
import dev.rkmod.infra.fs.FileOps;
import dev.rkmod.infra.host.Host;
import dev.rkmod.workflow.Context;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** A warm 'kernel build' reads no tarball again: its SHA-256 is remembered by the file's identity. */
class KernelSourceMemoTest {
    @TempDir
    Path dir;

    @Test
    void theHashIsRememberedUntilTheFileChanges() throws Exception {
        Context ctx = Context.create(new Host(dir, 0, Map.of()), new Cache(dir.resolve("cache")), EventSink.NONE);
        Path tarball = Files.writeString(dir.resolve("linux-source-6.1.tar.xz"), "first");
        FileTime t = FileTime.fromMillis(1_700_000_000_000L);
        Files.setLastModifiedTime(tarball, t);
        String first = KernelSource.rememberedSha256(ctx, tarball);
        assertThat(first).isEqualTo(FileOps.sha256(tarball));
        assertThat(dir.resolve("cache").resolve(KernelSource.SHA_MEMO)).content().contains(first);

        // the memo answers for the same file identity (proved by a planted value), without reading the file
        Path memo = dir.resolve("cache").resolve(KernelSource.SHA_MEMO);
        String planted = "0".repeat(64);
        Files.writeString(memo, Files.readString(memo).replace(first, planted));
        assertThat(KernelSource.rememberedSha256(ctx, tarball)).isEqualTo(planted);

        // another content (size and time change with it) is hashed again
        Files.writeString(tarball, "second version");
        Files.setLastModifiedTime(tarball, FileTime.fromMillis(1_700_000_100_000L));
        assertThat(KernelSource.rememberedSha256(ctx, tarball)).isEqualTo(FileOps.sha256(tarball)).isNotEqualTo(planted);
    }
}
