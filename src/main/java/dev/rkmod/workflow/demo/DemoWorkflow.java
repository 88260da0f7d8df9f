package dev.rkmod.workflow.demo;

import dev.rkmod.format.PackageManifest;
import dev.rkmod.infra.event.Stage;
import dev.rkmod.infra.fs.FileOps;
import dev.rkmod.model.Distro;
import dev.rkmod.model.ExitCode;
import dev.rkmod.model.Finding;
import dev.rkmod.model.Profile;
import dev.rkmod.model.RkmodException;
import dev.rkmod.workflow.Context;
import dev.rkmod.workflow.build.BuildWorkflow;
import dev.rkmod.workflow.deps.DepsReport;
import dev.rkmod.workflow.deps.DepsWorkflow;
import dev.rkmod.workflow.distro.DistroKernels;
import dev.rkmod.workflow.doctor.DoctorWorkflow;
import dev.rkmod.workflow.headers.HeadersWorkflow;
import dev.rkmod.workflow.kernel.BaseConfig;
import dev.rkmod.workflow.kernel.KernelRequest;
import dev.rkmod.workflow.kernel.KernelWorkflow;
import dev.rkmod.workflow.pack.PackageRequest;
import dev.rkmod.workflow.pack.PackageWorkflow;
import dev.rkmod.workflow.scaffold.NewWorkflow;
import dev.rkmod.workflow.vm.VmTestWorkflow;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * `rkmod demo`: the seed's whole story in one command. deps, a tiny Rust kernel, a package, moved to
 * another path, doctor, a scaffolded rust_out_of_tree module, its build, and a VM that loads it and
 * shows "Rust out-of-tree sample (init)", "My numbers are [72, 108, 200]" and "(exit)".
 */
public final class DemoWorkflow {
    public static final String MODULE = "rust_out_of_tree";
    public static final String DESCRIPTION = "Rust out-of-tree sample";

    private final Context ctx;

    public DemoWorkflow(Context ctx) {
        this.ctx = ctx;
    }

    /** One stage of the story and how long it took. */
    public record Step(String name, String detail, Duration took) { }

    public record Result(Profile profile, List<Step> steps, Path kernelTree, Path packageDir, Path moduleKo,
                         String rustc, List<Finding> doctorFindings, VmTestWorkflow.Verdict verdict, Duration took) { }

