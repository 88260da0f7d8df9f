package dev.rkmod.arch;

import com.tngtech.archunit.lang.ArchRule;
import com.tngtech.archunit.library.Architectures;

import java.util.List;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

/** rkmod's layering, parameterised by the root package so it can be checked against fixtures. */
final class LayerRules {
    private LayerRules() {
    }

    static List<ArchRule> all(String base) {
        return List.of(layers(base), onlyCliPrints(base), oneProcessRunner(base), formatsArePure(base),
                workflowsFreeOfCycles(base));
    }

    /** cli → workflow → (infra, format) → model; nothing reaches back up. */
    static ArchRule layers(String base) {
        return Architectures.layeredArchitecture().consideringOnlyDependenciesInLayers()
                .layer("cli").definedBy(base + ".cli..")
                .layer("workflow").definedBy(base + ".workflow..")
                .layer("infra").definedBy(base + ".infra..")
                .layer("format").definedBy(base + ".format..")
                .layer("model").definedBy(base + ".model..")
                .whereLayer("cli").mayNotBeAccessedByAnyLayer()
                .whereLayer("workflow").mayOnlyBeAccessedByLayers("cli")
                .whereLayer("infra").mayOnlyBeAccessedByLayers("cli", "workflow")
                .whereLayer("format").mayOnlyBeAccessedByLayers("cli", "workflow", "infra")
                .whereLayer("model").mayOnlyBeAccessedByLayers("cli", "workflow", "infra", "format")
                .as("rkmod layers: cli -> workflow -> infra/format -> model");
    }

    /** Core code emits events; only the CLI writes to the terminal. */
    static ArchRule onlyCliPrints(String base) {
        return noClasses().that().resideOutsideOfPackage(base + ".cli..")
                .should().accessField(System.class, "out")
                .orShould().accessField(System.class, "err")
                .orShould().callMethod(Throwable.class, "printStackTrace")
                .as("nothing outside cli writes to System.out or System.err");
    }

    /** Subprocesses go through the one runner: argument vectors and timeouts. */
    static ArchRule oneProcessRunner(String base) {
        return noClasses().that().resideOutsideOfPackage(base + ".infra.process..")
                .should().dependOnClassesThat().belongToAnyOf(ProcessBuilder.class)
                .orShould().callMethod(Runtime.class, "exec", String.class)
                .orShould().callMethod(Runtime.class, "exec", String[].class)
                .as("only infra.process starts programs");
    }

    /** Facts flow one way: no workflow package depends, directly or not, on one that depends on it. */
    static ArchRule workflowsFreeOfCycles(String base) {
        return com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices()
                .matching(base + ".workflow.(*)..").should().beFreeOfCycles()
                .as("the workflow packages are free of cycles");
    }

    /** Readers of on-disk formats depend on nothing else of rkmod's but the model. */
    static ArchRule formatsArePure(String base) {
        return noClasses().that().resideInAnyPackage(base + ".format..", base + ".model..")
                .should().dependOnClassesThat().resideInAnyPackage(base + ".cli..", base + ".workflow..", base + ".infra..")
                .as("formats and models do not depend on cli, workflows or infrastructure");
    }
}
