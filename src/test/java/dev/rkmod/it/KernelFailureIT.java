package dev.rkmod.it;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * How `kernel build` fails: a real compile error in a real 6.1 source, an interrupted build, and a
 * toolchain without rust-src. Each run uses its own cache so nothing half-built can hide.
 */
class KernelFailureIT {
    @ItSetup.Work("rkmod-kfail")
    static Path work;
    static Path brokenSource;

    @BeforeAll
    static void copySource() throws Exception {
        ItSetup.run(List.of("tar", "-xf", "/usr/src/linux-source-6.1.tar.xz", "-C", work.toString()));
        brokenSource = work.resolve("linux-source-6.1");
        // scripts/mod/empty.c is compiled early in the make stage, after configuration succeeded
        Files.writeString(brokenSource.resolve("scripts/mod/empty.c"),
                "\n#error rkmod-it-deliberate-failure\n", StandardOpenOption.APPEND);
    }

    private static List<Path> list(Path dir) throws Exception {
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> s = Files.list(dir)) {
            return s.toList();
        }
    }

    @Test
    void aCompileErrorExits4WithTheLastLinesAndTheLog() throws Exception {
        Path cache = work.resolve("cache-fail");
        Rkmod.Result r = Rkmod.jar(Map.of("XDG_CACHE_HOME", cache.toString()),
                "kernel", "build", "--source", brokenSource.toString(), "--profile", "6.1");
        assertThat(r.exit()).as(r.err()).isEqualTo(4);
        assertThat(r.err()).contains("rkmod: error: 'make' failed with exit status")
                .contains("rkmod-it-deliberate-failure").contains("The full log is " + cache.resolve("rkmod/logs"))
                .doesNotContain("\tat ");
        assertThat(list(cache.resolve("rkmod/kernel"))).isEmpty();
        assertThat(list(cache.resolve("rkmod/tmp"))).isEmpty();
    }

    @Test
    void anInterruptedBuildEndsMakeAndLeavesNothingHalfWritten() throws Exception {
        Path cache = work.resolve("cache-interrupt");
        Path fragment = work.resolve("interrupt.config");
        Files.writeString(fragment, "CONFIG_LOCALVERSION=\"-interrupted\"\n");
        String java = ProcessHandle.current().info().command().orElse("java");
        ProcessBuilder pb = new ProcessBuilder(java, "-jar", Rkmod.jar().toString(), "kernel", "build", "--profile", "6.1",
                "--fragment", fragment.toString()).redirectErrorStream(true);
        pb.environment().put("XDG_CACHE_HOME", cache.toString());
        Process p = pb.start();
        List<Long> makePids = new ArrayList<>();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = r.readLine()) != null) {
                if (line.startsWith("==> make")) {
                    break;
                }
            }
            assertThat(line).as("make started").isNotNull();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (makePids.isEmpty() && System.nanoTime() < deadline) {
                p.descendants().filter(h -> h.info().command().orElse("").endsWith("make")).forEach(h -> makePids.add(h.pid()));
                Thread.sleep(100);
            }
            assertThat(makePids).isNotEmpty();
            // SIGTERM: a background JVM may have SIGINT ignored by its parent shell; both run the same shutdown path
            new ProcessBuilder("kill", "-TERM", String.valueOf(p.pid())).start().waitFor();
            assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        } finally {
            p.destroyForcibly();
        }
        for (long pid : makePids) {
            // SIGKILL is asynchronous: give a loaded machine a moment before calling make a survivor
            long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            while (alive(pid) && System.nanoTime() < until) {
                Thread.sleep(20);
            }
            assertThat(alive(pid)).as("make " + pid + " after Ctrl-C").isFalse();
        }
        assertThat(list(cache.resolve("rkmod/kernel"))).isEmpty();
        assertThat(list(cache.resolve("rkmod/tmp"))).isEmpty();
    }

    @Test
    void aRustcWithoutRustSrcIsAnEnvironmentError() throws Exception {
        Path rustup = Path.of(System.getProperty("user.home"), ".cargo/bin/rustc");
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isExecutable(rustup), "rustup's rustc is installed");
        Rkmod.Result r = Rkmod.jar(Map.of(), "kernel", "config", "--profile", "6.1", "--toolchain", rustup.toString());
        assertThat(r.exit()).isEqualTo(3);
        assertThat(r.err()).contains("lacks rust-src").contains("rkmod deps --install");
    }

    static boolean alive(long pid) throws Exception {
        Path stat = Path.of("/proc/" + pid + "/stat");
        if (!Files.exists(stat)) {
            return false;
        }
        String s = Files.readString(stat);
        return s.charAt(s.lastIndexOf(')') + 2) != 'Z';
    }
}
