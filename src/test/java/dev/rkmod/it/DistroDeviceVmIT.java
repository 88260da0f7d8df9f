package dev.rkmod.it;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The kernel's own samples/rust/rust_driver_pci.rs, taken from the Debian sid root's linux-source tarball at test time
 * (no GPL source in this repository), built out of tree against the completed sid package and loaded on Debian's own
 * vmlinuz: with {@code --device pci-testdev} it probes QEMU's test device and prints its vendor ID, and a {@code --run}
 * script sees the device bound to it; without the device it never probes, and the expected line fails the verdict.
 * Skipped (with the reason printed) when the sid archive no longer carries the kernel's exact toolchain, as
 * DistroKernelIT's refusal case.
 */
class DistroDeviceVmIT {
    static final String VENDOR_LINE = "pci-testdev config space read16 vendor ID: 1b36";

    @ItSetup.Work("rkmod-distro-device")
    static Path work;
    static Path root;
    static Path pkg;
    static Path ko;

    @BeforeAll
    static void driver() throws Exception {
        Rkmod.Result deps = Rkmod.jar(Map.of(), "deps", "--install", "--profile", "debian-sid", "--json");
        boolean refused = deps.exit() == 3 && deps.err().contains("never builds with a near miss");
        if (refused) {
            System.out.println("DistroDeviceVmIT case: REFUSAL: " + deps.err().strip());
        }
        Assumptions.assumeFalse(refused, "the sid archive no longer carries the kernel's exact toolchain");
        assertThat(deps.exit()).as(deps.err()).isZero();
        JsonObject p = JsonParser.parseString(deps.out()).getAsJsonObject().getAsJsonArray("profiles").get(0).getAsJsonObject();
        root = Path.of(p.getAsJsonObject("root").get("path").getAsString());
        pkg = work.resolve("linux-sid-rust");
        Rkmod.Result c = Rkmod.jar(Map.of(), "headers", "complete", "--distro", "debian-sid", "--out", pkg.toString(), "-q");
        assertThat(c.exit()).as(c.err()).isZero();
        Path dir = Files.createDirectories(work.resolve("rust_driver_pci"));
        extractFromSource("samples/rust/rust_driver_pci.rs", dir.resolve("rust_driver_pci.rs"));
        Files.writeString(dir.resolve("Kbuild"), "obj-m := rust_driver_pci.o\n");
        Rkmod.Result b = Rkmod.jar(Map.of(), "build", dir.toString(), "--kdir", pkg.toString(), "-q");
        assertThat(b.exit()).as(b.out() + b.err()).isZero();
        ko = dir.resolve("rust_driver_pci.ko");
    }

    @Test
    void rustDriverPciProbesPciTestdevAndARunScriptSeesItBound() throws Exception {
        Path probe = Files.writeString(work.resolve("bound.sh"), """
                #!/bin/sh
                for d in /sys/bus/pci/devices/*; do
                    [ "$(cat $d/vendor)" = 0x1b36 ] || continue
                    echo "device $(basename $d) $(cat $d/vendor):$(cat $d/device) bound to $(basename "$(readlink $d/driver)")"
                done
                grep -q ' /sys/kernel/debug debugfs ' /proc/mounts && echo "debugfs is mounted"
                """);
        Rkmod.Result r = Rkmod.jar(Map.of(), "vmtest", ko.toString(), "--kdir", pkg.toString(), "--device", "pci-testdev",
                "--run", probe.toString(), "--expect", VENDOR_LINE, "--timeout", "180");
        System.out.println("DistroDeviceVmIT: vmtest of rust_driver_pci with pci-testdev on Debian's kernel: " + r.millis() + " ms");
        assertThat(r.exit()).as(r.out() + r.err()).isZero();
        assertThat(r.out()).containsPattern("rust_driver_pci 0000:00:\\d\\d\\.0: " + VENDOR_LINE)
                .containsPattern("\\[" + java.util.regex.Pattern.quote(probe.toString())
                        + "] device 0000:00:\\d\\d\\.0 0x1b36:0x0005 bound to rust_driver_pci")
                .contains("[" + probe + "] debugfs is mounted")
                .contains("verdict: PASS");
    }

    @Test
    void withoutTheDeviceTheDriverNeverProbesAndTheExpectedLineFails() throws Exception {
        Rkmod.Result r = Rkmod.jar(Map.of(), "vmtest", ko.toString(), "--kdir", pkg.toString(), "--expect", VENDOR_LINE,
                "--timeout", "180");
        assertThat(r.exit()).as(r.out() + r.err()).isEqualTo(1);
        assertThat(r.out()).contains("  - expected line not found (in order): " + VENDOR_LINE).doesNotContain("0000:00:");
    }

    @Test
    void aMatrixRowGetsTheDeviceAndRunsTheModulesRkmodTomlProgram() throws Exception {
        Path dir = Files.createDirectories(work.resolve("matrix/rust_driver_pci/tests"));
        Files.copy(ko.resolveSibling("rust_driver_pci.rs"), dir.getParent().resolve("rust_driver_pci.rs"));
        Files.copy(ko.resolveSibling("Kbuild"), dir.getParent().resolve("Kbuild"));
        Files.writeString(dir.resolve("bound.sh"), "#!/bin/sh\nreadlink /sys/bus/pci/drivers/rust_driver_pci/0000:00:0*\n");
        Files.writeString(dir.getParent().resolve("rkmod.toml"), """
                name = "rust_driver_pci"
                [vmtest]
                expect = ["pci-testdev config space read16 vendor ID: 1b36"]
                run = ["tests/bound.sh"]
                """);
        Rkmod.Result r = Rkmod.jar(Map.of(), "matrix", dir.getParent().toString(), "--kernel", "debian-sid", "--device",
                "pci-testdev", "--timeout", "180", "--json");
        System.out.println("DistroDeviceVmIT: matrix row of rust_driver_pci on debian-sid with pci-testdev: " + r.millis() + " ms");
        assertThat(r.exit()).as(r.out() + r.err()).isZero();
        JsonObject row = JsonParser.parseString(r.out()).getAsJsonObject().getAsJsonArray("kernels").get(0).getAsJsonObject();
        assertThat(row.get("status").getAsString()).isEqualTo("pass");
        JsonObject v = row.getAsJsonObject("load").getAsJsonObject("vmtest");
        assertThat(v.getAsJsonArray("moduleLines").toString()).contains(VENDOR_LINE)
                .containsPattern("\\[tests/bound.sh\\] [./]*devices/pci0000:00/0000:00:\\d\\d\\.0");
        assertThat(v.getAsJsonArray("steps").toString()).contains("{\"action\":\"run\",\"module\":\"tests/bound.sh\",\"status\":0}");
        // the first kernel log line of the table is the module's own, never a program's
        assertThat(row.get("firstLine").getAsString()).startsWith("rust_driver_pci 0000:00:");
    }

    /** One file of the kernel source the root's linux-source package ships (as DistroKernelIT takes it). */
    static void extractFromSource(String member, Path dest) throws Exception {
        Path tarball;
        try (Stream<Path> s = Files.list(root.resolve("usr/src"))) {
            tarball = s.filter(p -> p.getFileName().toString().matches("linux-source-.*\\.tar\\.xz")).findFirst().orElseThrow();
        }
        String top = tarball.getFileName().toString().replace(".tar.xz", "");
        Path tmp = Files.createTempDirectory(work, "src");
        ItSetup.run(tmp, List.of("tar", "-xf", tarball.toString(), top + "/" + member));
        Files.copy(tmp.resolve(top).resolve(member), dest);
    }
}
