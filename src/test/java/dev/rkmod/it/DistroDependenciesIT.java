package dev.rkmod.it;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A module that depends on one of the distro's: the kernel's own samples/rust/rust_configfs.rs (from the Debian sid
 * root's linux-source tarball at test time), built out of tree against the completed sid package ({@code depends:
 * configfs}), loaded by vmtest on Debian's own kernel after configfs from Debian's own modules package, which vmtest
 * downloads once and caches; a {@code --run} script makes a group under /sys/kernel/config and reads its attributes.
 * A second run needs no network: it runs in a network namespace with nothing in it. Skipped (with the reason printed)
 * when the sid archive no longer carries the kernel's exact toolchain, as DistroKernelIT's refusal case.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class DistroDependenciesIT {
    @ItSetup.Work("rkmod-distro-deps")
    static Path work;
    static Path pkg;
    static Path ko;
    static Path script;
    static String release;

    @BeforeAll
    static void configfsSample() throws Exception {
        Rkmod.Result deps = Rkmod.jar(Map.of(), "deps", "--install", "--profile", "debian-sid", "--json");
        boolean refused = deps.exit() == 3 && deps.err().contains("never builds with a near miss");
        if (refused) {
            System.out.println("DistroDependenciesIT case: REFUSAL: " + deps.err().strip());
        }
        Assumptions.assumeFalse(refused, "the sid archive no longer carries the kernel's exact toolchain");
        assertThat(deps.exit()).as(deps.err()).isZero();
        JsonObject p = JsonParser.parseString(deps.out()).getAsJsonObject().getAsJsonArray("profiles").get(0).getAsJsonObject();
        Path root = Path.of(p.getAsJsonObject("root").get("path").getAsString());
        pkg = work.resolve("linux-sid-rust");
        Rkmod.Result c = Rkmod.jar(Map.of(), "headers", "complete", "--distro", "debian-sid", "--out", pkg.toString(), "-q");
        assertThat(c.exit()).as(c.err()).isZero();
        release = Files.readString(pkg.resolve("include/config/kernel.release")).strip();
        Path dir = Files.createDirectories(work.resolve("rust_configfs"));
        Path src = ItSetup.fromKernelSource(root, work.resolve("src"), "samples/rust/*");
        Files.copy(src.resolve("samples/rust/rust_configfs.rs"), dir.resolve("rust_configfs.rs"));
        Files.writeString(dir.resolve("Kbuild"), "obj-m := rust_configfs.o\n");
        Rkmod.Result b = Rkmod.jar(Map.of(), "build", dir.toString(), "--kdir", pkg.toString(), "-q");
        assertThat(b.exit()).as(b.out() + b.err()).isZero();
        ko = dir.resolve("rust_configfs.ko");
        Rkmod.Result info = Rkmod.jar(Map.of(), "info", ko.toString());
        assertThat(info.out()).containsPattern("(?m)^depends:\\s+configfs$");
        // the sample's subsystem is "rust_configfs" (configfs::Subsystem::new(c"rust_configfs", ...)); mkdir in it makes
        // a Child group with the attribute baz; the subsystem's own attributes are message (read) and bar (read, write)
        script = Files.writeString(work.resolve("configfs.sh"), """
                #!/bin/sh
                set -e
                c=/sys/kernel/config/rust_configfs
                grep -q ' /sys/kernel/config configfs ' /proc/mounts && echo "configfs is mounted"
                mkdir $c/rkmod_group
                echo "group rkmod_group has: $(ls $c/rkmod_group)"
                echo "baz: $(cat $c/rkmod_group/baz)"
                echo "message: $(cat $c/message)"
                printf 'written by rkmod' > $c/bar
                echo "bar: $(cat $c/bar)"
                rmdir $c/rkmod_group
                [ ! -e $c/rkmod_group ] && echo "group removed"
                """);
    }

    @Test
    @Order(1)
    void rustConfigfsLoadsAfterConfigfsFromDebiansModulesAndARunScriptMakesAGroup() throws Exception {
        Rkmod.Result r = Rkmod.jar(Map.of(), "vmtest", ko.toString(), "--kdir", pkg.toString(), "--run", script.toString(),
                "--expect", "rust_configfs: Rust configfs sample \\(init\\)", "--timeout", "240");
        System.out.println("DistroDependenciesIT: vmtest of rust_configfs with configfs on Debian's kernel: " + r.millis()
                + " ms" + (r.err().contains("downloading Debian sid's modules") ? " (modules package downloaded)" : ""));
        assertThat(r.exit()).as(r.out() + r.err()).isZero();
        String s = "[" + script + "] ";
        assertThat(r.out())
                .contains("dependencies loaded first, from Debian sid's linux-modules-" + release + " ")
                .contains(": configfs (kernel/fs/configfs/configfs.ko.xz, for rust_configfs)")
                .contains("rust_configfs: Rust configfs sample (init)")
                .contains(s + "configfs is mounted")
                .contains(s + "group rkmod_group has: baz")
                .contains(s + "baz: Hello Baz")
                .contains("rust_configfs: Show baz")
                .contains(s + "message: Hello World")
                .contains("rust_configfs: Store bar")
                .contains(s + "bar: written by rkmod")
                .contains(s + "group removed")
                .containsPattern("insmod configfs \\(a dependency\\) +status 0\n  insmod rust_configfs +status 0\n")
                .containsPattern("rmmod  rust_configfs +status 0\n  rmmod  configfs \\(a dependency\\) +status 0\n")
                .contains("verdict: PASS")
                .doesNotContain("Unknown symbol");
        // configfs came from Debian's modules package, as the cache entry records it
        Properties origin = modulesOrigin();
        assertThat(origin.getProperty("package")).isEqualTo("linux-modules-" + release);
        assertThat(origin.getProperty("path")).isEqualTo("usr/lib/modules/" + release);
        assertThat(Integer.parseInt(origin.getProperty("modules"))).as("the whole modules package").isGreaterThan(1000);
        assertThat(origin.getProperty("depmod")).as("Debian's package has no modules.dep").isEqualTo("true");
    }

    @Test
    @Order(2)
    void aSecondRunNeedsNoNetwork() throws Exception {
        String java = ProcessHandle.current().info().command().orElse("java");
        List<String> argv = new ArrayList<>(List.of("unshare", "--net", java, "-jar", Rkmod.jar().toString(), "vmtest",
                ko.toString(), "--kdir", pkg.toString(), "--timeout", "240", "--json"));
        Rkmod.Result r = Rkmod.exec(argv, Map.of(), 600);
        System.out.println("DistroDependenciesIT: second vmtest, without a network: " + r.millis() + " ms");
        assertThat(r.exit()).as(r.out() + r.err()).isZero();
        assertThat(r.err()).doesNotContain("downloading");
        JsonObject v = Rkmod.json(r);
        assertThat(v.getAsJsonArray("dependencies")).hasSize(1);
        JsonObject d = v.getAsJsonArray("dependencies").get(0).getAsJsonObject();
        assertThat(d.get("name").getAsString()).isEqualTo("configfs");
        assertThat(d.get("source").getAsString()).startsWith("Debian sid's linux-modules-" + release + " ");
        assertThat(v.getAsJsonArray("steps").toString())
                .contains("{\"action\":\"insmod\",\"module\":\"configfs\",\"status\":0}")
                .contains("{\"action\":\"rmmod\",\"module\":\"configfs\",\"status\":0}");
        assertThat(v.getAsJsonArray("moduleLines").toString()).contains("rust_configfs: Rust configfs sample (init)");
    }

    /** The origin the cached Debian modules (kind distro-modules) of this release record. */
    static Properties modulesOrigin() throws Exception {
        Path dir = ItSetup.distroModules(release);
        assertThat(dir.resolve("kernel/fs/configfs/configfs.ko.xz")).isRegularFile();
        Properties p = new Properties();
        try (var in = Files.newBufferedReader(dir.getParent().getParent().getParent().resolve("origin.properties"))) {
            p.load(in);
        }
        return p;
    }
}
