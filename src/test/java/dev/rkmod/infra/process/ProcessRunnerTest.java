package dev.rkmod.infra.process;

import dev.rkmod.infra.event.Event;
import dev.rkmod.model.ExitCode;
import dev.rkmod.model.RkmodException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

class ProcessRunnerTest {
    @TempDir
    Path tmp;

    @Test
    void streamsEveryLineInOrderAndWritesTheLog() throws Exception {
        List<String> seen = new ArrayList<>();
        ProcessRunner runner = new ProcessRunner(e -> {
            if (e instanceof Event.OutputLine l) {
                seen.add(l.source() + ":" + l.line());
            }
        }, tmp.resolve("logs"));
        ProcessResult r = runner.run(ProcessSpec.of("seq", "1", "5").capture());
        assertThat(r.exitCode()).isZero();
        assertThat(r.output()).containsExactly("1", "2", "3", "4", "5");
        assertThat(seen).containsExactly("seq:1", "seq:2", "seq:3", "seq:4", "seq:5");
        assertThat(Files.readAllLines(r.log())).containsExactly("$ seq 1 5", "1", "2", "3", "4", "5");
    }

    @Test
    void failureCarriesExitCodeLastLinesAndLogPath() throws Exception {
        ProcessRunner runner = new ProcessRunner(e -> { }, tmp);
        ProcessFailedException ex = catchThrowableOfType(ProcessFailedException.class,
                () -> runner.run(ProcessSpec.of("sh", "-c", "seq 1 100; echo boom >&2; exit 7").label("make")));
        assertThat(ex.result().exitCode()).isEqualTo(7);
        assertThat(ex.exitCode()).isEqualTo(ExitCode.BUILD_FAILED);
        List<String> expectedTail = new ArrayList<>(IntStream.rangeClosed(72, 100).mapToObj(String::valueOf).toList());
        expectedTail.add("boom");
        assertThat(ex.result().tail()).containsExactlyElementsOf(expectedTail);
        assertThat(ex.paragraph()).contains("'make' failed with exit status 7").contains("boom")
                .contains("The full log is " + ex.result().log());
        assertThat(Files.readAllLines(ex.result().log())).hasSize(102);
    }

    @Test
    void allowedFailureIsReturned() {
        ProcessRunner runner = new ProcessRunner(e -> { }, tmp);
        ProcessResult r = runner.run(ProcessSpec.of("false").allowFailure().noLog());
        assertThat(r.exitCode()).isEqualTo(1);
        assertThat(r.ok()).isFalse();
        assertThat(r.log()).isNull();
    }

    @Test
    void timeoutKillsTheProcessAndItsChildren() throws Exception {
        ProcessRunner runner = new ProcessRunner(e -> { }, tmp);
        Path finished = tmp.resolve("finished");
        // a unique duration names the grandchild (as root the program runs in its own PID namespace, where $! is no host PID)
        String sleep = "300." + (1_000_000 + System.nanoTime() % 1_000_000);
        ProcessFailedException ex = catchThrowableOfType(ProcessFailedException.class, () -> runner.run(
                ProcessSpec.of("sh", "-c", "sleep " + sleep + " & wait $! && touch " + finished)
                        .timeout(Duration.ofMillis(700)).label("hang")));
        assertThat(ex.result().timedOut()).isTrue();
        assertThat(ex.paragraph()).contains("'hang' did not finish within 700 ms and was stopped");
        // stopped, not waited out: the sleep never completed (touch runs only after a sleep that ran its course)
        assertThat(finished).doesNotExist();
        long end = System.currentTimeMillis() + 5_000;
        while (ProcessHandle.allProcesses().anyMatch(h -> h.info().arguments().map(a -> List.of(a).contains(sleep)).orElse(false))) {
            assertThat(System.currentTimeMillis()).as("grandchild sleep still alive 5 s after the kill").isLessThan(end);
            Thread.sleep(20);
        }
    }

    /** SIGKILL is asynchronous: on a loaded machine the process may need a moment to die. */
    static boolean goneWithin(long pid, long millis) throws Exception {
        long end = System.currentTimeMillis() + millis;
        while (alive(pid)) {
            if (System.currentTimeMillis() > end) {
                return false;
            }
            Thread.sleep(20);
        }
        return true;
    }

