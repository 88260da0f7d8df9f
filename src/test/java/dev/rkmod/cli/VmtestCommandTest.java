package dev.rkmod.cli;

import dev.rkmod.format.Ktap;
import dev.rkmod.infra.host.Host;
import dev.rkmod.model.FailureCatalogue;
import dev.rkmod.workflow.vm.Accel;
import dev.rkmod.workflow.vm.Reason;
import dev.rkmod.workflow.vm.VmTestWorkflow;
import dev.rkmod.workflow.vm.VmTestWorkflow.Step;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * What vmtest prints for a verdict, byte for byte as before the JSON came from a result record, and how
 * --kvm is parsed.
 */
class VmtestCommandTest {
    @TempDir
    Path fs;

    static final Step INSMOD = new Step("insmod", 1, "demo", 139);
    static final Step RMMOD = new Step("rmmod", 1, "demo", null);

    /** A failed run: insmod crashed, rmmod's marker was garbled, an expected line is missing, KUnit failed. */
    static VmTestWorkflow.Verdict failed() {
        List<Reason> reasons = List.of(new Reason.StepFailed(INSMOD), new Reason.StepFailed(RMMOD),
                new Reason.KernelLog(FailureCatalogue.get().byId("load.crash").orElseThrow(), "kernel BUG at rust/helpers.c:34!"),
                new Reason.ExpectMissing("demo: missing <line> & \"q\""), new Reason.KunitFailed("subtracts"),
                new Reason.KunitFailed("demo_suite"));
        List<Ktap.Result> ktap = List.of(new Ktap.Result(1, 1, "adds", Ktap.Status.PASS, ""),
                new Ktap.Result(1, 2, "subtracts", Ktap.Status.FAIL, ""),
                new Ktap.Result(1, 3, "skipped_one", Ktap.Status.SKIP, "SKIP no hw"),
                new Ktap.Result(0, 1, "demo_suite", Ktap.Status.FAIL, ""));
        return new VmTestWorkflow.Verdict(false, reasons, List.of(INSMOD, RMMOD), List.of("demo: hello"),
                List.of("demo: hello", "demo: missing <line> & \"q\""), ktap, null, Accel.TCG, "6.1.192", Duration.ofMillis(2345));
    }

    static VmTestWorkflow.Verdict passed() {
        return new VmTestWorkflow.Verdict(true, List.of(), List.of(new Step("insmod", 1, "demo", 0),
                new Step("insmod", 2, "second", 0), new Step("rmmod", 2, "second", 0), new Step("rmmod", 1, "demo", 0)),
                List.of("demo: hello", "second: hi", "demo: bye"), List.of("demo: hello", "demo: bye"), List.of(),
                Path.of("/tmp/x/console.log"), Accel.KVM, "6.12.117", Duration.ofMillis(1500));
    }

    static String text(VmTestWorkflow.Verdict v) {
        StringWriter sw = new StringWriter();
        PrintWriter w = new PrintWriter(sw);
        VmtestCommand.text(w, v);
        w.flush();
        return sw.toString();
    }

    @Test
    void jsonOfAFailedVerdictKeepsItsKeysOrderAndNulls() {
        assertThat(Json.GSON.toJson(VmtestCommand.json(failed()))).isEqualTo("""
                {
                  "verdict": "fail",
                  "release": "6.1.192",
                  "accel": "tcg",
                  "millis": 2345,
                  "consoleLog": null,
                  "reasons": [
                    "insmod demo exited with status 139",
                    "rmmod demo: status unknown (its marker line was garbled)",
                    "kernel log: kernel BUG at rust/helpers.c:34!",
                    "expected line not found (in order): demo: missing <line> & \\"q\\"",
                    "KUnit test failed: subtracts",
                    "KUnit test failed: demo_suite"
                  ],
                  "steps": [
                    {
                      "action": "insmod",
                      "module": "demo",
                      "status": 139
                    },
                    {
                      "action": "rmmod",
                      "module": "demo",
                      "status": null
                    }
                  ],
                  "moduleLines": [
                    "demo: hello"
                  ],
                  "ktap": [
                    {
                      "name": "adds",
                      "status": "pass"
                    },
                    {
                      "name": "subtracts",
                      "status": "fail"
                    },
                    {
                      "name": "skipped_one",
                      "status": "skip"
                    },
                    {
                      "name": "demo_suite",
                      "status": "fail"
                    }
                  ],
                  "dependencies": []
                }""");
    }

