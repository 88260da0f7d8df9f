package dev.rkmod.fuzz;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Every parser of the table in {@link FuzzTargets} gets 50,000 mutated inputs from a fixed seed: none may throw
 * anything but its typed error, hang or allocate beyond its input. A failure names each saved input (under
 * target/fuzz-findings) and its stack; a crash found becomes a file in src/test/resources/fuzz/regressions/PARSER/.
 */
class FuzzIT {
    static final long EXECS = Long.getLong("rkmod.fuzz.execs", 50_000);
    static final long SEED = Long.getLong("rkmod.fuzz.seed", 20261129L);

    @Test
    void everyParserSurvivesFiftyThousandMutants() throws Exception {
        Path scratch = Files.isDirectory(Path.of("/dev/shm")) ? Path.of("/dev/shm") : Path.of(System.getProperty("java.io.tmpdir"));
        List<FuzzTarget> targets = FuzzTargets.all();
        List<FuzzEngine.Stats> stats = new FuzzEngine(Path.of("target/fuzz-findings"), scratch, 2000)
                .runAll(targets, EXECS, SEED, 2);
        stats.forEach(s -> FuzzEngine.lines(s).forEach(System.out::println));
        assertThat(stats.stream().flatMap(s -> s.findings().stream()).toList())
                .as("findings of the fuzz run, seed %d:%n%s", SEED, FuzzEngine.describe(stats, 10)).isEmpty();
        assertThat(stats).hasSize(targets.size()).allSatisfy(s -> {
            assertThat(s.execs()).isGreaterThanOrEqualTo(EXECS);
            assertThat(s.ok() + s.typed()).isEqualTo(s.execs());
            // the mutants reach past the first check: some parse, and the binary formats reject some
            assertThat(s.ok()).as(s.target() + " accepted inputs").isPositive();
        });
    }
}
