package dev.rkmod.workflow.vm;

import dev.rkmod.format.JunitXml;
import dev.rkmod.format.Ktap;

import java.util.ArrayList;
import java.util.List;

/**
 * The verdict as a JUnit XML report: a case per insmod and rmmod, one per expected line, one for "no
 * kernel errors" (every other reason) and one per KTAP result.
 */
final class JunitReport {
    static final String SUITE = "rkmod.vmtest";

    private JunitReport() {
    }

    static String of(VmTestWorkflow.Verdict v) {
        List<JunitXml.Case> cases = new ArrayList<>();
        for (VmTestWorkflow.Step s : v.steps()) {
            cases.add(new JunitXml.Case("vmtest." + s.module(), s.action(), Integer.valueOf(0).equals(s.status()) ? null
                    : s.action() + " exited with status " + s.status(), false));
        }
        for (String e : v.expected()) {
            boolean missing = v.reasons().stream().anyMatch(r -> r instanceof Reason.ExpectMissing m && m.pattern().equals(e));
            cases.add(new JunitXml.Case("vmtest.expect", e, missing ? "not found in the kernel log" : null, false));
        }
        List<String> other = v.reasons().stream().filter(r -> !ownCase(r)).map(Reason::text).toList();
        cases.add(new JunitXml.Case("vmtest.kernel", "no kernel errors", other.isEmpty() ? null : String.join("; ", other), false));
        for (Ktap.Result k : v.ktap()) {
            cases.add(new JunitXml.Case("kunit", k.name(), k.status() == Ktap.Status.FAIL ? "not ok" : null,
                    k.status() == Ktap.Status.SKIP));
        }
        return JunitXml.write(SUITE, v.took().toMillis() / 1000.0, cases);
    }

    /** Reasons that fail a case of their own: a missing expected line, a step that exited non-zero. */
    private static boolean ownCase(Reason r) {
        return r instanceof Reason.ExpectMissing || r instanceof Reason.StepFailed s && s.exited();
    }
}
