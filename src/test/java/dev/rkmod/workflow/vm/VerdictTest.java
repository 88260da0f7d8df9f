package dev.rkmod.workflow.vm;

import dev.rkmod.format.Ktap;
import dev.rkmod.infra.process.ProcessResult;
import dev.rkmod.model.Distro;
import dev.rkmod.model.FailureCatalogue;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/** The vmtest verdict on console logs given as strings, including a distro kernel's boot noise. */
class VerdictTest {
    static final String M = InitScript.MARK;
    private static final List<String> MOD = List.of("rust_sid");
    private static final List<Pattern> DEBIAN = Distro.DEBIAN_SID.bootNoise().stream().map(Pattern::compile).toList();

    static ProcessResult console(String... lines) {
        return new ProcessResult(List.of("qemu"), 0, List.of(lines), List.of(), Path.of("/tmp/console.log"),
                Duration.ofSeconds(1), false);
    }

    static ProcessResult timedOut(String... lines) {
        return new ProcessResult(List.of("qemu"), 0, List.of(lines), List.of(), null, Duration.ofSeconds(15), true);
    }

    static VmTestWorkflow.Verdict judge(ProcessResult r, List<String> expect) {
        return ConsoleVerdict.judge(r, MOD, expect, List.of(), Accel.TCG, "6.1.192", Duration.ofSeconds(1));
    }

    static List<String> texts(VmTestWorkflow.Verdict v) {
        return v.reasons().stream().map(Reason::text).toList();
    }

    static List<String> run(List<String> boot, List<String> afterLoad) {
        return texts(runVerdict(boot, afterLoad));
    }

    static VmTestWorkflow.Verdict runVerdict(List<String> boot, List<String> afterLoad) {
        List<String> log = new ArrayList<>(boot);
        log.add(M + " booted");
        log.add(M + " begin insmod 1 rust_sid");
        log.add("[    3.038453] rust_sid: loading out-of-tree module taints kernel.");
        log.add("[    3.038827] rust_sid: module verification failed: signature and/or required key missing - tainting kernel");
        log.add("[    3.040000] rust_sid: Rust out-of-tree module (init)");
        log.addAll(afterLoad);
        log.add(M + " end insmod 1 rust_sid status=0");
        log.add(M + " begin rmmod 1 rust_sid");
        log.add(M + " end rmmod 1 rust_sid status=0");
        log.add(M + " done");
        return ConsoleVerdict.judge(console(log.toArray(String[]::new)), MOD, List.of("rust_sid: Rust out-of-tree module \\(init\\)"),
                DEBIAN, Accel.TCG, "7.2.13+deb14-amd64", Duration.ofSeconds(3));
    }

    @Test
    void theSignatureTaintOfAnUnsignedModuleIsNotAFailure() {
        VmTestWorkflow.Verdict v = runVerdict(List.of(
                "[    1.4] PCI: Using host bridge windows from ACPI; if necessary, use \"pci=nocrs\" and report a bug"), List.of());
        assertThat(v.reasons()).isEmpty();
        assertThat(v.pass()).isTrue();
        assertThat(v.steps()).containsExactly(new VmTestWorkflow.Step("insmod", 1, "rust_sid", 0),
                new VmTestWorkflow.Step("rmmod", 1, "rust_sid", 0));
        assertThat(v.moduleLines()).containsExactly("rust_sid: loading out-of-tree module taints kernel.",
                "rust_sid: module verification failed: signature and/or required key missing - tainting kernel",
                "rust_sid: Rust out-of-tree module (init)");
        assertThat(v.consoleLog()).isEqualTo(Path.of("/tmp/console.log"));
        assertThat(v.accel()).isEqualTo(Accel.TCG);
    }

    @Test
    void distroBootNoiseBeforeTheFirstInsmodIsIgnored() {
        assertThat(run(List.of(
                "[    0.3] Spectre V2 : WARNING: Unprivileged eBPF is enabled with eIBRS on, data leaks possible via Spectre v2 BHB attacks!",
                "[    1.9] WARNING: firmware: failed to load regulatory.db (-2)"), List.of())).isEmpty();
    }

    @Test
    void theSameLinesFromTheModuleAreFailures() {
        List<String> reasons = run(List.of(), List.of(
                "[    3.1] Spectre V2 : WARNING: something the module provoked",
                "[    3.2] WARNING: CPU: 0 PID: 42 at rust_sid.rs:10 firmware bug"));
        assertThat(reasons).containsExactly("kernel log: Spectre V2 : WARNING: something the module provoked",
                "kernel log: WARNING: CPU: 0 PID: 42 at rust_sid.rs:10 firmware bug");
    }