    @Test
    void jsonOfAPassedVerdict() {
        assertThat(Json.GSON.toJson(VmtestCommand.json(passed()))).isEqualTo("""
                {
                  "verdict": "pass",
                  "release": "6.12.117",
                  "accel": "kvm",
                  "millis": 1500,
                  "consoleLog": "/tmp/x/console.log",
                  "reasons": [],
                  "steps": [
                    {
                      "action": "insmod",
                      "module": "demo",
                      "status": 0
                    },
                    {
                      "action": "insmod",
                      "module": "second",
                      "status": 0
                    },
                    {
                      "action": "rmmod",
                      "module": "second",
                      "status": 0
                    },
                    {
                      "action": "rmmod",
                      "module": "demo",
                      "status": 0
                    }
                  ],
                  "moduleLines": [
                    "demo: hello",
                    "second: hi",
                    "demo: bye"
                  ],
                  "ktap": [],
                  "dependencies": []
                }""");
    }

    @Test
    void textOfAFailedVerdict() {
        assertThat(text(failed())).isEqualTo("""
                kernel log of the module(s):
                  demo: hello
                  insmod demo                     status 139
                  rmmod  demo                     status null
                  kunit  adds                                     pass
                  kunit  subtracts                                fail
                  kunit  skipped_one                              skip
                  kunit  demo_suite                               fail
                verdict: FAIL  (Linux 6.1.192, TCG, 2.3 s)
                  - insmod demo exited with status 139
                  - rmmod demo: status unknown (its marker line was garbled)
                  - kernel log: kernel BUG at rust/helpers.c:34!
                  - expected line not found (in order): demo: missing <line> & "q"
                  - KUnit test failed: subtracts
                  - KUnit test failed: demo_suite
                """);
    }

    @Test
    void textOfAPassedVerdict() {
        assertThat(text(passed())).isEqualTo("""
                kernel log of the module(s):
                  demo: hello
                  second: hi
                  demo: bye
                  insmod demo                     status 0
                  insmod second                   status 0
                  rmmod  second                   status 0
                  rmmod  demo                     status 0
                verdict: PASS  (Linux 6.12.117, KVM, 1.5 s)
                console log: /tmp/x/console.log
                """);
    }

    @Test
    void textAndJsonOfARunWithADependencyNameItAndWhereItCameFrom() {
        String source = "Debian sid's linux-modules-7.2.13+deb14-amd64 7.2.13-1";
        VmTestWorkflow.Verdict v = new VmTestWorkflow.Verdict(true, List.of(), List.of(new Step("insmod", 0, "configfs", 0),
                new Step("insmod", 1, "rust_configfs", 0), new Step("rmmod", 1, "rust_configfs", 0),
                new Step("rmmod", 0, "configfs", 0)), List.of("rust_configfs: Rust configfs sample (init)"), List.of(),
                List.of(), null, Accel.TCG, "7.2.13+deb14-amd64", Duration.ofMillis(5100)).withDependencies(List.of(
                new VmTestWorkflow.Dependency("configfs", "kernel/fs/configfs/configfs.ko.xz",
                        Path.of("/c/kernel/fs/configfs/configfs.ko.xz"), source, List.of("rust_configfs"))));
        assertThat(text(v)).isEqualTo("""
                dependencies loaded first, from Debian sid's linux-modules-7.2.13+deb14-amd64 7.2.13-1: configfs \
                (kernel/fs/configfs/configfs.ko.xz, for rust_configfs)
                kernel log of the module(s):
                  rust_configfs: Rust configfs sample (init)
                  insmod configfs (a dependency)  status 0
                  insmod rust_configfs            status 0
                  rmmod  rust_configfs            status 0
                  rmmod  configfs (a dependency)  status 0
                verdict: PASS  (Linux 7.2.13+deb14-amd64, TCG, 5.1 s)
                """);
        assertThat(Json.GSON.toJson(VmtestCommand.json(v)).replaceAll("\\s+", "")).contains("""
                  "dependencies": [
                    {
                      "name": "configfs",
                      "path": "kernel/fs/configfs/configfs.ko.xz",
                      "source": "Debian sid's linux-modules-7.2.13+deb14-amd64 7.2.13-1",
                      "neededBy": [
                        "rust_configfs"
                      ]
                    }
                  ]""".replaceAll("\\s+", "")).contains("""
                    {
                      "action": "insmod",
                      "module": "configfs",
                      "status": 0
                    },""".replaceAll("\\s+", ""));
    }


