package dev.rkmod.infra.fs;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

import static org.assertj.core.api.Assertions.assertThat;

class FileOpsTest {
    @TempDir
    Path tmp;

    @Test
    void atomicWritesKeepTheTargetsPermissionsAndLeaveNoTemporaryFile() throws Exception {
        Path f = tmp.resolve("module.ko");
        Files.writeString(f, "old");
        Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rwxr-xr-x"));
        FileOps.writeAtomically(f, "new".getBytes());
        assertThat(f).hasContent("new");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(f))).isEqualTo("rwxr-xr-x");
        Path fresh = tmp.resolve("fresh.json");
        FileOps.writeAtomically(fresh, "{}".getBytes());
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(fresh))).isEqualTo("rw-r--r--");
        try (var s = Files.list(tmp)) {
            assertThat(s.map(p -> p.getFileName().toString())).containsExactlyInAnyOrder("module.ko", "fresh.json");
        }
    }

    @Test
    void deleteTreeRemovesNestedTreesWithoutFollowingLinks() throws Exception {
        Path keep = Files.createDirectories(tmp.resolve("keep"));
        Files.writeString(keep.resolve("precious"), "x");
        Path tree = Files.createDirectories(tmp.resolve("tree/a/b"));
        Files.writeString(tree.resolve("f"), "y");
        Files.createSymbolicLink(tmp.resolve("tree/link"), keep);
        FileOps.deleteTree(tmp.resolve("tree"));
        assertThat(tmp.resolve("tree")).doesNotExist();
        assertThat(keep.resolve("precious")).exists();
    }

    @Test
    void anAtomicWriteMakesAMissingDirectoryAndLeavesNothingBehindWhenItCannotWrite() throws Exception {
        Path deep = tmp.resolve("a/b/out.json");
        FileOps.writeAtomically(deep, "x".getBytes());
        assertThat(deep).hasContent("x");
        Path ro = java.nio.file.Files.createDirectories(tmp.resolve("ro"));
        Path f = ro.resolve("f");
        Files.writeString(f, "old");
        // a target that is a non-empty directory cannot be replaced by a file: the rename fails, the temporary file goes
        Path blocker = Files.createDirectories(ro.resolve("dir"));
        Files.writeString(blocker.resolve("inside"), "y");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> FileOps.writeAtomically(blocker, "new".getBytes()))
                .isInstanceOfSatisfying(dev.rkmod.model.RkmodException.class,
                        e -> assertThat(e.exitCode()).isEqualTo(dev.rkmod.model.ExitCode.ENVIRONMENT));
        try (var s = Files.list(ro)) {
            assertThat(s.map(p -> p.getFileName().toString())).containsExactlyInAnyOrder("f", "dir");
        }
        assertThat(f).hasContent("old");
    }
}
