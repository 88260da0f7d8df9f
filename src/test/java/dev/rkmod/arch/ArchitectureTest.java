package dev.rkmod.arch;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.lang.ArchRule;
import com.tngtech.archunit.lang.FailureReport;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class ArchitectureTest {
    private static final String BAD = "fixtures.arch.bad";

    @Test
    void productionCodeKeepsTheLayers() {
        JavaClasses prod = new ClassFileImporter().withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                .importPackages("dev.rkmod");
        assertThat(prod.size()).isGreaterThan(20);
        for (ArchRule rule : LayerRules.all("dev.rkmod")) {
            rule.check(prod);
        }
    }

    /**
     * The same rules against a deliberately bad class set: each rule names exactly the violations planted for it
     * (the offending class and the dependency), and nothing else; the allowed dependencies (infra on model) and
     * the printing command pass.
     */
    @Test
    void rulesCatchViolations() {
        JavaClasses bad = new ClassFileImporter().importPackages(BAD);
        assertThat(bad.size()).isGreaterThanOrEqualTo(8);

        String badFormatReaches = "Method <fixtures.arch.bad.format.BadFormat.read()> calls ";
        assertViolations(LayerRules.layers(BAD), bad, "rkmod layers: cli -> workflow -> infra/format -> model",
                badFormatReaches + "constructor <fixtures.arch.bad.cli.BadCommand.<init>()> in (BadFormat.java:9)",
                badFormatReaches + "method <fixtures.arch.bad.cli.BadCommand.render(java.lang.String)> in (BadFormat.java:9)",
                badFormatReaches + "constructor <fixtures.arch.bad.workflow.PrintingWorkflow.<init>()> in (BadFormat.java:10)",
                badFormatReaches + "method <fixtures.arch.bad.workflow.PrintingWorkflow.run()> in (BadFormat.java:10)");

        assertViolations(LayerRules.formatsArePure(BAD), bad,
                "formats and models do not depend on cli, workflows or infrastructure",
                badFormatReaches + "constructor <fixtures.arch.bad.cli.BadCommand.<init>()> in (BadFormat.java:9)",
                badFormatReaches + "method <fixtures.arch.bad.cli.BadCommand.render(java.lang.String)> in (BadFormat.java:9)",
                badFormatReaches + "constructor <fixtures.arch.bad.workflow.PrintingWorkflow.<init>()> in (BadFormat.java:10)",
                badFormatReaches + "method <fixtures.arch.bad.workflow.PrintingWorkflow.run()> in (BadFormat.java:10)");

        // BadCommand prints too, but it is in cli
        assertViolations(LayerRules.onlyCliPrints(BAD), bad, "nothing outside cli writes to System.out or System.err",
                "Method <fixtures.arch.bad.workflow.PrintingWorkflow.run()> gets field <java.lang.System.out> in (PrintingWorkflow.java:6)");

        assertViolations(LayerRules.oneProcessRunner(BAD), bad, "only infra.process starts programs",
                "Method <fixtures.arch.bad.workflow.ShellWorkflow.run()> calls constructor "
                        + "<java.lang.ProcessBuilder.<init>([Ljava.lang.String;)> in (ShellWorkflow.java:8)",
                "Method <fixtures.arch.bad.workflow.ShellWorkflow.run()> calls method <java.lang.ProcessBuilder.start()> "
                        + "in (ShellWorkflow.java:8)");

        FailureReport cycles = LayerRules.workflowsFreeOfCycles(BAD).evaluate(bad).getFailureReport();
        assertThat(cycles.toString()).startsWith(header("the workflow packages are free of cycles", 1));
        assertThat(cycles.getDetails()).singleElement().satisfies(d -> assertThat(d.replaceAll("\\s+", " "))
                .startsWith("Cycle detected: Slice kernel -> Slice pack -> Slice kernel ")
                .contains("1. Dependencies of Slice kernel - Method <fixtures.arch.bad.workflow.kernel.CyclicKernel"
                        + ".toolchainFile()> calls constructor <fixtures.arch.bad.workflow.pack.CyclicPack.<init>()>")
                .contains("2. Dependencies of Slice pack - Method <fixtures.arch.bad.workflow.pack.CyclicPack.name()> "
                        + "calls method <fixtures.arch.bad.workflow.kernel.CyclicKernel.rustToolchain()>"));
    }

    /** The rule, by its name, reports exactly {@code details} (one line per offending access). */
    private static void assertViolations(ArchRule rule, JavaClasses classes, String ruleName, String... details) {
        FailureReport report = rule.evaluate(classes).getFailureReport();
        assertThat(report.toString()).as(ruleName).startsWith(header(ruleName, details.length));
        assertThat(report.getDetails()).as(ruleName).containsExactlyInAnyOrder(details);
    }

    private static String header(String ruleName, int times) {
        return "Architecture Violation [Priority: MEDIUM] - Rule '" + ruleName + "' was violated (" + times + " times)";
    }
}