    private CliRun vmtest(String... args) {
        Map<String, String> env = new HashMap<>(System.getenv());
        env.put("XDG_CACHE_HOME", fs.resolve("cache").toString());
        List<String> argv = new java.util.ArrayList<>(List.of("vmtest", "x.ko"));
        argv.addAll(List.of(args));
        return CliRun.run(new Host(fs, 1000, env), argv.toArray(String[]::new));
    }

    @Test
    void kvmTakesAutoOnOffInAnyCase() {
        for (String v : List.of("auto", "ON", "Off")) {
            CliRun r = vmtest("--kvm", v);
            // past the option: the next check is the missing kernel
            assertThat(r.exit()).as(v).isEqualTo(2);
            assertThat(r.err()).as(v).contains("No kernel given").doesNotContain("--kvm");
        }
    }

    @Test
    void anotherKvmValueIsAUsageErrorNamingTheChoices() {
        CliRun r = vmtest("--kvm", "maybe");
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).contains("Invalid value for option '--kvm'").contains("[AUTO, ON, OFF] (case-insensitive)")
                .contains("'maybe'");
    }

    @Test
    void textOfARunWithAProgramShowsItsLinesWithTheKernelLog() {
        VmTestWorkflow.Verdict v = new VmTestWorkflow.Verdict(false,
                List.of(new Reason.StepFailed(new Step("run", 1, "tests/ioctl", 3))),
                List.of(new Step("insmod", 1, "demo", 0), new Step("run", 1, "tests/ioctl", 3), new Step("rmmod", 1, "demo", 0)),
                List.of("demo: hello", "[tests/ioctl] opened /dev/demo", "demo: ioctl 0x80", "[tests/ioctl] get: 0"),
                List.of(), List.of(), null, Accel.TCG, "6.1.192", Duration.ofMillis(2100));
        assertThat(text(v)).isEqualTo("""
                kernel log of the module(s), and the output of --run as [FILE] lines:
                  demo: hello
                  [tests/ioctl] opened /dev/demo
                  demo: ioctl 0x80
                  [tests/ioctl] get: 0
                  insmod demo                     status 0
                  run    tests/ioctl              status 3
                  rmmod  demo                     status 0
                verdict: FAIL  (Linux 6.1.192, TCG, 2.1 s)
                  - run tests/ioctl exited with status 3
                """);
    }

    @Test
    void aProgramTheVmCannotRunIsRefusedBeforeTheKernelIsLookedAt() throws Exception {
        // /bin/true is dynamically linked on Debian; no kernel is given, and that is never reached
        CliRun dyn = vmtest("--run", "/bin/true");
        assertThat(dyn.exit()).isEqualTo(2);
        assertThat(dyn.err()).contains("--run /bin/true is dynamically linked: it needs the loader /lib64/ld-linux-x86-64.so.2")
                .contains("checked before booting").contains("It must be static: link it with gcc -static")
                .doesNotContain("No kernel given").doesNotContain("Exception");
        CliRun missing = vmtest("--run", fs.resolve("nope.sh").toString());
        assertThat(missing.exit()).isEqualTo(2);
        assertThat(missing.err()).contains(fs.resolve("nope.sh") + " does not exist");
        Path py = Files.writeString(fs.resolve("t.py"), "#!/usr/bin/python3\nprint('hi')\n");
        if (Files.isRegularFile(Path.of("/bin/busybox"))) {
            CliRun script = vmtest("--run", py.toString());
            assertThat(script.exit()).isEqualTo(2);
            assertThat(script.err()).contains("needs the interpreter /usr/bin/python3, which the test VM does not have")
                    .contains("busybox");
            Path sh = Files.writeString(fs.resolve("t.sh"), "#!/bin/sh\ncat /proc/modules\n");
            CliRun ok = vmtest("--run", sh.toString(), "--device", "pci-testdev");
            assertThat(ok.exit()).isEqualTo(2);
            assertThat(ok.err()).as("accepted: the next check is the missing kernel").contains("No kernel given");
        }
        CliRun json = vmtest("--run", "/bin/true", "--json");
        assertThat(json.exit()).isEqualTo(2);
        assertThat(json.out()).contains("\"exitCode\": 2").contains("dynamically linked");
    }

    @Test
    void aDeviceThatOnlyAsksForHelpIsRefused() {
        for (String d : List.of("help", "pci-testdev,help", "?")) {
            CliRun r = vmtest("--device", d);
            assertThat(r.exit()).as(d).isEqualTo(2);
            assertThat(r.err()).as(d).contains("--device " + d + " asks QEMU for a list, not for a device")
                    .contains("qemu-system-x86_64 -device help");
        }
    }
}
