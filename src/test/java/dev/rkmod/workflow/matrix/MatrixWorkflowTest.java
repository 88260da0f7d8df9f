package dev.rkmod.workflow.matrix;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The matrix's rules that need no kernel: parallelism, start order, explanations, the per-kernel copy. */
class MatrixWorkflowTest {
    static final long GIB = 1L << 30;

    @TempDir
    Path dir;

    @Test
    void defaultParallelismIsOneMoreThanTheCoresAsMemoryAllowsAtMostTheKernels() {
        assertThat(MatrixWorkflow.defaultJobs(3, 2, 22 * GIB)).isEqualTo(3);
        assertThat(MatrixWorkflow.defaultJobs(8, 2, 22 * GIB)).isEqualTo(3);
        assertThat(MatrixWorkflow.defaultJobs(2, 16, 22 * GIB)).isEqualTo(2);
        assertThat(MatrixWorkflow.defaultJobs(8, 16, 5 * GIB / 2)).as("memory bounds it").isEqualTo(2);
        assertThat(MatrixWorkflow.defaultJobs(8, 16, GIB / 2)).as("never below one").isEqualTo(1);
        assertThat(MatrixWorkflow.defaultJobs(8, 4, 0)).as("memory unknown: the cores").isEqualTo(4);
    }

    @Test
    void distroKernelsStartFirstTheRestAsGiven() {
        List<KernelSpec> k = KernelSpec.parseAll(List.of("6.1", "6.12", "debian-sid", "debian-sid:7.2.13+deb14-amd64"));
        assertThat(MatrixWorkflow.startOrder(k)).containsExactly(2, 3, 0, 1);
    }

    @Test
    void aFailedLoadIsExplainedByTheCatalogueFirstThenTheOtherReasons() {
        List<MatrixRow> rows = MatrixFixtures.result(dir).rows();
        MatrixRow oops = rows.get(2);
        assertThat(oops.explanations()).extracting(MatrixRow.Explanation::id).containsExactly("load.crash", null);
        assertThat(oops.explanations().get(0).seen()).startsWith("BUG: kernel NULL pointer dereference");
        assertThat(oops.explanations().get(1).title()).isEqualTo("insmod demo exited with status 137");
        assertThat(MatrixWorkflow.summary(oops)).isEqualTo("FAIL  in load: The kernel oopsed, warned or panicked [load.crash]");
        assertThat(MatrixWorkflow.summary(rows.get(0))).isEqualTo("PASS  build 1.5 s, load 1.4 s");
        assertThat(MatrixWorkflow.summary(rows.get(3))).startsWith("SKIPPED");
    }

    @Test
    void theModulesFirstLineIsItsOwnNotTheKernelsTaintNotice() {
        assertThat(MatrixFixtures.result(dir).rows().get(0).load().orElseThrow().firstLine()).contains("demo: Demo module (init)");
    }

    @Test
    void eachKernelGetsACopyOfTheSourceWithoutBuildOutputsOrHiddenDirectories() throws Exception {
        Path src = Files.createDirectories(dir.resolve("demo"));
        Files.writeString(src.resolve("Kbuild"), "obj-m := demo.o\n");
        Files.writeString(src.resolve("demo.rs"), "// module\n");
        Files.writeString(src.resolve(".gitignore"), "*.ko\n");
        Files.createDirectories(src.resolve("api"));
        Files.writeString(src.resolve("api/6.1.rs"), "// 6.1\n");
        for (String built : List.of("demo.o", "demo.ko", "demo.mod", "demo.mod.c", "demo.mod.o", ".demo.o.cmd",
                "Module.symvers", "modules.order")) {
            Files.writeString(src.resolve(built), "x");
        }
        Files.createDirectories(src.resolve(".git/objects"));
        Files.writeString(src.resolve(".git/HEAD"), "ref\n");
        Path dest = dir.resolve("rows/6.1/demo");
        Files.createDirectories(dest);
        Files.writeString(dest.resolve("stale.rs"), "old\n");
        assertThat(ModuleCopy.copy(src, dest)).isEqualTo(4);
        try (var s = Files.walk(dest)) {
            assertThat(s.filter(Files::isRegularFile).map(p -> dest.relativize(p).toString()))
                    .containsExactlyInAnyOrder("Kbuild", "demo.rs", ".gitignore", "api/6.1.rs");
        }
    }
}