    @Test
    void realBootFailuresAreNeverNoise() {
        List<String> reasons = run(List.of("[    0.9] BUG: kernel NULL pointer dereference, address: 0000000000000000",
                "[    1.0] Oops: 0002 [#1] PREEMPT SMP NOPTI"), List.of());
        assertThat(reasons).containsExactly("kernel log: BUG: kernel NULL pointer dereference, address: 0000000000000000",
                "kernel log: Oops: 0002 [#1] PREEMPT SMP NOPTI");
    }

    @Test
    void theFailurePatternsAreTheCataloguesLoadEntries() {
        VmTestWorkflow.Verdict v = runVerdict(List.of(), List.of(
                "[    3.1] rust_sid: Unknown symbol _RNvNtCs1_kernel5print11call_printk (err -2)",
                "[    3.2] rust_sid: disagrees about version of symbol module_layout",
                "[    3.3] rust_sid: version magic '6.1.192 mod_unload' should be '7.2.13+deb14-amd64 SMP preempt mod_unload'",
                "[    3.4] general protection fault, probably for non-canonical address 0xdead000000000100",
                "[    3.5] kernel BUG at rust/helpers.c:34!"));
        assertThat(v.reasons()).allMatch(r -> r instanceof Reason.KernelLog).extracting(r -> ((Reason.KernelLog) r).entry().id())
                .containsExactly("load.unknown-symbol", "load.modversions", "load.invalid-format", "load.crash", "load.crash");
        assertThat(((Reason.KernelLog) v.reasons().get(4)).line()).isEqualTo("kernel BUG at rust/helpers.c:34!");
        List<FailureCatalogue.Entry> load = FailureCatalogue.get().entries().stream().filter(FailureCatalogue.Entry::isLoad).toList();
        assertThat(ConsoleVerdict.FAILURES).extracting(f -> f.pattern().pattern())
                .containsExactlyElementsOf(load.stream().flatMap(e -> e.patterns().stream()).toList());
        assertThat(ConsoleVerdict.FAILURES).hasSizeGreaterThanOrEqualTo(8);
    }

    @Test
    void withoutDistroNoiseAWarningAtBootFails() {
        var v = judge(console("[    0.3] Spectre V2 : WARNING: Unprivileged eBPF is enabled", M + " booted", M + " done"), List.of());
        assertThat(v.pass()).isFalse();
        assertThat(texts(v)).containsExactly("kernel log: Spectre V2 : WARNING: Unprivileged eBPF is enabled");
    }

    @Test
    void aTimeoutNamesTheStepThatDidNotReturn() {
        var v = judge(timedOut(M + " booted", M + " begin insmod 1 rust_sid", "[    1.0] rust_sid: hanging"), List.of());
        assertThat(v.reasons()).containsExactly(new Reason.Timeout(new VmTestWorkflow.Step("insmod", 1, "rust_sid", null), true));
        assertThat(texts(v)).containsExactly("timed out in insmod rust_sid (it did not return); QEMU was stopped");
        assertThat(v.moduleLines()).containsExactly("rust_sid: hanging");
        assertThat(v.steps()).isEmpty();
    }

    @Test
    void aTimeoutSaysHowFarTheBootGot() {
        assertThat(texts(judge(timedOut(M + " booted", M + " begin insmod 1 rust_sid", M + " end insmod 1 rust_sid status=0"),
                List.of()))).containsExactly("timed out after /init started; QEMU was stopped");
        assertThat(texts(judge(timedOut("SeaBIOS", "Booting from ROM.."), List.of())))
                .containsExactly("timed out before /init started (the kernel did not boot); QEMU was stopped");
    }

    @Test
    void aConsoleWithoutInitsMarkersFails() {
        assertThat(texts(judge(console("[    0.0] Linux version 6.1.192"), List.of()))).containsExactly("the kernel did not reach /init");
        assertThat(texts(judge(console(M + " booted", M + " begin rmmod 1 rust_sid"), List.of())))
                .containsExactly("/init did not finish (last step: rmmod rust_sid)");
        assertThat(texts(judge(console(M + " booted"), List.of()))).containsExactly("/init did not finish");
    }

