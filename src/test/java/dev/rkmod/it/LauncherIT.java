package dev.rkmod.it;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.attribute.FileTime;

import static org.assertj.core.api.Assertions.assertThat;

class LauncherIT {

    @Test
    void launcherRunsTheJarWithoutRebuildingIt() throws Exception {
        Rkmod.Result first = Rkmod.launcher("--help");
        assertThat(first.exit()).as(first.err()).isZero();
        assertThat(first.out()).contains("deps", "cache", "Exit codes:");
        FileTime built = Files.getLastModifiedTime(Rkmod.repo().resolve("target/rkmod.jar"));

        Rkmod.Result second = Rkmod.launcher("--version");
        assertThat(second.exit()).isZero();
        assertThat(second.out()).startsWith("rkmod ");
        assertThat(second.err()).doesNotContain("building");
        assertThat(Files.getLastModifiedTime(Rkmod.repo().resolve("target/rkmod.jar"))).isEqualTo(built);
    }

    @Test
    void usageErrorsExit2WithoutAStackTrace() throws Exception {
        Rkmod.Result r = Rkmod.launcher("deps", "--profile", "5.4");
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).contains("Unknown profile '5.4'").doesNotContain("\tat ");
    }
}
