package dev.rkmod.workflow.matrix;

import dev.rkmod.workflow.vm.VmTestWorkflow;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * One kernel's row of the matrix: the kernel's facts, the build and the load, and why it failed, each reason
 * explained from the failure catalogue where it knows the failure.
 *
 * @param dir      the row's own directory: the module's copy, its build log
 * @param buildLog the row's build log (doctor's check, make's output, the explanation); empty when it never built
 */
public record MatrixRow(KernelSpec spec, Status status, Optional<Kernel> kernel, Optional<Build> build, Optional<Load> load,
                        List<Explanation> explanations, Path dir, Optional<Path> buildLog, Duration took) {

    /** PASS: built and loaded cleanly; FAIL: a phase failed; SKIPPED: not run (--fail-fast after a failure). */
    public enum Status { PASS, FAIL, SKIPPED }

    /** Where a row failed. */
    public enum Phase { KERNEL, BUILD, LOAD }

    /** The kernel as the row used it: the tree or package modules are built against and what it was made with. */
    public record Kernel(Path kdir, String release, String generation, String rustc, String origin) { }

    /** The build: its .ko files, the rustc that compiled them, and on failure the build's own error lines. */
    public record Build(boolean ok, Duration took, List<Path> modules, String rustcCandidate, List<String> errorLines) { }

    /** The load in a VM; the verdict is absent when vmtest refused before booting. */
    public record Load(boolean pass, Duration took, Optional<VmTestWorkflow.Verdict> verdict) {
        /** The module's own first kernel log line (not the kernel's taint notices about it, nor a --run program's "[FILE] ..." lines). */
        public Optional<String> firstLine() {
            return verdict.flatMap(v -> v.moduleLines().stream().filter(l -> !l.startsWith("["))
                    .filter(l -> !l.endsWith("taints kernel.") && !l.endsWith("tainting kernel")).findFirst());
        }
    }

    /**
     * Why a row failed, one reason: a failure catalogue entry's id, title, cause and fix with the line that showed it;
     * doctor's finding; or, for what neither knows, rkmod's own message (id null).
     */
    public record Explanation(Phase phase, String id, String title, String cause, String fix, String seen) { }

    /** The first reason, the one a table names. */
    public Optional<Explanation> first() {
        return explanations.stream().findFirst();
    }
}