    public Result run(Profile profile) {
        if (profile.distro().isPresent()) {
            return runDistro(profile, profile.distro().get());
        }
        long start = System.nanoTime();
        List<Step> steps = new ArrayList<>();
        Path home = ctx.cache().root().resolve("demo").resolve(profile.id());

        steps.add(deps(profile));

        long t = System.nanoTime();
        KernelWorkflow.Built kernel = new KernelWorkflow(ctx).build(new KernelRequest(Optional.empty(), Optional.of(profile),
                new BaseConfig.TinyRust(), List.of(), false, Optional.empty(), Optional.empty(),
                Runtime.getRuntime().availableProcessors(), Duration.ofHours(3)));
        steps.add(step("kernel", "Linux " + kernel.manifest().release() + " (tiny-rust, " + kernel.manifest().rustc() + ")"
                + (kernel.cacheHit() ? ", cached" : ""), t));

        t = System.nanoTime();
        Path site = home.resolve("build-site").resolve(kernel.tree().getFileName().toString());
        Path pkg = site.resolve("linux-" + kernel.manifest().release() + "-rust");
        Path moved = home.resolve("elsewhere").resolve("linux-" + kernel.manifest().release() + "-rust");
        boolean reuse = Files.isRegularFile(moved.resolve(PackageManifest.FILE));
        if (!reuse) {
            FileOps.deleteTree(home.resolve("build-site"));
            FileOps.deleteTree(home.resolve("elsewhere"));
            new PackageWorkflow(ctx).pack(new PackageRequest(kernel.tree(), pkg, PackageRequest.Format.DIR, true, false, 0));
        }
        steps.add(step("package", reuse ? "reusing " + moved : "verified package at " + pkg, t));

        t = System.nanoTime();
        if (!reuse) {
            try (Stage stage = Stage.start(ctx.events(), "relocate", pkg + " -> " + moved)) {
                Files.createDirectories(moved.getParent());
                FileOps.moveAtomically(pkg, moved);
                FileOps.deleteTree(home.resolve("build-site"));
                stage.ok();
            } catch (IOException e) {
                throw new RkmodException(ExitCode.ENVIRONMENT, "Cannot move the package to " + moved, e.getMessage(), null, e);
            }
        }
        steps.add(step("relocate", "package now at " + moved + " (rustc >= 1.63 names the target by its contents,"
                + " so the move cannot cause E0461)", t));

        t = System.nanoTime();
        DoctorWorkflow.Report doctor = doctorClean(moved);
        steps.add(step("doctor", "the kernel's rustc is " + doctor.rustcVersion() + "; found: "
                + doctor.match().get().description(), t));

        Path ko = newAndBuild(home, moved, doctor, steps);

        t = System.nanoTime();
        VmTestWorkflow.Verdict verdict = new VmTestWorkflow(ctx).run(new VmTestWorkflow.Request(
                List.of(new VmTestWorkflow.ModuleSpec(ko, "")), Optional.of(kernel.tree().resolve(kernel.manifest().bzImage())),
                Optional.empty(), List.of(), Duration.ofSeconds(120), VmTestWorkflow.Kvm.AUTO, Optional.empty(), 0));
        steps.add(step("vmtest", (verdict.pass() ? "PASS" : "FAIL") + " under " + verdict.accel().name(), t));
        try {
            Files.writeString(home.resolve("last-run.txt"), String.join("\n", verdict.moduleLines()) + "\n",
                    StandardCharsets.UTF_8);
        } catch (IOException ignored) {
            // the summary is printed anyway
        }
        return new Result(profile, steps, kernel.tree(), moved, ko, doctor.rustcVersion(), doctor.findings(), verdict,
                Duration.ofNanos(System.nanoTime() - start));
    }

    private Step deps(Profile profile) {
        long t = System.nanoTime();
        DepsWorkflow deps = new DepsWorkflow(ctx);
        DepsReport report = ctx.host().isRoot() ? deps.install(profile) : deps.check(profile);
        if (!report.complete()) {
            throw new RkmodException(ExitCode.ENVIRONMENT, "Profile " + profile.id() + " is incomplete on this machine",
                    "Missing: " + String.join(" ", report.missingHostPackages())
                            + (report.root() != null && !report.root().complete() ? " and the Debian root" : ""),
                    "Run 'sudo ./rkmod deps --install --profile " + profile.id() + "', or run the demo as root");
        }
        return step("deps", report.actions().isEmpty() ? "profile " + profile.id() + " complete"
                : String.join("; ", report.actions()), t);
    }

