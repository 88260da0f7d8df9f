package dev.rkmod.infra.process;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * The outcome of a finished subprocess.
 *
 * @param output every line, when the spec asked for capture; otherwise empty
 * @param tail   the last lines of output
 * @param log    the full log file, or null when the spec asked for none
 */
public record ProcessResult(List<String> argv, int exitCode, List<String> output, List<String> tail,
                            Path log, Duration elapsed, boolean timedOut) {

    public boolean ok() {
        return exitCode == 0 && !timedOut;
    }

    /** The captured output joined with newlines. */
    public String text() {
        return String.join("\n", output);
    }
}
