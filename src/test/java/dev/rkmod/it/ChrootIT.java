package dev.rkmod.it;

import dev.rkmod.infra.cache.Cache;
import dev.rkmod.infra.fs.FileOps;
import dev.rkmod.infra.host.Chroot;
import dev.rkmod.infra.host.Host;
import dev.rkmod.infra.process.ProcessFailedException;
import dev.rkmod.infra.process.ProcessRunner;
import dev.rkmod.infra.process.ProcessSpec;
import dev.rkmod.model.Profile;
import dev.rkmod.model.RkmodException;
import dev.rkmod.workflow.Context;
import dev.rkmod.workflow.toolchain.DebianRoots;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Chroot sessions in the real trixie root: /proc is unmounted even when the command fails. */
class ChrootIT {
    @TempDir
    Path tmp;

    /** How many mounts sit at {@code p}: another rkmod process may hold its own session in the same root. */
    private static long mounts(Path p) throws Exception {
        return Files.readAllLines(Path.of("/proc/self/mounts")).stream()
                .filter(l -> l.split(" ")[1].equals(p.toAbsolutePath().normalize().toString())).count();
    }

    @Test
    void procIsUnmountedAfterAFailingCommand() throws Exception {
        Host host = Host.current();
        Context ctx = Context.create(host, new Cache(Cache.defaultRoot(host.env())), e -> { });
        Path root = new DebianRoots(ctx).find(Profile.LINUX_6_12.root().orElseThrow()).orElseThrow(
                () -> new AssertionError("the trixie root is missing: run 'rkmod deps --install --profile 6.12'"));
        ProcessRunner runner = ctx.runner();
        long before = mounts(root.resolve("proc"));
        assertThatThrownBy(() -> {
            try (Chroot c = Chroot.enter(root, runner, host)) {
                assertThat(mounts(root.resolve("proc"))).as("the session's mounts are in its own namespace, not the host's")
                        .isEqualTo(before);
                String out = runner.run(c.spec("/usr/src", List.of(), List.of("pwd")).capture().noLog()).text();
                assertThat(out).isEqualTo("/usr/src");
                String status = runner.run(c.spec(null, List.of(), List.of("head", "-1", "/proc/self/status"))
                        .capture().noLog()).text();
                assertThat(status).as("/proc is mounted inside the session").startsWith("Name:");
                String exe = runner.run(c.spec(null, List.of(), List.of("readlink", "/proc/self/exe")).capture().noLog()).text();
                assertThat(exe).as("/proc shows the session's own processes").isEqualTo("/usr/bin/readlink");
                runner.run(c.spec(null, List.of(), List.of("rustc", "--no-such-flag")).noLog().timeout(Duration.ofSeconds(60)));
            }
        }).isInstanceOf(ProcessFailedException.class);
        assertThat(mounts(root.resolve("proc"))).as("the session's own /proc is gone").isEqualTo(before);
    }

    @Test
    void deleteRefusesATreeWithAMountInside() throws Exception {
        Path tree = tmp.resolve("tree");
        Path inner = Files.createDirectories(tree.resolve("proc"));
        Files.writeString(tree.resolve("keep"), "x");
        ProcessRunner runner = new ProcessRunner(e -> { }, tmp);
        runner.run(ProcessSpec.of("mount", "-t", "tmpfs", "tmpfs", inner.toString()).noLog());
        try {
            assertThatThrownBy(() -> FileOps.deleteTree(tree)).isInstanceOfSatisfying(RkmodException.class,
                    e -> assertThat(e.paragraph()).contains("Refusing to delete").contains("umount"));
            assertThat(tree.resolve("keep")).exists();
        } finally {
            runner.run(ProcessSpec.of("umount", inner.toString()).noLog());
        }
        FileOps.deleteTree(tree);
        assertThat(tree).doesNotExist();
    }
}
