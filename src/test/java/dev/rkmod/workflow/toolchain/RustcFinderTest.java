package dev.rkmod.workflow.toolchain;

import dev.rkmod.infra.cache.Cache;
import dev.rkmod.infra.event.EventSink;
import dev.rkmod.infra.host.Host;
import dev.rkmod.model.Profile;
import dev.rkmod.workflow.Context;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

/** Candidates say where they come from; toolchains say which profile pins them, if any. */
class RustcFinderTest {
    @TempDir
    Path tmp;

    private Path fake(Path dir, String version) throws Exception {
        Files.createDirectories(dir);
        Path p = dir.resolve("rustc");
        Files.writeString(p, "#!/bin/sh\necho '" + version + "'\n");
        Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwxr-xr-x"));
        return p;
    }

    @Test
    void candidatesCarryTheirSource() throws Exception {
        Path onPath = fake(tmp.resolve("bin"), "rustc 1.99.0 (path)");
        Path explicit = fake(tmp.resolve("mine"), "rustc 1.99.0 (mine)");
        Host host = new Host(Path.of("/"), 1000, Map.of("PATH", tmp.resolve("bin").toString(),
                "HOME", tmp.resolve("home").toString()));
        Context ctx = Context.create(host, new Cache(tmp.resolve("cache")), EventSink.NONE);
        List<RustcFinder.Candidate> all = new RustcFinder(ctx).candidates(Optional.of(explicit));
        assertThat(all.get(0).source()).isEqualTo(RustcFinder.Source.EXPLICIT);
        assertThat(all.get(0).version()).isEqualTo("rustc 1.99.0 (mine)");
        assertThat(all.get(1).source()).isEqualTo(RustcFinder.Source.PATH);
        assertThat(all.get(1).description()).isEqualTo("rustc on PATH (" + onPath + ")");
        assertThat(all.stream().filter(c -> c.source() == RustcFinder.Source.SYSTEM).map(RustcFinder.Candidate::description))
                .containsExactlyElementsOf(Files.isExecutable(Path.of("/usr/bin/rustc")) ? List.of("/usr/bin/rustc") : List.of());
        assertThat(all).allSatisfy(c -> assertThat(c.toolchain().profile()).isEmpty());
        // the same file named twice is one candidate, the explicit one
        List<RustcFinder.Candidate> same = new RustcFinder(ctx).candidates(Optional.of(onPath));
        assertThat(same).filteredOn(c -> c.version() != null && c.version().endsWith("(path)"))
                .extracting(RustcFinder.Candidate::source).containsExactly(RustcFinder.Source.EXPLICIT);
    }

    @Test
    void aToolchainWithoutAProfileIsRecordedAsCustom() {
        Toolchain mine = Toolchain.host(Path.of("/usr/bin/rustc"), Optional.empty());
        assertThat(mine.profile()).isEmpty();
        assertThat(mine.profileId()).isEqualTo("custom");
        Toolchain pinned = Toolchain.root(tmp, Optional.of(Profile.LINUX_6_12));
        assertThat(pinned.profile()).contains(Profile.LINUX_6_12);
        assertThat(pinned.profileId()).isEqualTo("6.12");
    }
}
