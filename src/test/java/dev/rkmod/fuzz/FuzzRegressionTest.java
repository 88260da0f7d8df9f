package dev.rkmod.fuzz;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Replays, fast, what the fuzzer found: every file under src/test/resources/fuzz/regressions/PARSER/ must now give the
 * parser's typed error or a result, within the hang bound and without allocating beyond its size. And every seed, a
 * real file, must parse without any error, so that the fuzz targets really reach the parsers' insides.
 */
class FuzzRegressionTest {
    static final Path REGRESSIONS = Path.of("src/test/resources/fuzz/regressions");
    static Thread watchdog;
    static FuzzEngine engine;

    @TempDir
    static Path tmp;

    @BeforeAll
    static void start() throws IOException {
        engine = new FuzzEngine(tmp.resolve("findings"), tmp, 2000);
        watchdog = engine.startWatchdog();
    }

    @AfterAll
    static void stop() {
        watchdog.interrupt();
    }

    @TestFactory
    Stream<DynamicTest> regressionInputsGiveTypedErrors() throws IOException {
        List<DynamicTest> out = new ArrayList<>();
        try (Stream<Path> files = Files.walk(REGRESSIONS)) {
            for (Path f : files.filter(p -> Files.isRegularFile(p) && p.toString().endsWith(".bin"))
                    .sorted(Comparator.comparing(Path::toString)).toList()) {
                String target = f.getParent().getFileName().toString();
                out.add(DynamicTest.dynamicTest(target + "/" + f.getFileName(), () -> {
                    FuzzTarget t = FuzzTargets.byName(target);
                    Path scratch = Files.createTempDirectory(tmp, target);
                    FuzzEngine.Outcome o = engine.exec(t, Files.readAllBytes(f), scratch);
                    assertThat(o.finding()).as("%s: %s after allocating %d bytes: %s", f, o.kind(), o.allocated(), o.error()).isFalse();
                }));
            }
        }
        assertThat(out).as("regression inputs under " + REGRESSIONS).isNotEmpty();
        return out.stream();
    }

    @TestFactory
    Stream<DynamicTest> seedsParseCleanly() {
        return FuzzTargets.all().stream().map(t -> DynamicTest.dynamicTest(t.name(), () -> {
            Path scratch = Files.createTempDirectory(tmp, t.name());
            for (byte[] seed : FuzzTargets.seeds(t.name())) {
                FuzzEngine.Outcome o = engine.exec(t, seed, scratch);
                assertThat(o.finding()).isFalse();
                assertThat(o.error()).as(t.name() + " on a seed").isNull();
            }
        }));
    }
}
