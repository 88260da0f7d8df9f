package dev.rkmod.cli;

import dev.rkmod.format.Ktap;
import dev.rkmod.workflow.vm.VmTestWorkflow;

import java.nio.file.Path;
import java.util.List;

/**
 * A VM test's verdict as JSON: pass or fail and why, the insmod/rmmod steps, the module's kernel log lines
 * and the KUnit results. Shared by the commands that run a VM test.
 */
record VerdictJson(String verdict, String release, String accel, long millis, Path consoleLog, List<String> reasons,
                   List<Step> steps, List<String> moduleLines, List<KunitResult> ktap, List<Dependency> dependencies) {

    /** A module loaded before the tested ones because they depend on it: where it came from and who needs it. */
    record Dependency(String name, String path, String source, List<String> neededBy) { }

    /** One insmod, rmmod or run (a dependency's insmod and rmmod name it as in dependencies); status is null when it never finished. */
    record Step(String action, String module, Integer status) { }

    /** One KUnit test and its outcome. */
    record KunitResult(String name, Ktap.Status status) { }

    static VerdictJson of(VmTestWorkflow.Verdict v) {
        return new VerdictJson(v.pass() ? "pass" : "fail", v.release(), v.accel().id(), v.took().toMillis(), v.consoleLog(),
                v.reasons().stream().map(dev.rkmod.workflow.vm.Reason::text).toList(), v.steps().stream().map(s -> new Step(s.action(), s.module(), s.status())).toList(),
                v.moduleLines(), v.ktap().stream().map(k -> new KunitResult(k.name(), k.status())).toList(),
                v.dependencies().stream().map(d -> new Dependency(d.name(), d.path(), d.source(), d.neededBy())).toList());
    }
}
