package dev.rkmod.workflow.build;

import dev.rkmod.format.ElfFile;
import dev.rkmod.format.ModInfo;
import dev.rkmod.format.ModuleSignature;
import dev.rkmod.infra.event.Stage;
import dev.rkmod.infra.process.ProcessResult;
import dev.rkmod.model.ExitCode;
import dev.rkmod.model.FailureCatalogue;
import dev.rkmod.model.Finding;
import dev.rkmod.model.RkmodException;
import dev.rkmod.workflow.Context;
import dev.rkmod.workflow.doctor.DoctorWorkflow;
import dev.rkmod.workflow.tree.KernelTree;
import dev.rkmod.workflow.toolchain.RustcFinder;
import dev.rkmod.workflow.toolchain.Toolchain;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * `rkmod build`: doctor's checks, then {@code make -C KDIR M=DIR} with the rustc whose version equals
 * the kernel's (wherever it lives: host or Debian root) and LLVM=1 for clang-built kernels. A failure
 * is explained from the failure catalogue.
 */
public final class BuildWorkflow {
    /** Findings that the build itself resolves (it picks the matching rustc). */
    private static final List<String> RESOLVED_BY_BUILD = List.of("rustc.mismatch");

    private final Context ctx;

    public BuildWorkflow(Context ctx) {
        this.ctx = ctx;
    }

    /** A built module. */
    public record Module(Path ko, String name, String vermagic, long size) { }

    /** What the build did. */
    public record Result(Path dir, Path kdir, String rustc, String rustcCandidate, boolean llvm, List<Module> modules,
                         Duration took) { }

    /** A failed build: its error lines and the catalogue's explanations. */
    public static final class BuildFailed extends RkmodException {
        private static final long serialVersionUID = 1L;
        private final transient List<String> errorLines;
        private final transient List<FailureCatalogue.Match> explanations;
        private final transient List<Finding> findings;

        BuildFailed(String what, String why, String fix, List<String> errorLines, List<FailureCatalogue.Match> explanations,
                    List<Finding> findings) {
            super(ExitCode.BUILD_FAILED, what, why, fix);
            this.errorLines = errorLines;
            this.explanations = explanations;
            this.findings = findings;
        }

        public List<String> errorLines() {
            return errorLines;
        }

        public List<FailureCatalogue.Match> explanations() {
            return explanations;
        }

        public List<Finding> findings() {
            return findings;
        }
    }

    public Result build(Path dir, Path kdir, Optional<Path> rustc, int jobs, Duration timeout, boolean check) {
        long start = System.nanoTime();
        ctx.runner().prepare();
        Path moduleDir = dir.toAbsolutePath().normalize();
        if (!Files.isRegularFile(moduleDir.resolve("Kbuild")) && !Files.isRegularFile(moduleDir.resolve("Makefile"))) {
            throw new RkmodException(ExitCode.USAGE, moduleDir + " is not a module project", "It has no Kbuild or Makefile",
                    "Create one with 'rkmod new NAME --kdir KDIR'");
        }
        for (Path p : List.of(moduleDir, kdir.toAbsolutePath().normalize())) {
            if (p.toString().chars().anyMatch(Character::isWhitespace)) {
                throw new RkmodException(ExitCode.USAGE, "Cannot build in '" + p + "': the path contains a space",
                        "kbuild splits M= and -C paths at spaces, so make would stop with 'building multiple external"
                                + " modules is not supported'; nothing was built",
                        "Move or link the directory to a path without spaces (ln -s '" + p + "' /tmp/"
                                + p.getFileName().toString().replaceAll("\\s", "_") + ")");
            }
        }
        KernelTree tree;
        String wanted;
        RustcFinder.Candidate candidate;
        if (check) {
            DoctorWorkflow.Report report;
            try (Stage stage = Stage.start(ctx.events(), "check", kdir.toString())) {
                report = new DoctorWorkflow(ctx).run(kdir, rustc);
                stage.ok();
            }
            List<Finding> blocking = report.findings().stream()
                    .filter(f -> f.severity() == Finding.Severity.ERROR && !RESOLVED_BY_BUILD.contains(f.id())).toList();
            if (!blocking.isEmpty()) {
                Finding first = blocking.get(0);
                throw new BuildFailed("The build would fail: " + first.what(), first.why(),
                        first.fix() == null ? "Run 'rkmod doctor --kdir " + kdir + "' for details" : first.fix(),
                        List.of(), List.of(), blocking);
            }
            if (report.tree().isEmpty() || report.match().isEmpty()) {
                throw new BuildFailed("The build would fail: no rustc matching the kernel was found", null,
                        "Run 'rkmod doctor --kdir " + kdir + "' for details", List.of(), List.of(), report.findings());
            }
            tree = report.tree().get();
            // doctor read every rmeta header and found no error: its version is the kernel's
            wanted = report.rustcVersion();
            candidate = report.match().get();
        } else {
            tree = KernelTree.open(kdir);
            wanted = tree.rustcVersion();
            candidate = new RustcFinder(ctx).find(wanted, rustc).orElseThrow(() -> new RkmodException(ExitCode.ENVIRONMENT,
                    "No rustc on this machine prints '" + wanted + "'", "Modules need the kernel's exact rustc",
                    "Run 'rkmod doctor --kdir " + kdir + "' to see the candidates"));
        }
        tree.setAside().ifPresent(ctx.events()::warn);
        if (rustc.isPresent() && candidate.source() != RustcFinder.Source.EXPLICIT) {
            ctx.events().warn(rustc.get() + " does not match the kernel's rustc; using " + candidate.description());
        }
        Toolchain toolchain = candidate.toolchain();
        List<String> argv = new ArrayList<>(List.of("make", "-C", tree.dir().toString(), "M=" + moduleDir));
        if (tree.llvm()) {
            argv.add("LLVM=1");
        }
        argv.add("RUSTC=" + toolchain.rustc());
        argv.add("-j" + jobs);
        argv.add("modules");
        ProcessResult r;
        try (Toolchain.Shell s = toolchain.open(ctx, List.of(tree.dir(), moduleDir));
             Stage stage = Stage.start(ctx.events(), "make", "M=" + moduleDir + " with " + candidate.description())) {
            r = ctx.runner().run(s.spec(null, argv).label("make").timeout(timeout).capture().allowFailure());
            if (r.ok()) {
                stage.ok();
            }
        }
        if (!r.ok()) {
            throw failure(r, tree);
        }
        List<Module> modules = modules(moduleDir);
        if (modules.isEmpty()) {
            throw new RkmodException(ExitCode.BUILD_FAILED, "make succeeded but produced no .ko in " + moduleDir,
                    "Kbuild lists no obj-m module?", "Check the Kbuild file");
        }
        return new Result(moduleDir, tree.dir(), wanted, candidate.description(), tree.llvm(), modules,
                Duration.ofNanos(System.nanoTime() - start));
    }