    @Test
    void aStepThatExitsNonZeroOrWhoseMarkerIsGarbledFails() {
        var v = judge(console(M + " booted\r", M + " begin insmod 1 rust_sid", M + " end insmod 1 rust_sid status=1\r",
                M + " begin rmmod 1 rust_sid", M + " end rmmod 1 rust_sid stat", M + " done"), List.of());
        assertThat(v.steps()).containsExactly(new VmTestWorkflow.Step("insmod", 1, "rust_sid", 1),
                new VmTestWorkflow.Step("rmmod", 1, "rust_sid", null));
        assertThat(texts(v)).containsExactly("insmod rust_sid exited with status 1",
                "rmmod rust_sid: status unknown (its marker line was garbled)");
        assertThat(v.reasons()).extracting(r -> ((Reason.StepFailed) r).exited()).containsExactly(true, false);
    }

    @Test
    void expectedLinesMustAppearInOrder() {
        ProcessResult r = console(M + " booted", "[    1.0] rust_sid: second", "[    1.1] rust_sid: first", M + " done");
        assertThat(judge(r, List.of("rust_sid: first", "rust_sid: second")).reasons())
                .containsExactly(new Reason.ExpectMissing("rust_sid: second"));
        assertThat(texts(judge(r, List.of("rust_sid: (first|third)", "rust_sid: \\w+$", "rust_sid: third"))))
                .containsExactly("expected line not found (in order): rust_sid: \\w+$",
                        "expected line not found (in order): rust_sid: third");
        assertThat(judge(r, List.of("^rust_sid: second$", "rust_sid: first")).pass()).isTrue();
    }

    @Test
    void aFailedKunitTestFailsTheRunAndSkipsDoNot() {
        ProcessResult r = console(M + " booted",
                "[    1.100000] KTAP version 1",
                "[    1.100000] 1..1",
                "[    1.100000]     KTAP version 1",
                "[    1.100000]     # Subtest: demo_suite",
                "[    1.100000]     1..3",
                "[    1.100000]     ok 1 adds",
                "[    1.100000]     not ok 2 subtracts",
                "[    1.100000]     ok 3 skipped_one # SKIP no hw",
                "[    1.100000] not ok 1 demo_suite",
                M + " done");
        var v = judge(r, List.of());
        assertThat(v.ktap()).extracting(Ktap.Result::name, Ktap.Result::status).containsExactly(
                org.assertj.core.groups.Tuple.tuple("adds", Ktap.Status.PASS),
                org.assertj.core.groups.Tuple.tuple("subtracts", Ktap.Status.FAIL),
                org.assertj.core.groups.Tuple.tuple("skipped_one", Ktap.Status.SKIP),
                org.assertj.core.groups.Tuple.tuple("demo_suite", Ktap.Status.FAIL));
        assertThat(texts(v)).containsExactly("KUnit test failed: subtracts", "KUnit test failed: demo_suite");
        ProcessResult skipped = console(M + " booted", "[    1.1] KTAP version 1", "[    1.1] 1..1",
                "[    1.1] ok 1 hw_suite # SKIP no hardware", M + " done");
        assertThat(judge(skipped, List.of()).pass()).isTrue();
    }

    @Test
    void markerLinesAreNeverKernelFailures() {
        // a module named like a failure pattern still has its own markers read as markers
        var v = ConsoleVerdict.judge(console(M + " booted", M + " begin insmod 1 Oops", M + " end insmod 1 Oops status=0",
                M + " done"), List.of("Oops"), List.of(), List.of(), Accel.KVM, "6.1.192", Duration.ZERO);
        assertThat(v.pass()).isTrue();
    }

    /** A run of rust_sid with one program, t.sh, printing {@code printed} and exiting {@code status} (null: it hung). */
    static List<String> withProgram(Integer status, String... printed) {
        List<String> log = new ArrayList<>(List.of(M + " booted", M + " begin insmod 1 rust_sid",
                "[    1.0] rust_sid: Rust out-of-tree module (init)", M + " end insmod 1 rust_sid status=0",
                M + " begin run 1 t.sh"));
        for (String p : printed) {
            log.add(M + " run 1| " + p);
        }
        if (status != null) {
            log.addAll(List.of(M + " end run 1 t.sh status=" + status, M + " begin rmmod 1 rust_sid",
                    M + " end rmmod 1 rust_sid status=0", M + " done"));
        }
        return log;
    }

    static VmTestWorkflow.Verdict judgeRun(ProcessResult r, List<String> expect) {
        return ConsoleVerdict.judge(r, MOD, List.of("tests/t.sh"), expect, List.of(), Accel.TCG, "6.1.192", Duration.ZERO);
    }

