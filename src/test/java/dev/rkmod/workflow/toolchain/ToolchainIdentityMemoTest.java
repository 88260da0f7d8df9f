package dev.rkmod.workflow.toolchain;

import dev.rkmod.infra.cache.Cache;
import dev.rkmod.infra.event.EventSink;
import dev.rkmod.infra.host.Host;
import dev.rkmod.workflow.Context;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

/** A warm 'kernel build' runs no compiler: the toolchain's version strings are remembered by what its programs are. */
class ToolchainIdentityMemoTest {
    @TempDir
    Path dir;

    private static Path script(Path p, String version) throws Exception {
        Files.writeString(p, "#!/bin/sh\necho '" + version + "'\n");
        Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwxr-xr-x"));
        return p;
    }

    @Test
    void theVersionsAreRememberedUntilAProgramChanges() throws Exception {
        Path bin = Files.createDirectories(dir.resolve("toolchain/bin"));
        Path rustc = script(bin.resolve("rustc"), "rustc 9.9.9 (test)");
        script(bin.resolve("bindgen"), "bindgen 0.0.1");
        Context ctx = Context.create(new Host(dir, 0, Map.of()), new Cache(dir.resolve("cache")), EventSink.NONE);
        Toolchain t = Toolchain.host(rustc, Optional.empty());
        Toolchain.Identity first;
        try (Toolchain.Shell s = t.open(ctx, java.util.List.of())) {
            first = s.identity();
        }
        assertThat(first.rustc()).isEqualTo("rustc 9.9.9 (test)");
        assertThat(first.bindgen()).isEqualTo("bindgen 0.0.1");
        Path memo = dir.resolve("cache").resolve(Toolchain.IDENTITY_MEMO);
        assertThat(memo).content().contains("rustc 9.9.9 (test)");

        // the same programs: the memo answers (a planted value proves no program ran)
        Files.writeString(memo, Files.readString(memo).replace("rustc 9.9.9 (test)", "rustc planted"));
        try (Toolchain.Shell s = t.open(ctx, java.util.List.of())) {
            assertThat(s.identity().rustc()).isEqualTo("rustc planted");
        }

        // another rustc (an upgrade: new content and time) is asked again
        script(rustc, "rustc 9.9.10 (test)");
        Files.setLastModifiedTime(rustc, FileTime.fromMillis(System.currentTimeMillis() + 5_000));
        try (Toolchain.Shell s = t.open(ctx, java.util.List.of())) {
            Toolchain.Identity again = s.identity();
            assertThat(again.rustc()).isEqualTo("rustc 9.9.10 (test)");
            assertThat(again.clang()).isEqualTo(first.clang());
        }
    }
}
