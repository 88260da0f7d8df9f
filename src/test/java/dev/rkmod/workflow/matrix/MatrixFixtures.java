package dev.rkmod.workflow.matrix;

import dev.rkmod.model.FailureCatalogue;
import dev.rkmod.workflow.vm.Accel;
import dev.rkmod.workflow.vm.Reason;
import dev.rkmod.workflow.vm.VmTestWorkflow;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/** A matrix's result as the workflow makes it: a pass, a build failure, a load failure and a skipped kernel. */
public final class MatrixFixtures {
    private MatrixFixtures() {
    }

    /** The rows live under {@code home}; build and console logs are the files {@code home/<row>/build.log} and {@code home/console-<row>.log}. */
    public static MatrixWorkflow.Result result(Path home) {
        FailureCatalogue c = FailureCatalogue.get();
        VmTestWorkflow.Verdict pass = new VmTestWorkflow.Verdict(true, List.of(), List.of(
                new VmTestWorkflow.Step("insmod", 1, "demo", 0), new VmTestWorkflow.Step("rmmod", 1, "demo", 0)),
                List.of("demo: loading out-of-tree module taints kernel.", "demo: Demo module (init)",
                        "demo: My numbers are [72, 108, 200]", "demo: Demo module (exit)"),
                List.of(), List.of(), home.resolve("console-6.1.log"), Accel.TCG, "6.1.192", Duration.ofMillis(1400));
        MatrixRow ok = new MatrixRow(KernelSpec.parse("6.1"), MatrixRow.Status.PASS,
                Optional.of(new MatrixRow.Kernel(home.resolve("pkg61"), "6.1.192", "6.1", "rustc 1.63.0", "tiny-rust kernel")),
                Optional.of(new MatrixRow.Build(true, Duration.ofMillis(1500), List.of(home.resolve("6.1/demo/demo.ko")),
                        "/usr/bin/rustc", List.of())),
                Optional.of(new MatrixRow.Load(true, Duration.ofMillis(1400), Optional.of(pass))), List.of(),
                home.resolve("6.1"), Optional.of(home.resolve("6.1/build.log")), Duration.ofMillis(3100));

        FailureCatalogue.Entry syntax = c.byId("api.module-macro-syntax").orElseThrow();
        FailureCatalogue.Entry alloc = c.byId("api.allocation").orElseThrow();
        MatrixRow build = new MatrixRow(KernelSpec.parse("6.12"), MatrixRow.Status.FAIL,
                Optional.of(new MatrixRow.Kernel(home.resolve("pkg612"), "6.12.117", "6.13",
                        "rustc 1.85.1 (4eb161250 2025-03-15) (built from a source tarball)", "tiny-rust kernel")),
                Optional.of(new MatrixRow.Build(false, Duration.ofMillis(1234), List.of(), null,
                        List.of("error: proc macro panicked", "   = help: message: Expected string"))),
                Optional.empty(), List.of(
                new MatrixRow.Explanation(MatrixRow.Phase.BUILD, syntax.id(), syntax.title(), syntax.cause(), syntax.fix(),
                        "= help: message: Expected string"),
                new MatrixRow.Explanation(MatrixRow.Phase.BUILD, alloc.id(), alloc.title(), alloc.cause(), alloc.fix(),
                        "error[E0599]: no method named `try_push` found")),
                home.resolve("6.12"), Optional.of(home.resolve("6.12/build.log")), Duration.ofMillis(2000));

        FailureCatalogue.Entry crash = c.byId("load.crash").orElseThrow();
        VmTestWorkflow.Step insmod = new VmTestWorkflow.Step("insmod", 1, "demo", 137);
        VmTestWorkflow.Verdict oops = new VmTestWorkflow.Verdict(false, List.of(new Reason.StepFailed(insmod),
                new Reason.KernelLog(crash, "BUG: kernel NULL pointer dereference, address: 0000000000000000")),
                List.of(insmod), List.of("demo: about to oops"), List.of(), List.of(), home.resolve("console-sid.log"),
                Accel.TCG, "7.2.13+deb14-amd64", Duration.ofMillis(4200));
        MatrixRow load = new MatrixRow(KernelSpec.parse("debian-sid"), MatrixRow.Status.FAIL,
                Optional.of(new MatrixRow.Kernel(home.resolve("sid"), "7.2.13+deb14-amd64", "7.2",
                        "rustc 1.97.1 (8bab26f4f 2026-07-14) (built from a source tarball)", "Debian sid's own kernel")),
                Optional.of(new MatrixRow.Build(true, Duration.ofMillis(1600), List.of(home.resolve("sid/demo/demo.ko")),
                        "rkmod's Debian sid root", List.of())),
                Optional.of(new MatrixRow.Load(false, Duration.ofMillis(4200), Optional.of(oops))),
                MatrixWorkflow.explain(oops), home.resolve("debian-sid"), Optional.of(home.resolve("debian-sid/build.log")),
                Duration.ofMillis(6500));

        MatrixRow skipped = new MatrixRow(new KernelSpec.Tree("/src/linux", Path.of("/src/linux")), MatrixRow.Status.SKIPPED,
                Optional.empty(), Optional.empty(), Optional.empty(), List.of(), home.resolve("src-linux"), Optional.empty(),
                Duration.ZERO);
        return new MatrixWorkflow.Result(home.resolve("demo"), "demo", home, List.of(ok, build, load, skipped), 3,
                Duration.ofMillis(9876));
    }
}