    @Test
    void missingProgramIsAnEnvironmentError() {
        ProcessRunner runner = new ProcessRunner(e -> { }, tmp);
        assertThatThrownBy(() -> runner.run(ProcessSpec.of("/nonexistent/rustc", "--version")))
                .isInstanceOfSatisfying(RkmodException.class, e -> {
                    assertThat(e.exitCode()).isEqualTo(ExitCode.ENVIRONMENT);
                    assertThat(e.paragraph()).startsWith("Cannot run '/nonexistent/rustc'").contains("rkmod deps --install");
                });
    }

    @Test
    void environmentIsSetAndRemoved() {
        ProcessRunner runner = new ProcessRunner(e -> { }, tmp);
        ProcessResult r = runner.run(ProcessSpec.of("env").env("RKMOD_TEST_VAR", "42").env("HOME", null)
                .capture().quiet().noLog());
        assertThat(r.output()).contains("RKMOD_TEST_VAR=42");
        assertThat(r.output()).noneMatch(l -> l.startsWith("HOME="));
    }

    @Test
    void argumentsAreNeverInterpretedByAShell() {
        ProcessRunner runner = new ProcessRunner(e -> { }, tmp);
        ProcessResult r = runner.run(ProcessSpec.of("echo", "$HOME; rm -rf /", "`id`").capture().noLog());
        assertThat(r.output()).containsExactly("$HOME; rm -rf / `id`");
    }

    @Test
    void rejectsBadSpecs() {
        assertThatThrownBy(() -> ProcessSpec.of()).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> ProcessSpec.of("true").timeout(Duration.ZERO)).isInstanceOf(IllegalArgumentException.class);
    }

    /** Killing rkmod (SIGTERM, as Ctrl-C does with SIGINT) ends the programs it started. */
    @Test
    void terminatingTheJvmEndsItsChildren() throws Exception {
        String java = ProcessHandle.current().info().command().orElse("java");
        Path out = tmp.resolve("jvm.out");
        Process jvm = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
                SleeperMain.class.getName(), tmp.toString())
                .redirectErrorStream(true).redirectOutput(out.toFile()).start();
        long childPid = -1;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (childPid < 0 && System.nanoTime() < deadline) {
            for (ProcessHandle d : jvm.toHandle().descendants().toList()) {
                if (d.info().command().orElse("").endsWith("sleep")) {
                    childPid = d.pid();
                }
            }
            Thread.sleep(50);
        }
        assertThat(childPid).as("sleep child started").isPositive();
        jvm.destroy(); // SIGTERM
        assertThat(jvm.waitFor(20, TimeUnit.SECONDS)).isTrue();
        deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (alive(childPid) && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        assertThat(alive(childPid)).as("the child of the terminated JVM").isFalse();
    }

    /** Alive and not a zombie (a container's init may not reap orphans). */
    static boolean alive(long pid) throws Exception {
        Path stat = Path.of("/proc/" + pid + "/stat");
        if (!Files.exists(stat)) {
            return false;
        }
        try {
            String s = Files.readString(stat);
            return s.charAt(s.lastIndexOf(')') + 2) != 'Z';
        } catch (java.io.IOException e) {
            return false;
        }
    }

    @Test
    void logNamesCarryTheUtcTimeJavaTimeWouldFormat() {
        java.time.format.DateTimeFormatter f = java.time.format.DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")
                .withZone(java.time.ZoneOffset.UTC);
        java.util.Random r = new java.util.Random(20261129);
        List<Long> instants = new ArrayList<>(List.of(0L, 951_782_399_999L, 951_782_400_000L, 4_107_542_399_000L,
                1_798_502_399_999L, -1L, 253_402_300_799_000L));
        for (int i = 0; i < 20_000; i++) {
            instants.add(Math.floorMod(r.nextLong(), 253_402_300_800_000L)); // years 1970-9999
        }
        for (long t : instants) {
            assertThat(ProcessRunner.stamp(t)).as("t=" + t).isEqualTo(f.format(java.time.Instant.ofEpochMilli(t)));
        }
    }
}
