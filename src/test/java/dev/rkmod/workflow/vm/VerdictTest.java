package dev.rkmod.workflow.vm;

import dev.rkmod.infra.process.ProcessResult;
import dev.rkmod.model.Distro;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/** The vmtest verdict on console logs given as strings, including a distro kernel's boot noise. */
class VerdictTest {
    private static final String M = VmTestWorkflow.MARK;
    private static final List<VmTestWorkflow.Loaded> MOD = List.of(
            new VmTestWorkflow.Loaded(new VmTestWorkflow.ModuleSpec(Path.of("rust_sid.ko"), ""), "rust_sid", "7.2.13 SMP"));
    private static final List<Pattern> DEBIAN = Distro.DEBIAN_SID.bootNoise().stream().map(Pattern::compile).toList();

    static ProcessResult console(String... lines) {
        return new ProcessResult(List.of("qemu"), 0, List.of(lines), List.of(), null, Duration.ofSeconds(1), false);
    }

    static List<String> run(List<String> boot, List<String> afterLoad) {
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
        return VmTestWorkflow.verdict(console(log.toArray(String[]::new)), MOD, List.of("rust_sid: Rust out-of-tree module \\(init\\)"),
                DEBIAN, "tcg", "7.2.13+deb14-amd64", Duration.ofSeconds(3)).reasons();
    }

    @Test
    void theSignatureTaintOfAnUnsignedModuleIsNotAFailure() {
        assertThat(run(List.of("[    1.4] PCI: Using host bridge windows from ACPI; if necessary, use \"pci=nocrs\" and report a bug"),
                List.of())).isEmpty();
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
        assertThat(reasons).hasSize(2).allMatch(r -> r.startsWith("kernel log: "));
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
        List<String> reasons = run(List.of(), List.of(
                "[    3.1] rust_sid: Unknown symbol _RNvNtCs1_kernel5print11call_printk (err -2)",
                "[    3.2] rust_sid: disagrees about version of symbol module_layout",
                "[    3.3] rust_sid: version magic '6.1.192 mod_unload' should be '7.2.13+deb14-amd64 SMP preempt mod_unload'",
                "[    3.4] general protection fault, probably for non-canonical address 0xdead000000000100"));
        assertThat(reasons).hasSize(4);
        assertThat(VmTestWorkflow.FAILURES).hasSizeGreaterThanOrEqualTo(8);
    }

    @Test
    void withoutDistroNoiseAWarningAtBootFails() {
        List<String> log = new ArrayList<>(List.of("[    0.3] Spectre V2 : WARNING: Unprivileged eBPF is enabled", M + " booted", M + " done"));
        var v = VmTestWorkflow.verdict(console(log.toArray(String[]::new)), List.of(), List.of(), "tcg", "6.1.192",
                Duration.ofSeconds(1));
        assertThat(v.pass()).isFalse();
        assertThat(v.reasons()).containsExactly("kernel log: Spectre V2 : WARNING: Unprivileged eBPF is enabled");
    }
}
