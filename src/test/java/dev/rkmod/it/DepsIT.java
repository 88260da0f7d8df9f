package dev.rkmod.it;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The real machine: CI ran 'rkmod deps --install' for both profiles before the tests, so both
 * must now report complete, and a second install must do nothing.
 */
class DepsIT {

    @Test
    void profile61IsCompleteAndInstallIsIdempotent() throws Exception {
        Rkmod.Result r = Rkmod.jar(Map.of(), "deps", "--profile", "6.1", "--install", "--json");
        assertThat(r.exit()).as(r.err()).isZero();
        JsonObject p = JsonParser.parseString(r.out()).getAsJsonObject().getAsJsonArray("profiles").get(0).getAsJsonObject();
        assertThat(p.get("complete").getAsBoolean()).isTrue();
        assertThat(p.getAsJsonArray("actions")).as("a second install does nothing").isEmpty();
        assertThat(Path.of("/usr/bin/rustc")).exists();
        assertThat(Path.of("/usr/src/linux-source-6.1.tar.xz")).exists();
    }

    @Test
    void profile612HasTheTrixieRootWithItsRustc() throws Exception {
        Rkmod.Result r = Rkmod.jar(Map.of(), "deps", "--profile", "6.12", "--install", "--json");
        assertThat(r.exit()).as(r.err()).isZero();
        JsonObject p = JsonParser.parseString(r.out()).getAsJsonObject().getAsJsonArray("profiles").get(0).getAsJsonObject();
        assertThat(p.getAsJsonArray("actions")).isEmpty();
        JsonObject root = p.getAsJsonObject("root");
        assertThat(root.get("complete").getAsBoolean()).isTrue();
        assertThat(root.get("rustc").getAsString()).startsWith("rustc 1.85.").endsWith("(built from a source tarball)");
        Path chroot = Path.of(root.get("path").getAsString());
        assertThat(chroot.resolve("usr/src/linux-source-6.12.tar.xz")).exists();
        assertThat(Files.readString(Path.of("/proc/self/mounts"))).as("/proc is unmounted after use")
                .doesNotContain(chroot.resolve("proc").toString());
    }

    @Test
    void textReportNamesEveryPackage() throws Exception {
        Rkmod.Result r = Rkmod.jar(Map.of(), "deps", "--profile", "6.1");
        assertThat(r.exit()).isZero();
        assertThat(r.out()).containsPattern("ok\\s+rustc\\s+1\\.63").containsPattern("ok\\s+linux-source-6\\.1")
                .contains("complete");
    }
}
