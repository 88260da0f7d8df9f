package dev.rkmod.it;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import org.assertj.core.api.SoftAssertions;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The kernel's own Rust samples as a corpus of real modules: every {@code samples/rust/*.rs} of a profile's kernel
 * source, taken at test time (Debian sid's from the root's linux-source tarball, the tiny-rust kernels' from their
 * cached trees; no GPL source in this repository), built out of tree against that profile's package with one Kbuild
 * derived from the samples' own Makefile, and loaded on that profile's kernel (Debian's own image for sid) with the
 * devices and programs each needs, independent modules together in as few VMs as sensible, each with assertions of its
 * own. Prints a table: sample, built, loaded, what was checked; samples that cannot run here are listed with the reason.
 */
class SamplesCorpusIT {
    @ItSetup.Work("rkmod-corpus")
    static Path work;

    /** One row of the table. */
    static final class Row {
        final String sample;
        String built = "-";
        String loaded = "-";
        final List<String> checked = new ArrayList<>();

        Row(String sample) {
            this.sample = sample;
        }
    }

    /** Samples that this test does not build or load, and why (checked against the source, so a stale entry fails). */
    static final Map<String, String> NOT_HERE = Map.of(
            "hostprogs", "host programs, built by the kernel's own make (CONFIG_SAMPLE_RUST_HOSTPROGS) as programs of the"
                    + " build machine, not modules");

    /** The row of a directory of samples/rust: skipped, with the reason and what it holds. */
    static Row directoryRow(Path d, SoftAssertions soft) throws Exception {
        String name = d.getFileName().toString();
        Row r = new Row(name + "/");
        r.built = "skipped";
        List<String> files;
        try (Stream<Path> s = Files.list(d)) {
            files = s.map(f -> f.getFileName().toString()).filter(f -> f.endsWith(".rs")).sorted().toList();
        }
        r.checked.add(NOT_HERE.getOrDefault(name, "a directory this test does not know") + " (" + String.join(", ", files) + ")");
        soft.assertThat(NOT_HERE).as("a reason for samples/rust/" + name).containsKey(name);
        return r;
    }

    /** The kernel's samples: each module with its sources, read from samples/rust/Makefile (obj-… += X.o, X-y := …). */
    static Map<String, List<String>> samples(Path dir) throws Exception {
        String mk = Files.readString(dir.resolve("Makefile"));
        Map<String, List<String>> out = new LinkedHashMap<>();
        Matcher m = Pattern.compile("(?m)^obj-\\$\\(CONFIG_\\w+\\)\\s*\\+=\\s*(\\w+)\\.o\\s*$").matcher(mk);
        while (m.find()) {
            String name = m.group(1);
            Matcher parts = Pattern.compile("(?m)^" + name + "-y\\s*:=\\s*(.+)$").matcher(mk);
            List<String> sources = new ArrayList<>();
            if (parts.find()) {
                for (String o : parts.group(1).trim().split("\\s+")) {
                    String base = o.replaceAll("\\.o$", "");
                    sources.add(Files.exists(dir.resolve(base + ".rs")) ? base + ".rs" : base + ".c");
                }
            } else {
                sources.add(name + ".rs");
            }
            out.put(name, sources);
        }
        // every .rs of the directory belongs to a module of the Makefile
        try (Stream<Path> s = Files.list(dir)) {
            for (Path rs : s.filter(p -> p.toString().endsWith(".rs")).toList()) {
                String f = rs.getFileName().toString();
                assertThat(out.values().stream().anyMatch(l -> l.contains(f))).as(f + " is in samples/rust/Makefile").isTrue();
            }
        }
        return out;
    }

    /** A Kbuild for {@code names}, from the samples' Makefile: obj-m for each, and the Makefile's ccflags and composites. */
    static String kbuild(Path dir, List<String> names) throws Exception {
        StringBuilder k = new StringBuilder();
        for (String line : Files.readAllLines(dir.resolve("Makefile"))) {
            if (line.startsWith("ccflags-y") || line.matches("\\w+-y\\s*:=.*") && names.contains(line.split("-y")[0])) {
                k.append(line).append('\n');
            }
        }
        names.forEach(n -> k.append("obj-m += ").append(n).append(".o\n"));
        return k.toString();
    }

    static Path copySamples(Path from, Path to, Map<String, List<String>> samples, List<String> names) throws Exception {
        Files.createDirectories(to);
        for (String n : names) {
            for (String f : samples.get(n)) {
                Files.copy(from.resolve(f), to.resolve(f));
            }
        }
        Files.writeString(to.resolve("Kbuild"), kbuild(from, names));
        return to;
    }

    static void printTable(String profile, Map<String, Row> rows) {
        StringBuilder t = new StringBuilder("SamplesCorpusIT, " + profile + ":\n");
        t.append(String.format("  %-24s %-26s %-30s %s%n", "sample", "built", "loaded", "checked"));
        for (Row r : rows.values()) {
            t.append(String.format("  %-24s %-26s %-30s %s%n", r.sample, r.built, r.loaded, String.join("; ", r.checked)));
        }
        System.out.print(t);
    }

    // ---- Debian sid's 7.2 ----

    /** rust_misc_device's ioctls, as its doc comment lists them, from a program of our own. */
    static final String MISC_C = """
            #include <errno.h>
            #include <fcntl.h>
            #include <stdio.h>
            #include <string.h>
            #include <sys/ioctl.h>
            #include <unistd.h>

            #define HELLO _IO('|', 0x80)
            #define GET_VALUE _IOR('|', 0x81, int)
            #define SET_VALUE _IOW('|', 0x82, int)
            #define UNKNOWN _IO('|', 0)

            static int failed(const char *what) {
                printf("FAILED: %s: %s\\n", what, strerror(errno));
                return 1;
            }

            int main(void) {
                setvbuf(stdout, NULL, _IOLBF, 0);
                int fd = open("/dev/rust-misc-device", O_RDWR);
                if (fd < 0)
                    return failed("open /dev/rust-misc-device");
                printf("opened /dev/rust-misc-device\\n");
                if (ioctl(fd, HELLO, NULL) < 0)
                    return failed("ioctl hello");
                printf("hello: ok\\n");
                int v = -1, w = -1;
                if (ioctl(fd, GET_VALUE, &v) < 0)
                    return failed("ioctl get");
                printf("get: %d\\n", v);
                v += 41;
                if (ioctl(fd, SET_VALUE, &v) < 0 || ioctl(fd, GET_VALUE, &w) < 0)
                    return failed("ioctl set, get");
                printf("set %d, get: %d\\n", v, w);
                if (w != v)
                    return 2;
                if (ioctl(fd, UNKNOWN, NULL) == 0)
                    return failed("the unknown ioctl succeeded");
                printf("unknown ioctl refused: %s\\n", strerror(errno));
                const char msg[] = "written by rkmod";
                if (write(fd, msg, sizeof msg - 1) != (ssize_t) (sizeof msg - 1))
                    return failed("write");
                char buf[64] = {0};
                lseek(fd, 0, SEEK_SET);
                printf("read back %zd bytes: %s\\n", read(fd, buf, sizeof buf - 1), buf);
                close(fd);
                printf("closed\\n");
                return 0;
            }
            """;

    static final String PCI_SH = """
            #!/bin/sh
            # rust_driver_pci, loaded first, bound every pci-testdev: give the second to rust_dma, the third to
            # rust_driver_auxiliary (all three match 1b36:0005)
            set -e
            d=/sys/bus/pci/devices
            set -- $(for x in $d/*; do [ "$(cat $x/vendor):$(cat $x/device)" = 0x1b36:0x0005 ] && basename $x; done)
            echo "pci-testdevs: $*"
            echo $2 > /sys/bus/pci/drivers/rust_driver_pci/unbind
            echo $2 > /sys/bus/pci/drivers/rust_dma/bind
            echo $3 > /sys/bus/pci/drivers/rust_driver_pci/unbind
            echo $3 > /sys/bus/pci/drivers/rust_driver_auxiliary/bind
            for x in "$@"; do echo "$x bound to $(basename "$(readlink $d/$x/driver)")"; done
            """;

    static final String DEBUGFS_SH = """
            #!/bin/sh
            set -e
            c=/sys/kernel/debug/rust_scoped_debugfs
            echo "rkmod 7 8" > $c/control/create
            echo "created: $(ls $c/dynamic/rkmod | tr '\\n' ' ')"
            echo "rkmod/1: $(cat $c/dynamic/rkmod/1)"
            echo rkmod > $c/control/remove
            [ ! -e $c/dynamic/rkmod ] && echo "removed"
            """;

    static final String CONFIGFS_SH = """
            #!/bin/sh
            set -e
            c=/sys/kernel/config/rust_configfs
            mkdir $c/rkmod_group
            echo "group has: $(ls $c/rkmod_group); baz: $(cat $c/rkmod_group/baz)"
            printf 'written by rkmod' > $c/bar
            echo "message: $(cat $c/message); bar: $(cat $c/bar)"
            rmdir $c/rkmod_group
            """;

    static final String PLATFORM_SH = """
            #!/bin/sh
            # bind two platform devices that have no driver to the samples' platform drivers (driver_override)
            set -e
            free=
            for d in /sys/bus/platform/devices/*; do [ -e $d/driver ] || free="$free $(basename $d)"; done
            echo "platform devices without a driver:$free"
            set -- $free
            echo rust_driver_platform > /sys/bus/platform/devices/$1/driver_override
            echo $1 > /sys/bus/platform/drivers_probe
            echo "platform $1 bound to $(basename "$(readlink /sys/bus/platform/devices/$1/driver)")"
            echo "i2c adapters: $(cat /sys/bus/i2c/devices/i2c-*/name | tr '\\n' ' ')"
            echo rust_device_i2c > /sys/bus/platform/devices/$2/driver_override
            echo $2 > /sys/bus/platform/drivers_probe
            echo "platform $2 bound to $(basename "$(readlink /sys/bus/platform/devices/$2/driver)")"
            for c in /sys/bus/i2c/devices/[0-9]*-[0-9]*; do
                echo "i2c client $(basename $c) $(cat $c/name) bound to $(basename "$(readlink $c/driver)")"
            done
            """;

    @Test
    void everySampleOfDebianSidBuildsAndLoadsOnDebiansKernel() throws Exception {
        Rkmod.Result deps = Rkmod.jar(Map.of(), "deps", "--install", "--profile", "debian-sid", "--json");
        boolean refused = deps.exit() == 3 && deps.err().contains("never builds with a near miss");
        if (refused) {
            System.out.println("SamplesCorpusIT case: REFUSAL: " + deps.err().strip());
        }
        Assumptions.assumeFalse(refused, "the sid archive no longer carries the kernel's exact toolchain");
        assertThat(deps.exit()).as(deps.err()).isZero();
        JsonObject p = JsonParser.parseString(deps.out()).getAsJsonObject().getAsJsonArray("profiles").get(0).getAsJsonObject();
        Path root = Path.of(p.getAsJsonObject("root").get("path").getAsString());
        Path pkg = work.resolve("linux-sid-rust");
        Rkmod.Result c = Rkmod.jar(Map.of(), "headers", "complete", "--distro", "debian-sid", "--out", pkg.toString(), "-q");
        assertThat(c.exit()).as(c.err()).isZero();
        String release = Files.readString(pkg.resolve("include/config/kernel.release")).strip();
        long t0 = System.nanoTime();
        Path src = ItSetup.fromKernelSource(root, work.resolve("src"), "samples/rust/*").resolve("samples/rust");
        long extractMs = (System.nanoTime() - t0) / 1_000_000;
        Map<String, List<String>> samples = samples(src);
        Map<String, Row> rows = new LinkedHashMap<>();
        samples.keySet().forEach(n -> rows.put(n, new Row(n)));
        SoftAssertions soft = new SoftAssertions();

        // not modules: listed with the reason; each entry must still exist in the source
        try (Stream<Path> s = Files.list(src)) {
            for (Path d : s.filter(Files::isDirectory).toList()) {
                rows.put(d.getFileName() + "/", directoryRow(d, soft));
            }
        }

        // the kernel crate leaves these out by config on Debian's kernel: the build fails with the option named
        Map<String, String> gated = new LinkedHashMap<>();
        gated.put("rust_driver_usb", "kernel::usb exists only with CONFIG_USB=y; this kernel has CONFIG_USB=m");
        gated.put("rust_soc", "kernel::soc exists only with CONFIG_SOC_BUS");
        for (Map.Entry<String, String> g : gated.entrySet()) {
            Path dir = copySamples(src, work.resolve("gated").resolve(g.getKey()), samples, List.of(g.getKey()));
            Rkmod.Result b = Rkmod.jar(Map.of(), "build", dir.toString(), "--kdir", pkg.toString());
            Row r = rows.get(g.getKey());
            r.built = "no: exit " + b.exit() + " (as expected)";
            r.loaded = "- (cannot build here)";
            r.checked.add("the explanation: " + g.getValue().replaceAll(";.*", "") + ", #[cfg(CONFIG_…)] named");
            soft.assertThat(b.exit()).as(g.getKey() + " build exit").isEqualTo(4);
            soft.assertThat(b.out() + b.err()).as(g.getKey()).contains(g.getValue()).contains("#[cfg(CONFIG_");
        }

        // the rest together, in one directory with one Kbuild
        List<String> buildable = samples.keySet().stream().filter(n -> !gated.containsKey(n)).toList();
        Path all = copySamples(src, work.resolve("samples"), samples, buildable);
        t0 = System.nanoTime();
        Rkmod.Result b = Rkmod.jar(Map.of(), "build", all.toString(), "--kdir", pkg.toString(), "-q");
        long buildMs = (System.nanoTime() - t0) / 1_000_000;
        assertThat(b.exit()).as(b.out() + b.err()).isZero();
        for (String n : buildable) {
            rows.get(n).built = Files.isRegularFile(all.resolve(n + ".ko")) ? "yes" : "no";
            soft.assertThat(all.resolve(n + ".ko")).as(n).isRegularFile();
        }

        Path misc = work.resolve("misc");
        Files.writeString(work.resolve("misc.c"), MISC_C);
        ItSetup.run(List.of("gcc", "-static", "-O2", "-o", misc.toString(), work.resolve("misc.c").toString()));
        Path pci = script("pci.sh", PCI_SH);
        Path debugfs = script("debugfs.sh", DEBUGFS_SH);
        Path configfs = script("configfs.sh", CONFIGFS_SH);
        Path platform = script("platform.sh", PLATFORM_SH);

        // VM 1: every module that needs no other module of the kernel's but configfs, with three pci-testdevs (for the
        // three PCI drivers) and the programs; rust_driver_pci first, so that it binds the devices the script hands on
        List<String> vm1 = new ArrayList<>(List.of("rust_minimal", "rust_print", "rust_misc_device", "rust_debugfs_scoped",
                "rust_driver_faux", "rust_configfs", "rust_driver_pci", "rust_dma", "rust_driver_auxiliary"));
        List<String> vm2 = new ArrayList<>(List.of("rust_driver_i2c", "rust_i2c_client", "rust_driver_platform", "rust_debugfs"));
        // a sample this test does not know yet goes into the first VM: loaded and unloaded, its own lines checked
        for (String n : buildable) {
            if (!vm1.contains(n) && !vm2.contains(n)) {
                vm1.add(0, n);
            }
        }
        vm1.retainAll(buildable);
        vm2.retainAll(buildable);
        List<String> args = new ArrayList<>();
        vm1.forEach(n -> args.add(all.resolve(n + ".ko").toString()));
        args.addAll(List.of("--kdir", pkg.toString(), "--device", "pci-testdev", "--device", "pci-testdev", "--device",
                "pci-testdev", "--run", misc.toString(), "--run", pci.toString(), "--run", debugfs.toString(), "--run",
                configfs.toString(), "--timeout", "300"));
        Rkmod.Result v1 = vmtest(args);
        String o1 = v1.out();
        String log1 = consoleLog(o1);
        soft.assertThat(v1.exit()).as("VM 1: " + o1 + v1.err()).isZero();
        soft.assertThat(o1).as("VM 1").contains("verdict: PASS");
        for (String n : vm1) {
            rows.get(n).loaded = loaded(o1, n, "VM 1 (" + v1.millis() / 100 / 10.0 + " s)");
            soft.assertThat(o1).as(n).containsPattern("insmod " + n + " +status 0").containsPattern("rmmod  " + n + " +status 0");
        }
        String s = "] ";
        check(soft, rows, "rust_minimal", o1, "init, exit and its numbers", "rust_minimal: Rust minimal sample (init)",
                "rust_minimal: My numbers are [72, 108, 200]", "rust_minimal: Rust minimal sample (exit)");
        check(soft, rows, "rust_print", o1, "every level, Arc<dyn Display>, exit", "rust_print: Rust printing macros sample (init)",
                "rust_print: Emergency message (level 0) with args", "rust_print: Arc<dyn Display> says 42",
                "rust_print: Rust printing macros sample (exit)");
        check(soft, rows, "rust_misc_device", o1, "a static C program (--run) opened /dev/rust-misc-device: hello, get,"
                        + " set, get, an unknown ioctl refused, write and read back",
                "rust_misc_device: Initialising Rust Misc Device Sample", s + "hello: ok", s + "set 41, get: 41",
                s + "unknown ioctl refused: Inappropriate ioctl for device", s + "read back 16 bytes: written by rkmod",
                "run    " + misc + " ");
        check(soft, rows, "rust_misc_device", log1, "the driver's own lines (console log)",
                "misc rust-misc-device: -> Hello from the Rust Misc Device", "misc rust-misc-device: Exiting the Rust Misc Device Sample");
        check(soft, rows, "rust_debugfs_scoped", o1, "a script made and removed a scoped debugfs directory",
                s + "created: 0 1 blob", s + "rkmod/1: 8", s + "removed");
        check(soft, rows, "rust_driver_faux", log1, "its faux device probed (console log)",
                "rust_faux_driver: Initialising Rust Faux Device Sample", "faux_driver rust-faux-sample-device: Hello from faux device!");
        check(soft, rows, "rust_configfs", o1, "configfs loaded first from Debian's " + "linux-modules-" + release
                        + "; a script made a group under /sys/kernel/config",
                "dependencies loaded first, from Debian sid's linux-modules-" + release + " ",
                "configfs (kernel/fs/configfs/configfs.ko.xz, for rust_configfs)",
                s + "group has: baz; baz: Hello Baz", s + "message: Hello World; bar: written by rkmod",
                "rust_configfs: Store bar");
        soft.assertThat(o1).as("configfs").containsPattern("rmmod  configfs \\(a dependency\\) +status 0");
        checkPattern(soft, rows, "rust_driver_pci", o1, "probed a pci-testdev (--device pci-testdev)",
                "rust_driver_pci 0000:00:0\\d\\.0: pci-testdev config space read16 vendor ID: 1b36");
        checkPattern(soft, rows, "rust_dma", o1, "probed a pci-testdev handed over by the script, its DMA checked at unbind",
                "rust_dma 0000:00:0\\d\\.0: Probe DMA test driver\\.", "rust_dma 0000:00:0\\d\\.0: Unload DMA test driver\\.",
                "rust_dma 0000:00:0\\d\\.0: Entry\\[0\\]: DMA address: 0x");
        checkPattern(soft, rows, "rust_driver_auxiliary", o1, "probed a pci-testdev, registered two auxiliary devices and"
                        + " its auxiliary driver connected to both",
                "rust_driver_auxiliary 0000:00:0\\d\\.0: Connected to auxiliary device with index 0\\.",
                "rust_driver_auxiliary 0000:00:0\\d\\.0: Connected to auxiliary device with index 1\\.");
        checkPattern(soft, rows, "rust_driver_auxiliary", log1, "the auxiliary driver's probe lines (console log)",
                "rust_driver_auxiliary\\.auxiliary\\.1: Probing auxiliary driver for auxiliary device with id=1");
        soft.assertThat(o1).as("the script handed the devices on").containsPattern("0000:00:0\\d\\.0 bound to rust_dma")
                .containsPattern("0000:00:0\\d\\.0 bound to rust_driver_auxiliary");

        // VM 2: the platform and I2C drivers; i2c-stub (Debian's, from the modules vmtest cached in VM 1) gives an I2C
        // adapter, a script binds platform devices without a driver to the samples' platform drivers
        Path stub = work.resolve("i2c-stub.ko");
        Path mods = ItSetup.distroModules(release);
        ItSetup.run(List.of("sh", "-c", "xz -dc \"$1\" > \"$2\"", "sh", mods.resolve("kernel/drivers/i2c/i2c-stub.ko.xz").toString(),
                stub.toString()));
        List<String> args2 = new ArrayList<>(List.of(stub + ":chip_addr=0x30"));
        vm2.forEach(n -> args2.add(all.resolve(n + ".ko").toString()));
        args2.addAll(List.of("--kdir", pkg.toString(), "--run", platform.toString(), "--timeout", "300"));
        Rkmod.Result v2 = vmtest(args2);
        String o2 = v2.out();
        String log2 = consoleLog(o2);
        soft.assertThat(v2.exit()).as("VM 2: " + o2 + v2.err()).isZero();
        for (String n : vm2) {
            rows.get(n).loaded = loaded(o2, n, "VM 2 (" + v2.millis() / 100 / 10.0 + " s)");
            soft.assertThat(o2).as(n).containsPattern("insmod " + n + " +status 0").containsPattern("rmmod  " + n + " +status 0");
        }
        check(soft, rows, "rust_i2c_client", o2, "bound by a script (driver_override) to a platform device, it"
                        + " registered an I2C client rust_driver_i2c on i2c-stub's adapter",
                s + "i2c adapters: SMBus stub driver", "bound to rust_device_i2c",
                s + "i2c client 0-0030 rust_driver_i2c bound to rust_driver_i2c");
        check(soft, rows, "rust_i2c_client", log2, "its probe line (console log)", "Probe Rust I2C Client registration sample.");
        check(soft, rows, "rust_driver_i2c", o2, "probed the client rust_i2c_client registered, unbound at its rmmod",
                "rust_driver_i2c 0-0030: Probe Rust I2C driver sample.", "rust_driver_i2c 0-0030: Probed with info: '0'.",
                "rust_driver_i2c 0-0030: Unbind Rust I2C driver sample.");
        check(soft, rows, "rust_driver_platform", o2, "bound by a script (driver_override) to a platform device",
                "bound to rust_driver_platform");
        rows.get("rust_debugfs").checked.add("loaded and unloaded only: its probe reads the firmware node's 'compatible'"
                + " property (an ACPI device LNUXBEEF with _DSD, from a custom SSDT), which QEMU gets only with -acpitable");

        printTable("Debian sid " + release + " (source extracted in " + extractMs + " ms, " + buildable.size()
                + " samples built in " + buildMs + " ms)", rows);
        soft.assertAll();
    }

    // ---- the tiny-rust kernels (6.1, 6.12): their samples come from the cached kernel trees ----

    @ParameterizedTest
    @ValueSource(strings = {"6.1", "6.12"})
    void everySampleOfTheTinyRustKernelBuildsAgainstItsPackageAndLoads(String profile) throws Exception {
        Path tree = ItSetup.kernel(profile);
        Path pkg = ItSetup.pack(tree, work.resolve("pkg-" + profile));
        String release = Files.readString(tree.resolve("include/config/kernel.release")).strip();
        Path src = tree.resolve("samples/rust");
        Map<String, List<String>> samples = samples(src);
        Map<String, Row> rows = new LinkedHashMap<>();
        samples.keySet().forEach(n -> rows.put(n, new Row(n)));
        SoftAssertions soft = new SoftAssertions();
        try (Stream<Path> st = Files.list(src)) {
            for (Path d : st.filter(Files::isDirectory).toList()) {
                rows.put(d.getFileName() + "/", directoryRow(d, soft));
            }
        }
        List<String> names = List.copyOf(samples.keySet());
        Path all = copySamples(src, work.resolve("tiny-" + profile), samples, names);
        Rkmod.Result b = Rkmod.jar(Map.of(), "build", all.toString(), "--kdir", pkg.toString(), "-q");
        assertThat(b.exit()).as(b.out() + b.err()).isZero();
        List<String> args = new ArrayList<>(List.of("vmtest"));
        for (String n : names) {
            rows.get(n).built = Files.isRegularFile(all.resolve(n + ".ko")) ? "yes" : "no";
            soft.assertThat(all.resolve(n + ".ko")).as(n).isRegularFile();
            args.add(all.resolve(n + ".ko").toString());
        }
        // the tiny kernel of the cached tree (built without PCI, debugfs or configfs: nothing else to give them)
        args.addAll(List.of("--kdir", tree.toString(), "--timeout", "120"));
        Rkmod.Result v = Rkmod.jar(Map.of(), args.toArray(String[]::new));
        soft.assertThat(v.exit()).as(v.out() + v.err()).isZero();
        for (String n : names) {
            rows.get(n).loaded = loaded(v.out(), n, "one VM (" + v.millis() / 100 / 10.0 + " s)");
            soft.assertThat(v.out()).as(n).containsPattern("insmod " + n + " +status 0").containsPattern("rmmod  " + n + " +status 0");
            rows.get(n).checked.add("its insmod and rmmod, no kernel error");
        }
        check(soft, rows, "rust_minimal", v.out(), "init and exit lines", "rust_minimal: Rust minimal sample (init)",
                "rust_minimal: Rust minimal sample (exit)");
        check(soft, rows, "rust_print", v.out(), "init and exit lines", "rust_print: Rust printing macros sample (init)",
                "rust_print: Rust printing macros sample (exit)");
        printTable("tiny-rust " + profile + " (Linux " + release + ")", rows);
        soft.assertAll();
    }

    private static Path script(String name, String text) throws Exception {
        Path f = Files.writeString(work.resolve(name), text);
        f.toFile().setExecutable(true);
        return f;
    }

    private static Rkmod.Result vmtest(List<String> args) throws Exception {
        List<String> a = new ArrayList<>(List.of("vmtest"));
        a.addAll(args);
        return Rkmod.jar(Map.of(), a.toArray(String[]::new));
    }

    /** The console log a vmtest printed the path of (what the user opens for lines the summary leaves out). */
    static String consoleLog(String out) throws Exception {
        Matcher m = Pattern.compile("(?m)^console log: (\\S+)$").matcher(out);
        return m.find() ? Files.readString(Path.of(m.group(1))) : "";
    }

    private static String loaded(String out, String n, String where) {
        boolean in = Pattern.compile("insmod " + n + " +status 0").matcher(out).find();
        boolean outOk = Pattern.compile("rmmod  " + n + " +status 0").matcher(out).find();
        return in && outOk ? "yes, " + where : in ? "loaded, rmmod failed, " + where : "no, " + where;
    }

    private static void check(SoftAssertions soft, Map<String, Row> rows, String n, String text, String what, String... lines) {
        Row r = rows.get(n);
        if (r == null) {
            return;
        }
        boolean all = true;
        for (String l : lines) {
            soft.assertThat(text).as(n + ": " + what).contains(l);
            all &= text.contains(l);
        }
        r.checked.add(what + (all ? "" : " (MISSING)"));
    }

    private static void checkPattern(SoftAssertions soft, Map<String, Row> rows, String n, String text, String what,
                                     String... patterns) {
        Row r = rows.get(n);
        if (r == null) {
            return;
        }
        boolean all = true;
        for (String p : patterns) {
            soft.assertThat(text).as(n + ": " + what).containsPattern(p);
            all &= Pattern.compile(p).matcher(text).find();
        }
        r.checked.add(what + (all ? "" : " (MISSING)"));
    }
}