    @Test
    void aProgramsLinesAreShownWithTheModulesKernelLogUnderItsName() {
        var v = judgeRun(console(withProgram(0, "rust_sid 16384 0 - Live 0x0 (O)", "", "[    9.9] not a printk line")
                .toArray(String[]::new)), List.of("^rust_sid 16384", "rust_sid: Rust out-of-tree module"));
        assertThat(v.pass()).as(texts(v).toString()).isFalse();
        // the program's lines are searched by --expect as they printed them (anchored too), in console order
        assertThat(texts(v)).containsExactly("expected line not found (in order): rust_sid: Rust out-of-tree module");
        assertThat(v.moduleLines()).containsExactly("rust_sid: Rust out-of-tree module (init)",
                "[tests/t.sh] rust_sid 16384 0 - Live 0x0 (O)", "[tests/t.sh] ", "[tests/t.sh] [    9.9] not a printk line");
        assertThat(v.steps()).containsExactly(new VmTestWorkflow.Step("insmod", 1, "rust_sid", 0),
                new VmTestWorkflow.Step("run", 1, "tests/t.sh", 0), new VmTestWorkflow.Step("rmmod", 1, "rust_sid", 0));
    }

    @Test
    void aProgramThatExitsNonZeroFailsNamingItsFileAndStatus() {
        var v = judgeRun(console(withProgram(3, "opening /dev/rust-misc-device").toArray(String[]::new)), List.of());
        assertThat(texts(v)).containsExactly("run tests/t.sh exited with status 3");
        assertThat(JunitReport.of(v)).contains("vmtest.tests/t.sh").contains("run exited with status 3");
    }

    @Test
    void aProgramThatHangsIsNamedByTheTimeout() {
        var v = judgeRun(timedOut(withProgram(null, "waiting").toArray(String[]::new)), List.of());
        assertThat(texts(v)).containsExactly("timed out in run tests/t.sh (it did not return); QEMU was stopped");
        assertThat(v.moduleLines()).contains("[tests/t.sh] waiting");
    }

    @Test
    void whatAProgramPrintsIsNeverAMarkerNorAKernelFailure() {
        var v = judgeRun(console(withProgram(0, "WARNING: this is the program talking", "Unknown symbol in its text",
                M + " end run 1 t.sh status=7", M + " done", "not ok 1 looks like ktap").toArray(String[]::new)), List.of());
        assertThat(v.pass()).as(texts(v).toString()).isTrue();
        assertThat(v.steps()).hasSize(3).allMatch(s -> s.status() == 0);
        assertThat(v.ktap()).isEmpty();
        // the same words from the kernel do fail
        List<String> log = withProgram(0);
        log.add(6, "[    2.0] WARNING: CPU: 0 PID: 1 at rust_sid.rs:5");
        assertThat(texts(judgeRun(console(log.toArray(String[]::new)), List.of())))
                .containsExactly("kernel log: WARNING: CPU: 0 PID: 1 at rust_sid.rs:5");
    }

    @Test
    void aDeviceQemuRefusedIsFoundInItsOutput() {
        List<String> out = List.of("qemu-system-x86_64: -device pci-testdev,foo=1: Property 'pci-testdev.foo' not found");
        assertThat(ConsoleVerdict.refusedDevice(out, List.of("isa-serial", "pci-testdev,foo=1"))).contains(
                new ConsoleVerdict.RefusedDevice("pci-testdev,foo=1", "Property 'pci-testdev.foo' not found"));
        assertThat(ConsoleVerdict.refusedDevice(List.of("qemu-system-x86_64: -device bogus: 'bogus' is not a valid device"
                + " model name"), List.of("bogus"))).hasValueSatisfying(d -> assertThat(d.message())
                .isEqualTo("'bogus' is not a valid device model name"));
        assertThat(ConsoleVerdict.refusedDevice(List.of("qemu-system-x86_64: -kernel: could not open"), List.of("bogus"))).isEmpty();
        assertThat(ConsoleVerdict.refusedDevice(List.of("[ 1.0] x: -device bogus: y"), List.of("bogus"))).isEmpty();
    }

    @Test
    void aDriversDeviceMessagesAreItsKernelLogToo() {
        var v = ConsoleVerdict.judge(console(M + " booted", M + " begin insmod 1 rust_driver_pci",
                "[    3.387612] rust_driver_pci 0000:00:02.0: pci-testdev config space read16 vendor ID: 1b36",
                "[    3.387700] rust_driver_pci_other: not this module", "[    3.387800] rust_driver_pci probing (no device)",
                M + " end insmod 1 rust_driver_pci status=0", M + " done"), List.of("rust_driver_pci"), List.of(), List.of(),
                Accel.TCG, "7.2.13+deb14-amd64", Duration.ZERO);
        assertThat(v.moduleLines()).containsExactly("rust_driver_pci 0000:00:02.0: pci-testdev config space read16 vendor ID: 1b36");
    }
}