    private BuildFailed failure(ProcessResult r, KernelTree tree) {
        if (r.timedOut()) {
            return new BuildFailed("The module build did not finish in time and was stopped", null,
                    "Raise --timeout; the full log is " + r.log(), List.of(), List.of(), List.of());
        }
        List<String> errors = new ArrayList<>();
        for (String l : r.output()) {
            String t = l.strip();
            if ((t.startsWith("error") || t.contains(": error") || t.contains("*** ") || t.startsWith("= help: message"))
                    && errors.size() < 25) {
                errors.add(l);
            }
        }
        if (errors.isEmpty()) {
            errors.addAll(r.tail());
        }
        // a kernel-crate module the config leaves out is named with its option first; the catalogue's generic entry
        // for it is then not repeated
        List<FailureCatalogue.Match> explained = new ArrayList<>(ConfigGatedApi.explain(r.output(), tree.configGates(),
                tree.config()));
        boolean gated = !explained.isEmpty();
        for (FailureCatalogue.Match m : FailureCatalogue.get().explain(r.output())) {
            if (!(gated && m.entry().id().equals(ConfigGatedApi.ID))) {
                explained.add(m);
            }
        }
        StringBuilder why = new StringBuilder();
        for (FailureCatalogue.Match m : explained) {
            why.append(why.isEmpty() ? "" : " ").append(m.entry().title()).append(": ").append(m.entry().cause());
        }
        String fix = explained.isEmpty() ? "See the compiler's errors above; the full log is " + r.log()
                : explained.get(0).entry().fix() + " (full log: " + r.log() + ")";
        return new BuildFailed("The module build failed (make exited " + r.exitCode() + ")",
                why.isEmpty() ? null : why.toString(), fix, errors, explained, List.of());
    }

    private static List<Module> modules(Path dir) {
        List<Module> out = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, "*.ko")) {
            for (Path ko : ds) {
                byte[] data = Files.readAllBytes(ko);
                ModInfo info = ModInfo.of(ElfFile.parse(data, ModuleSignature.unsignedLength(data)));
                out.add(new Module(ko, info.get("name").orElse(ko.getFileName().toString()),
                        info.get("vermagic").orElse("?"), data.length));
            }
        } catch (IOException e) {
            throw new RkmodException(ExitCode.BUILD_FAILED, "Cannot read the built modules in " + dir, e.getMessage(), null, e);
        }
        out.sort((a, b) -> a.ko().compareTo(b.ko()));
        return out;
    }
}
