package dev.rkmod.it;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The real machine: each test installs its profile (whether or not the test command's provisioning
 * step already did), then checks that the profile is complete and that a second install does nothing.
 */
class DepsIT {

    @Test
    void profile61IsCompleteAndInstallIsIdempotent() throws Exception {
        Rkmod.Result first = Rkmod.jar(Map.of(), "deps", "--profile", "6.1", "--install", "--json");
        assertThat(first.exit()).as(first.err()).isZero();
        assertThat(profile(first).get("complete").getAsBoolean()).isTrue();
        Rkmod.Result r = Rkmod.jar(Map.of(), "deps", "--profile", "6.1", "--install", "--json");
        assertThat(r.exit()).as(r.err()).isZero();
        JsonObject p = profile(r);
        assertThat(p.get("complete").getAsBoolean()).isTrue();
        assertThat(p.getAsJsonArray("actions")).as("a second install does nothing").isEmpty();
        assertThat(Path.of("/usr/bin/rustc")).exists();
        assertThat(Path.of("/usr/src/linux-source-6.1.tar.xz")).exists();
    }

    @Test
    void profile612HasTheTrixieRootWithItsRustc() throws Exception {
        // Whether or not the root existed before this test: the first install leaves the profile complete,
        // and a second install in the same test has nothing to do.
        Rkmod.Result first = Rkmod.jar(Map.of(), "deps", "--profile", "6.12", "--install", "--json");
        assertThat(first.exit()).as(first.err()).isZero();
        JsonObject p1 = profile(first);
        assertThat(p1.get("complete").getAsBoolean()).isTrue();

        Rkmod.Result r = Rkmod.jar(Map.of(), "deps", "--profile", "6.12", "--install", "--json");
        assertThat(r.exit()).as(r.err()).isZero();
        JsonObject p = profile(r);
        assertThat(p.getAsJsonArray("actions")).as("a second install does nothing").isEmpty();
        JsonObject root = p.getAsJsonObject("root");
        assertThat(root.get("complete").getAsBoolean()).isTrue();
        assertThat(root.get("rustc").getAsString()).startsWith("rustc 1.85.").endsWith("(built from a source tarball)");
        Path chroot = Path.of(root.get("path").getAsString());
        assertThat(chroot.resolve("usr/src/linux-source-6.12.tar.xz")).exists();
        assertThat(Files.readString(Path.of("/proc/self/mounts"))).as("/proc is unmounted after use")
                .doesNotContain(chroot.resolve("proc").toString());
    }

    static JsonObject profile(Rkmod.Result r) {
        return JsonParser.parseString(r.out()).getAsJsonObject().getAsJsonArray("profiles").get(0).getAsJsonObject();
    }

    @Test
    void textReportNamesEveryPackage() throws Exception {
        Rkmod.Result r = Rkmod.jar(Map.of(), "deps", "--profile", "6.1");
        assertThat(r.exit()).isZero();
        assertThat(r.out()).containsPattern("ok\\s+rustc\\s+1\\.63").containsPattern("ok\\s+linux-source-6\\.1")
                .contains("complete");
    }
}
