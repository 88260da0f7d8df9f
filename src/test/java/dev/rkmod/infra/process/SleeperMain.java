package dev.rkmod.infra.process;

import java.nio.file.Path;
import java.time.Duration;

/** Test helper: a JVM that runs a long child through the runner until it is killed. */
public final class SleeperMain {
    private SleeperMain() {
    }

    public static void main(String[] args) {
        new ProcessRunner(e -> { }, Path.of(args[0])).run(ProcessSpec.of("sleep", "300").timeout(Duration.ofMinutes(10)));
    }
}
