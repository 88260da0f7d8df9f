package dev.rkmod.workflow.vm;

import dev.rkmod.format.Ktap;
import dev.rkmod.model.FailureCatalogue;
import dev.rkmod.workflow.vm.VmTestWorkflow.Step;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The verdict as JUnit XML: which reason fails which case. */
class JunitReportTest {
    static final String M = InitScript.MARK;

    static VmTestWorkflow.Verdict verdict(List<Reason> reasons, List<Step> steps, List<String> expected, List<Ktap.Result> ktap) {
        return new VmTestWorkflow.Verdict(reasons.isEmpty(), reasons, steps, List.of(), expected, ktap, null, Accel.TCG,
                "6.1.192", Duration.ofMillis(2345));
    }

    @Test
    void aFailedRunFromItsConsole() {
        var v = ConsoleVerdict.judge(new dev.rkmod.infra.process.ProcessResult(List.of("qemu"), 0, List.of(
                        "[    0.000000] Linux version 6.1.192 (rkmod@build) #1 SMP\r",
                        M + " booted\r",
                        M + " begin insmod 1 demo",
                        "[    1.000000] demo: hello",
                        "[    1.100000] KTAP version 1",
                        "[    1.100000] 1..1",
                        "[    1.100000]     KTAP version 1",
                        "[    1.100000]     # Subtest: demo_suite",
                        "[    1.100000]     1..3",
                        "[    1.100000]     ok 1 adds",
                        "[    1.100000]     not ok 2 subtracts",
                        "[    1.100000]     ok 3 skipped_one # SKIP no hw",
                        "[    1.100000] not ok 1 demo_suite",
                        "[    1.200000] kernel BUG at rust/helpers.c:34!",
                        M + " end insmod 1 demo status=139",
                        M + " begin rmmod 1 demo",
                        M + " end rmmod 1 demo",
                        M + " done"), List.of(), null, Duration.ofSeconds(1), false),
                List.of("demo"), List.of("demo: hello", "demo: missing <line> & \"q\""), List.of(), Accel.TCG, "6.1.192",
                Duration.ofMillis(2345));
        assertThat(JunitReport.of(v)).isEqualTo("""
                <?xml version="1.0" encoding="UTF-8"?>
                <testsuite name="rkmod.vmtest" tests="9" failures="6" errors="0" skipped="1" time="2.345">
                  <testcase classname="vmtest.demo" name="insmod">
                    <failure message="insmod exited with status 139"/>
                  </testcase>
                  <testcase classname="vmtest.demo" name="rmmod">
                    <failure message="rmmod exited with status null"/>
                  </testcase>
                  <testcase classname="vmtest.expect" name="demo: hello"/>
                  <testcase classname="vmtest.expect" name="demo: missing &lt;line&gt; &amp; &quot;q&quot;">
                    <failure message="not found in the kernel log"/>
                  </testcase>
                  <testcase classname="vmtest.kernel" name="no kernel errors">
                    <failure message="rmmod demo: status unknown (its marker line was garbled); kernel log: kernel BUG at rust/helpers.c:34!; KUnit test failed: subtracts; KUnit test failed: demo_suite"/>
                  </testcase>
                  <testcase classname="kunit" name="adds"/>
                  <testcase classname="kunit" name="subtracts">
                    <failure message="not ok"/>
                  </testcase>
                  <testcase classname="kunit" name="skipped_one">
                    <skipped/>
                  </testcase>
                  <testcase classname="kunit" name="demo_suite">
                    <failure message="not ok"/>
                  </testcase>
                </testsuite>
                """);
    }

    @Test
    void aPassedRunHasNoFailures() {
        var v = verdict(List.of(), List.of(new Step("insmod", 1, "demo", 0), new Step("rmmod", 1, "demo", 0)),
                List.of("demo: hello"), List.of());
        assertThat(JunitReport.of(v)).isEqualTo("""
                <?xml version="1.0" encoding="UTF-8"?>
                <testsuite name="rkmod.vmtest" tests="4" failures="0" errors="0" skipped="0" time="2.345">
                  <testcase classname="vmtest.demo" name="insmod"/>
                  <testcase classname="vmtest.demo" name="rmmod"/>
                  <testcase classname="vmtest.expect" name="demo: hello"/>
                  <testcase classname="vmtest.kernel" name="no kernel errors"/>
                </testsuite>
                """);
    }

    @Test
    void aTimeoutFailsTheKernelCase() {
        var v = verdict(List.of(new Reason.Timeout(new Step("insmod", 1, "demo", null), true)), List.of(), List.of(), List.of());
        assertThat(JunitReport.of(v)).contains("tests=\"1\" failures=\"1\"")
                .contains("<failure message=\"timed out in insmod demo (it did not return); QEMU was stopped\"/>");
    }

    @Test
    void onlyTheExpectedLineThatIsMissingFails() {
        // "hello" is found; "say hello" is not. Reading the reason text back, "hello" looked missing too.
        var v = verdict(List.of(new Reason.ExpectMissing("say hello")), List.of(), List.of("hello", "say hello"), List.of());
        assertThat(JunitReport.of(v)).contains("<testcase classname=\"vmtest.expect\" name=\"hello\"/>")
                .contains("<testcase classname=\"vmtest.expect\" name=\"say hello\">\n    <failure message=\"not found in the kernel log\"/>")
                .contains("<testcase classname=\"vmtest.kernel\" name=\"no kernel errors\"/>");
    }

    @Test
    void aKernelLogLineIsAKernelErrorWhateverItSays() {
        var crash = FailureCatalogue.get().byId("load.crash").orElseThrow();
        var v = verdict(List.of(new Reason.KernelLog(crash, "WARNING: helper exited with status 3")), List.of(), List.of(), List.of());
        assertThat(JunitReport.of(v)).contains("failures=\"1\"")
                .contains("<failure message=\"kernel log: WARNING: helper exited with status 3\"/>");
    }
}
