package dev.rkmod.cli;

import com.google.gson.JsonElement;
import dev.rkmod.format.Ktap;
import dev.rkmod.model.ExitCode;
import dev.rkmod.model.RkmodException;
import dev.rkmod.workflow.vm.Reason;
import dev.rkmod.workflow.vm.VmTestWorkflow;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.Callable;

@Command(name = "vmtest", mixinStandardHelpOptions = true,
        header = "Load modules in a throwaway QEMU VM and give a verdict from the kernel log.",
        description = "Boot the kernel in a throwaway QEMU VM (TCG by default; KVM only when a probe shows it works), insmod "
            + "the modules in order and rmmod them in reverse, and give a verdict: every step exited 0, every expected "
            + "line appeared in order (also those in rkmod.toml), and no Oops, BUG, WARNING, panic, Unknown symbol, "
            + "Invalid module format or version mismatch. Exit 1 on a failed verdict. --device adds a QEMU device (a PCI "
            + "driver then probes it); --run copies a program (a busybox sh script or a static x86-64 executable) into "
            + "the VM and runs it once the modules are loaded, with /dev, /proc, /sys and debugfs mounted: its output is "
            + "shown, a non-zero exit fails the verdict. rkmod.toml's [vmtest] devices and run add theirs. A program the "
            + "VM cannot run (another architecture, dynamically linked, an interpreter busybox lacks) is refused before "
            + "booting (exit 2). A module's dependencies (depends: in its .modinfo) are loaded first from the kernel's "
            + "own modules: a distro kernel's modules package (downloaded once, cached) or an rkmod-built tree's; one "
            + "the kernel lacks is named before booting (exit 1).")
final class VmtestCommand implements Callable<Integer> {
    private final Session session;

    @Parameters(arity = "1..*", paramLabel = "MODULE.ko[:ARGS]", description = "Modules to load, e.g. foo.ko or 'foo.ko:count=3'.")
    List<String> modules = new ArrayList<>();

    @Option(names = "--kernel", paramLabel = "BZIMAGE", description = "The kernel image.")
    Path kernel;

    @Option(names = "--kdir", paramLabel = "DIR", description = "A kernel build tree (uses the bzImage its rkmod-kernel.json names, else arch/x86/boot/bzImage).")
    Path kdir;

    @Option(names = "--expect", paramLabel = "REGEX", description = "A kernel log line that must appear (repeatable, in order).")
    List<String> expect = new ArrayList<>();

    @Option(names = "--timeout", paramLabel = "S", defaultValue = "60", description = "Hard limit for the VM in seconds (default ${DEFAULT-VALUE}).")
    long timeout;

    @Option(names = "--kvm", paramLabel = "auto|on|off", defaultValue = "auto", description = "Use KVM (default ${DEFAULT-VALUE}).")
    VmTestWorkflow.Kvm kvm;

    @Option(names = "--hold", paramLabel = "S", defaultValue = "0", description = "Seconds to wait between loading and unloading.")
    double hold;

    @Option(names = "--junit", paramLabel = "FILE", description = "Write a JUnit XML report.")
    Path junit;

    @Option(names = "--device", paramLabel = "QEMU_DEVICE", description = "Add a device to the VM: -device QEMU_DEVICE, e.g. pci-testdev (repeatable).")
    List<String> devices = new ArrayList<>();

    @Option(names = "--run", paramLabel = "FILE", description = "Run FILE in the VM after loading the modules: a script for /bin/sh or a static executable (repeatable, in order).")
    List<Path> run = new ArrayList<>();

    @Mixin
    OutputOptions output = new OutputOptions();

    VmtestCommand(Session session) {
        this.session = session;
    }

    @Override
    public Integer call() {
        if (kernel != null && kdir != null) {
            throw new RkmodException(ExitCode.USAGE, "Pass --kernel or --kdir, not both", null, null);
        }
        if (timeout < 1 || hold < 0) {
            throw new RkmodException(ExitCode.USAGE, "--timeout must be positive and --hold not negative", null, null);
        }
        VmTestWorkflow.Verdict v = new VmTestWorkflow(session.context(output)).run(new VmTestWorkflow.Request(
                modules.stream().map(VmTestWorkflow.ModuleSpec::parse).toList(), Optional.ofNullable(kernel),
                Optional.ofNullable(kdir), expect, Duration.ofSeconds(timeout), kvm, Optional.ofNullable(junit), hold,
                devices, run, Optional.empty()));
        if (output.json()) {
            session.out().println(Json.GSON.toJson(json(v)));
        } else {
            text(session.out(), v);
        }
        return v.pass() ? ExitCode.OK.code() : ExitCode.CHECK_FAILED.code();
    }

    static JsonElement json(VmTestWorkflow.Verdict v) {
        return Json.fromRecord(VerdictJson.of(v));
    }

    /** The dependencies loaded before the modules, and where they came from: one line per source. */
    static void dependencies(PrintWriter w, VmTestWorkflow.Verdict v) {
        java.util.Map<String, List<VmTestWorkflow.Dependency>> bySource = new java.util.LinkedHashMap<>();
        v.dependencies().forEach(d -> bySource.computeIfAbsent(d.source(), k -> new ArrayList<>()).add(d));
        bySource.forEach((source, deps) -> w.println("dependencies loaded first, from " + source + ": " + String.join(", ",
                deps.stream().map(d -> d.name() + " (" + d.path() + ", for " + String.join(", ", d.neededBy()) + ")").toList())));
    }

    static void text(PrintWriter w, VmTestWorkflow.Verdict v) {
        // a program's lines are "[FILE] text"; a module's kernel log lines start with its name
        boolean programs = v.steps().stream().anyMatch(s -> s.action().equals("run"))
                || v.moduleLines().stream().anyMatch(l -> l.startsWith("["));
        dependencies(w, v);
        w.println(programs ? "kernel log of the module(s), and the output of --run as [FILE] lines:" : "kernel log of the module(s):");
        v.moduleLines().forEach(l -> w.println("  " + l));
        // by hand rather than printf: Formatter costs about 10 ms in a fresh JVM (the same text)
        for (VmTestWorkflow.Step s : v.steps()) {
            w.println("  " + Text.pad(s.action(), 6) + " " + Text.pad(s.shown(), 24) + " status " + s.status());
        }
        for (Ktap.Result k : v.ktap()) {
            w.println("  kunit  " + Text.pad(k.name(), 40) + " " + k.status().name().toLowerCase(Locale.ROOT));
        }
        w.println("verdict: " + (v.pass() ? "PASS" : "FAIL") + "  (Linux " + v.release() + ", " + v.accel().name() + ", "
                + Text.tenths(v.took().toMillis()) + " s)");
        v.reasons().forEach(r -> w.println("  - " + r.text()));
        if (v.consoleLog() != null) {
            w.println("console log: " + v.consoleLog());
        }
    }
}
