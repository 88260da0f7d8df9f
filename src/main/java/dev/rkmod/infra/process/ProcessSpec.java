package dev.rkmod.infra.process;

import dev.rkmod.model.ExitCode;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * One subprocess call: an argument vector (never a shell string), a working directory,
 * environment changes, and a mandatory timeout.
 */
public final class ProcessSpec {
    private final List<String> argv;
    private Path workDir;
    private final Map<String, String> env = new LinkedHashMap<>();
    private Duration timeout = Duration.ofMinutes(2);
    private String label;
    private boolean capture;
    private boolean stream = true;
    private boolean writeLog = true;
    private ExitCode failureCode = ExitCode.BUILD_FAILED;
    private boolean allowFailure;
    private boolean joinsNamespaces;
    private java.util.function.Consumer<String> lineListener;

    private ProcessSpec(List<String> argv) {
        if (argv.isEmpty()) {
            throw new IllegalArgumentException("empty argument vector");
        }
        for (String a : argv) {
            Objects.requireNonNull(a, "argument");
        }
        this.argv = List.copyOf(argv);
    }

    public static ProcessSpec of(String... argv) {
        return new ProcessSpec(List.of(argv));
    }

    public static ProcessSpec of(List<String> argv) {
        return new ProcessSpec(new ArrayList<>(argv));
    }

    public ProcessSpec workDir(Path dir) {
        this.workDir = dir;
        return this;
    }

    /** Sets an environment variable; a null value removes it. */
    public ProcessSpec env(String name, String value) {
        env.put(name, value);
        return this;
    }

    public ProcessSpec timeout(Duration t) {
        if (t == null || t.isZero() || t.isNegative()) {
            throw new IllegalArgumentException("a positive timeout is required");
        }
        this.timeout = t;
        return this;
    }

    public ProcessSpec label(String l) {
        this.label = l;
        return this;
    }

    /** Keep every output line in memory (for short outputs such as --version). */
    public ProcessSpec capture() {
        this.capture = true;
        return this;
    }

    /** Do not forward output lines as events. */
    public ProcessSpec quiet() {
        this.stream = false;
        return this;
    }

    /** Do not write a log file (for quick probes). */
    public ProcessSpec noLog() {
        this.writeLog = false;
        return this;
    }

    /** The exit code rkmod reports when this call fails. */
    public ProcessSpec failureCode(ExitCode code) {
        this.failureCode = code;
        return this;
    }

    /**
     * The program enters another process's namespaces (nsenter --pid): it gets no PID namespace of its own, only the
     * parent-death signal; what it starts lives in the namespace it joins and dies with that namespace's holder.
     */
    public ProcessSpec joinsNamespaces() {
        this.joinsNamespaces = true;
        return this;
    }

    public boolean joinsNamespacesOfOthers() {
        return joinsNamespaces;
    }

    /** A non-zero exit is returned in the result instead of thrown. */
    public ProcessSpec allowFailure() {
        this.allowFailure = true;
        return this;
    }

    /** Also hands every output line to {@code listener} (for progress counting). */
    public ProcessSpec onLine(java.util.function.Consumer<String> listener) {
        this.lineListener = listener;
        return this;
    }

    public java.util.function.Consumer<String> lineListener() {
        return lineListener;
    }

    public List<String> argv() {
        return argv;
    }

    public Path workDir() {
        return workDir;
    }

    public Map<String, String> env() {
        return Collections.unmodifiableMap(env);
    }

    public Duration timeout() {
        return timeout;
    }

    public String label() {
        if (label != null) {
            return label;
        }
        String p = argv.get(0);
        int slash = p.lastIndexOf('/');
        return slash >= 0 ? p.substring(slash + 1) : p;
    }

    public boolean captureOutput() {
        return capture;
    }

    public boolean streamOutput() {
        return stream;
    }

    public boolean writeLog() {
        return writeLog;
    }

    public ExitCode failureCode() {
        return failureCode;
    }

    public boolean failureAllowed() {
        return allowFailure;
    }

    /** The command as a user would type it, for messages only; never executed. */
    public String display() {
        StringBuilder sb = new StringBuilder();
        for (String a : argv) {
            if (!sb.isEmpty()) {
                sb.append(' ');
            }
            sb.append(a.isEmpty() || a.matches(".*[\\s'\"$`\\\\].*") ? "'" + a.replace("'", "'\\''") + "'" : a);
        }
        return sb.toString();
    }
}