    /**
     * The seed's story on a distro's own kernel: doctor names what the distro headers lack, headers complete
     * regenerates it, the package moves, doctor is clean, and the module loads on the distro's own image.
     */
    private Result runDistro(Profile profile, Distro distro) {
        long start = System.nanoTime();
        List<Step> steps = new ArrayList<>();
        Path home = ctx.cache().root().resolve("demo").resolve(profile.id());
        steps.add(deps(profile));

        long t = System.nanoTime();
        DistroKernels dk = new DistroKernels(ctx);
        DistroKernels.Kernel k = dk.kernel(distro, dk.root(distro), Optional.empty());
        DoctorWorkflow.Report before = new DoctorWorkflow(ctx).run(k.headersDir(), Optional.empty());
        String gap = before.findings().stream().filter(f -> f.id().equals("rust.distro-headers")).map(Finding::what)
                .findFirst().orElse("no Rust metadata gap found");
        steps.add(step("doctor", "before: " + gap, t));

        t = System.nanoTime();
        Path moved = home.resolve("elsewhere").resolve("linux-" + k.release() + "-rust");
        boolean reuse = Files.isRegularFile(moved.resolve(PackageManifest.FILE));
        HeadersWorkflow.Result completed = null;
        if (!reuse) {
            FileOps.deleteTree(home.resolve("build-site"));
            FileOps.deleteTree(home.resolve("elsewhere"));
            completed = new HeadersWorkflow(ctx).complete(new HeadersWorkflow.Request(Optional.empty(),
                    Optional.of(new Distro.Selector(distro, Optional.of(k.release()))), Optional.empty(),
                    home.resolve("build-site").resolve("linux-" + k.release() + "-rust"), PackageRequest.Format.DIR,
                    Optional.empty(), Runtime.getRuntime().availableProcessors(), Duration.ofHours(1), false, 0));
        }
        steps.add(step("complete", reuse ? "reusing " + moved : "Linux " + k.release() + ": "
                + completed.headers().rustSymbols() + " Rust symbols equal Module.symvers" + (completed.cacheHit() ? ", cached" : ""), t));

        t = System.nanoTime();
        if (!reuse) {
            try (Stage stage = Stage.start(ctx.events(), "relocate", completed.out() + " -> " + moved)) {
                Files.createDirectories(moved.getParent());
                FileOps.moveAtomically(completed.out(), moved);
                FileOps.deleteTree(home.resolve("build-site"));
                stage.ok();
            } catch (IOException e) {
                throw new RkmodException(ExitCode.ENVIRONMENT, "Cannot move the package to " + moved, e.getMessage(), null, e);
            }
        }
        steps.add(step("relocate", "package now at " + moved, t));

        t = System.nanoTime();
        DoctorWorkflow.Report doctor = doctorClean(moved);
        steps.add(step("doctor", "after: no errors; the kernel's rustc is " + doctor.rustcVersion() + "; found: "
                + doctor.match().get().description(), t));

        Path ko = newAndBuild(home, moved, doctor, steps);

        t = System.nanoTime();
        VmTestWorkflow.Verdict verdict = new VmTestWorkflow(ctx).run(new VmTestWorkflow.Request(
                List.of(new VmTestWorkflow.ModuleSpec(ko, "")), Optional.empty(), Optional.of(moved), List.of(),
                Duration.ofSeconds(180), VmTestWorkflow.Kvm.AUTO, Optional.empty(), 0));
        steps.add(step("vmtest", (verdict.pass() ? "PASS" : "FAIL") + " on " + distro.name() + "'s own vmlinuz under "
                + verdict.accel().name(), t));
        return new Result(profile, steps, k.headersDir(), moved, ko, doctor.rustcVersion(), doctor.findings(), verdict,
                Duration.ofNanos(System.nanoTime() - start));
    }

    /** 'new rust_out_of_tree' in the package's module syntax, then its build; returns the .ko. */
    private Path newAndBuild(Path home, Path pkg, DoctorWorkflow.Report doctor, List<Step> steps) {
        long t = System.nanoTime();
        Path moduleDir = home.resolve(MODULE);
        new NewWorkflow().create(MODULE, Optional.of(pkg), Optional.empty(), moduleDir, DESCRIPTION,
                "Rust for Linux Contributors", true);
        steps.add(step("new", moduleDir + " (" + doctor.tree().orElseThrow().generation().id() + " module API)", t));

        t = System.nanoTime();
        BuildWorkflow.Result built = new BuildWorkflow(ctx).build(moduleDir, pkg, Optional.empty(),
                Runtime.getRuntime().availableProcessors(), Duration.ofMinutes(20), false);
        Path ko = built.modules().get(0).ko();
        steps.add(step("build", ko + " with " + built.rustcCandidate() + (built.llvm() ? ", LLVM=1" : ", gcc"), t));
        return ko;
    }

    private DoctorWorkflow.Report doctorClean(Path pkg) {
        DoctorWorkflow.Report doctor = new DoctorWorkflow(ctx).run(pkg, Optional.empty());
        List<Finding> errors = doctor.findings().stream()
                .filter(f -> f.severity() == Finding.Severity.ERROR && !f.id().equals("rustc.mismatch")).toList();
        if (!errors.isEmpty() || doctor.match().isEmpty()) {
            Finding f = errors.isEmpty() ? doctor.findings().get(0) : errors.get(0);
            throw new RkmodException(ExitCode.CHECK_FAILED, "doctor: " + f.what(), f.why(), f.fix());
        }
        return doctor;
    }

    private static Step step(String name, String detail, long startNanos) {
        return new Step(name, detail, Duration.ofNanos(System.nanoTime() - startNanos));
    }
}
