package dev.rkmod.arch;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.lang.ArchRule;
import com.tngtech.archunit.lang.EvaluationResult;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class ArchitectureTest {

    @Test
    void productionCodeKeepsTheLayers() {
        JavaClasses prod = new ClassFileImporter().withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                .importPackages("dev.rkmod");
        assertThat(prod.size()).isGreaterThan(20);
        for (ArchRule rule : LayerRules.all("dev.rkmod")) {
            rule.check(prod);
        }
    }

    /** The same rules against a deliberately bad class set: each must report its violation. */
    @Test
    void rulesCatchViolations() {
        JavaClasses bad = new ClassFileImporter().importPackages("fixtures.arch.bad");
        assertThat(bad.size()).isGreaterThanOrEqualTo(4);

        EvaluationResult layers = LayerRules.layers("fixtures.arch.bad").evaluate(bad);
        assertThat(layers.hasViolation()).isTrue();
        assertThat(layers.getFailureReport().getDetails())
                .anySatisfy(d -> assertThat(d).contains("BadFormat").contains("cli.BadCommand"))
                .anySatisfy(d -> assertThat(d).contains("BadFormat").contains("workflow.PrintingWorkflow"));

        EvaluationResult printing = LayerRules.onlyCliPrints("fixtures.arch.bad").evaluate(bad);
        assertThat(printing.getFailureReport().getDetails())
                .anySatisfy(d -> assertThat(d).contains("PrintingWorkflow").contains("System.out"))
                .noneSatisfy(d -> assertThat(d).contains("BadCommand"));

        EvaluationResult processes = LayerRules.oneProcessRunner("fixtures.arch.bad").evaluate(bad);
        assertThat(processes.getFailureReport().getDetails())
                .anySatisfy(d -> assertThat(d).contains("ShellWorkflow").contains("ProcessBuilder"));

        EvaluationResult pure = LayerRules.formatsArePure("fixtures.arch.bad").evaluate(bad);
        assertThat(pure.hasViolation()).isTrue();

        EvaluationResult cycles = LayerRules.workflowsFreeOfCycles("fixtures.arch.bad").evaluate(bad);
        assertThat(cycles.hasViolation()).isTrue();
        assertThat(cycles.getFailureReport().getDetails())
                .anySatisfy(d -> assertThat(d).contains("Cycle detected").contains("kernel").contains("pack"))
                .noneSatisfy(d -> assertThat(d).contains("PrintingWorkflow"));
    }
}
