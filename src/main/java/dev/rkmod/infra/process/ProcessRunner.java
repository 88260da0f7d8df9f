package dev.rkmod.infra.process;

import dev.rkmod.infra.event.Event;
import dev.rkmod.infra.event.EventSink;
import dev.rkmod.infra.lifecycle.Cleanup;
import dev.rkmod.model.ExitCode;
import dev.rkmod.model.RkmodException;

import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The one way rkmod starts programs. Argument vectors only, a timeout on every call, output
 * streamed line by line to the event sink and to a log file, and children killed when rkmod
 * exits or the timeout expires.
 */
public final class ProcessRunner {
    public static final int TAIL_LINES = 30;

    private static final Set<Process> LIVE = ConcurrentHashMap.newKeySet();
    private static final AtomicLong SEQ = new AtomicLong();
    private static final AtomicBoolean SHUTTING_DOWN = new AtomicBoolean();

    static {
        Cleanup.register(Cleanup.Phase.PROCESSES, ProcessRunner::killAll);
    }

    private final EventSink sink;
    private final Path logDir;

    /**
     * @param logDir where full logs go; created on demand
     */
    public ProcessRunner(EventSink sink, Path logDir) {
        this.sink = sink;
        this.logDir = logDir;
    }

    public EventSink sink() {
        return sink;
    }

    /**
     * Starts finding out, on a background thread, how children are tied to rkmod's life (a run of
     * {@code setpriv ... unshare ... /bin/true}, about 15 ms), so that a workflow about to run programs after some
     * work of its own does not wait for it then. Calling it again, or never, changes nothing else.
     */
    public void prepare() {
        if (PREPARING.compareAndSet(false, true)) {
            dev.rkmod.infra.lifecycle.Background.start("rkmod-reaper-probe", () -> Reaper.INSTANCE.name());
        }
    }

    private static final AtomicBoolean PREPARING = new AtomicBoolean();

    /** The spec's argument vector (tied to rkmod's life, see {@link #reaped}), working directory and environment. */
    private static ProcessBuilder builder(ProcessSpec spec) {
        ProcessBuilder pb = new ProcessBuilder(reaped(spec.argv(), spec.joinsNamespacesOfOthers()));
        if (spec.workDir() != null) {
            pb.directory(spec.workDir().toFile());
        }
        Map<String, String> env = pb.environment();
        spec.env().forEach((k, v) -> {
            if (v == null) {
                env.remove(k);
            } else {
                env.put(k, v);
            }
        });
        return pb;
    }

    /** Runs the call to completion. Throws {@link ProcessFailedException} on failure unless allowed. */
    public ProcessResult run(ProcessSpec spec) {
        ProcessBuilder pb = builder(spec);
        pb.redirectErrorStream(true);
        pb.redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));

        Path log = spec.writeLog() ? newLogPath(spec.label()) : null;
        BufferedWriter writer = null;
        if (log != null) {
            try {
                Files.createDirectories(log.getParent());
                writer = Files.newBufferedWriter(log, StandardCharsets.UTF_8);
                writer.write("$ " + spec.display());
                writer.newLine();
            } catch (IOException e) {
                closeQuietly(writer);
                throw new RkmodException(ExitCode.ENVIRONMENT, "Cannot write the log " + log,
                        e.getClass().getSimpleName() + ": " + e.getMessage(),
                        "Free disk space or make " + log.getParent() + " writable", e);
            }
        }
        long start = System.nanoTime();
        Process process;
        try {
            process = pb.start();
        } catch (IOException e) {
            closeQuietly(writer);
            throw new RkmodException(ExitCode.ENVIRONMENT,
                    "Cannot run '" + spec.argv().get(0) + "'" + (spec.workDir() != null ? " in " + spec.workDir() : ""),
                    "The program is not installed, not executable, or the directory does not exist (" + e.getMessage() + ")",
                    "Install the missing tool; 'rkmod deps --install' installs everything rkmod uses", e);
        }
        LIVE.add(process);
        AtomicBoolean timedOut = new AtomicBoolean();
        Thread watchdog = startWatchdog(process, spec.timeout(), timedOut);
        List<String> captured = new ArrayList<>();
        Deque<String> tail = new ArrayDeque<>();
        int exit;
        try {
            pump(process, spec, writer, captured, tail);
            exit = process.waitFor();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            killTree(process);
            throw new RkmodException(ExitCode.INTERNAL, "Interrupted while running " + spec.label(), null, null, e);
        } catch (IOException | RuntimeException e) {
            killTree(process);
            throw new RkmodException(ExitCode.ENVIRONMENT, "Lost the output of '" + spec.label() + "'; it was stopped",
                    e.getClass().getSimpleName() + ": " + e.getMessage(),
                    "Check free disk space (its log is " + log + ")", e);
        } finally {
            closeQuietly(writer);
            watchdog.interrupt();
            LIVE.remove(process);
        }
        ProcessResult result = new ProcessResult(spec.argv(), exit, List.copyOf(captured), List.copyOf(tail), log,
                Duration.ofNanos(System.nanoTime() - start), timedOut.get());
        if (!result.ok() && SHUTTING_DOWN.get() && !spec.failureAllowed()) {
            throw new RkmodException(ExitCode.INTERNAL, "Interrupted: rkmod was stopped while '" + spec.label()
                    + "' was running", "Its programs were ended and partial results removed", null);
        }
        if (!result.ok() && !spec.failureAllowed()) {
            throw failure(spec, result);
        }
        return result;
    }

    /**
     * The argument vector wrapped so that the program and everything it starts die with rkmod, even when rkmod is
     * killed with SIGKILL and no shutdown hook runs: {@code setpriv --pdeathsig KILL} makes the kernel kill the wrapper
     * when this JVM dies, and as root {@code unshare --pid --fork --kill-child} runs the program as the first process
     * of its own PID namespace, so that its children, grandchildren and daemons go with it. The program is looked up
     * on rkmod's PATH first, as ProcessBuilder would. A program that joins another process's namespaces (nsenter
     * --pid, see {@link ProcessSpec#joinsNamespaces}) gets the signal only: it could not enter a PID namespace that is not
     * below its own; a program that cannot be found is left unwrapped, so that the
     * failure to start it is reported as before.
     */
    static List<String> reaped(List<String> argv, boolean joinsNamespaces) {
        Reaper r = Reaper.INSTANCE;
        if (r == Reaper.NONE) {
            return argv;
        }
        Path program = resolve(argv.get(0));
        if (program == null) {
            return argv;
        }
        List<String> out = new ArrayList<>(List.of(SETPRIV, "--pdeathsig", "KILL", "--"));
        if (r == Reaper.PID_NAMESPACE && !joinsNamespaces) {
            out.addAll(List.of(UNSHARE, "--pid", "--fork", "--kill-child=KILL", "--"));
        }
        out.add(program.toString());
        out.addAll(argv.subList(1, argv.size()));
        return out;
    }

    private static final String SETPRIV = "/usr/bin/setpriv";
    private static final String UNSHARE = "/usr/bin/unshare";

    /** How children are tied to rkmod's life; probed once. */
    private enum Reaper {
        NONE, PARENT_DEATH_SIGNAL, PID_NAMESPACE;

        static final Reaper INSTANCE = probe();

        private static Reaper probe() {
            if (System.getenv("RKMOD_NO_REAPER") != null || !Files.isExecutable(Path.of(SETPRIV))) {
                return NONE;
            }
            if (!Files.isExecutable(Path.of(UNSHARE))) {
                return PARENT_DEATH_SIGNAL;
            }
            try {
                Process p = new ProcessBuilder(SETPRIV, "--pdeathsig", "KILL", "--", UNSHARE, "--pid", "--fork",
                        "--kill-child=KILL", "--", "/bin/true")
                        .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD)
                        .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))).start();
                if (p.waitFor(10, TimeUnit.SECONDS) && p.exitValue() == 0) {
                    return PID_NAMESPACE;
                }
                p.destroyForcibly();
            } catch (IOException e) {
                return NONE;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return PARENT_DEATH_SIGNAL; // not root: the program itself still dies with rkmod
        }
    }

    private static Path resolve(String program) {
        if (program.contains("/")) {
            Path p = Path.of(program).toAbsolutePath();
            return Files.isExecutable(p) && !Files.isDirectory(p) ? p : null;
        }
        String path = System.getenv("PATH");
        for (String d : (path == null ? "/usr/bin:/bin" : path).split(":")) {
            if (d.isEmpty()) {
                continue;
            }
            Path p = Path.of(d, program).toAbsolutePath();
            if (Files.isExecutable(p) && !Files.isDirectory(p)) {
                return p;
            }
        }
        return null;
    }

    /** A program that runs beside rkmod (such as the holder of a mount namespace) until it is closed. */
    public static final class Background implements AutoCloseable {
        private final Process process;

        private Background(Process process) {
            this.process = process;
        }

        /** The process rkmod started (a wrapper, when children are tied to rkmod's life). */
        public ProcessHandle handle() {
            return process.toHandle();
        }

        public boolean isAlive() {
            return process.isAlive();
        }

        /** Ends it and everything it started, and waits for that. */
        @Override
        public void close() {
            killTree(process);
            LIVE.remove(process);
            try {
                process.waitFor(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /**
     * Starts {@code spec} in the background, its output discarded and its input an open pipe. It is ended by
     * {@link Background#close()}, when rkmod exits, and (through the same wrapper as {@link #run}) when rkmod is killed.
     */
    public Background start(ProcessSpec spec) {
        ProcessBuilder pb = builder(spec);
        pb.redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD);
        try {
            Process p = pb.start();
            LIVE.add(p);
            return new Background(p);
        } catch (IOException e) {
            throw new RkmodException(ExitCode.ENVIRONMENT, "Cannot run '" + spec.argv().get(0) + "'",
                    "The program is not installed or not executable (" + e.getMessage() + ")",
                    "Install it (util-linux provides unshare, nsenter and setpriv)", e);
        }
    }

    private void pump(Process process, ProcessSpec spec, BufferedWriter writer, List<String> captured,
                      Deque<String> tail) throws IOException {
        try (BufferedReader reader = new BufferedReader(
                new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = reader.readLine()) != null) {
                if (writer != null) {
                    writer.write(line);
                    writer.newLine();
                }
                if (tail.size() == TAIL_LINES) {
                    tail.removeFirst();
                }
                tail.addLast(line);
                if (spec.captureOutput()) {
                    captured.add(line);
                }
                if (spec.streamOutput()) {
                    sink.emit(new Event.OutputLine(spec.label(), line));
                }
                if (spec.lineListener() != null) {
                    spec.lineListener().accept(line);
                }
            }
        }
    }

    private static void closeQuietly(BufferedWriter w) {
        if (w != null) {
            try {
                w.close();
            } catch (IOException ignored) {
                // the result still carries the tail
            }
        }
    }

    private static Thread startWatchdog(Process process, Duration timeout, AtomicBoolean timedOut) {
        Thread t = new Thread(() -> {
            try {
                if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                    timedOut.set(true);
                    killTree(process);
                }
            } catch (InterruptedException ignored) {
                // the process finished first
            }
        }, "rkmod-watchdog");
        t.setDaemon(true);
        t.start();
        return t;
    }

    /** Ends a process and all its descendants: TERM first, KILL after a grace period. */
    static void killTree(Process process) {
        List<ProcessHandle> all = new ArrayList<>();
        process.toHandle().descendants().forEach(all::add);
        all.add(process.toHandle());
        all.forEach(ProcessHandle::destroy);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
        for (ProcessHandle h : all) {
            while (h.isAlive() && System.nanoTime() < deadline) {
                try {
                    Thread.sleep(20);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    break;
                }
            }
            if (h.isAlive()) {
                h.descendants().forEach(ProcessHandle::destroyForcibly);
                h.destroyForcibly();
            }
        }
    }

    private static void killAll() {
        SHUTTING_DOWN.set(true);
        for (Process p : LIVE) {
            killTree(p);
        }
    }

    private RkmodException failure(ProcessSpec spec, ProcessResult result) {
        String what = result.timedOut()
                ? "'" + spec.label() + "' did not finish within " + human(spec.timeout()) + " and was stopped"
                : "'" + spec.label() + "' failed with exit status " + result.exitCode();
        StringBuilder why = new StringBuilder("Command: ").append(spec.display());
        if (!result.tail().isEmpty()) {
            why.append("\nLast lines of its output:\n");
            for (String l : result.tail()) {
                why.append("  ").append(l).append('\n');
            }
        }
        String fix = result.log() != null ? "The full log is " + result.log() : null;
        return new ProcessFailedException(spec.failureCode(), what, why.toString().stripTrailing(), fix, result);
    }

    private Path newLogPath(String label) {
        StringBuilder safe = new StringBuilder(label.length());
        for (int i = 0; i < label.length(); i++) {
            char c = label.charAt(i);
            boolean plain = c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '.' || c == '_'
                    || c == '-';
            safe.append(plain ? c : '_');
        }
        return logDir.resolve(stamp(System.currentTimeMillis()) + "-" + ProcessHandle.current().pid() + "-"
                + SEQ.incrementAndGet() + "-" + safe + ".log");
    }

    /**
     * yyyyMMdd-HHmmss of a time in UTC, computed without java.time's formatter and time-zone data (about 7 ms in a
     * fresh JVM, paid by every command that runs a program).
     */
    static String stamp(long epochMillis) {
        long secs = Math.floorDiv(epochMillis, 1000L);
        long days = Math.floorDiv(secs, 86_400L);
        int sod = (int) Math.floorMod(secs, 86_400L);
        // civil from days (proleptic Gregorian), as in Howard Hinnant's algorithm
        long z = days + 719_468;
        long era = Math.floorDiv(z, 146_097);
        long doe = z - era * 146_097;
        long yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        long mp = (5 * doy + 2) / 153;
        long d = doy - (153 * mp + 2) / 5 + 1;
        long m = mp < 10 ? mp + 3 : mp - 9;
        long y = yoe + era * 400 + (m <= 2 ? 1 : 0);
        return String.valueOf(y) + two(m) + two(d) + "-" + two(sod / 3600) + two(sod / 60 % 60) + two(sod % 60);
    }

    private static String two(long v) {
        return v < 10 ? "0" + v : String.valueOf(v);
    }

    static String human(Duration d) {
        if (d.toMillis() < 1000) {
            return d.toMillis() + " ms";
        }
        long s = d.toSeconds();
        if (s < 120) {
            return s + " s";
        }
        return (s / 60) + " min" + (s % 60 != 0 ? " " + (s % 60) + " s" : "");
    }
}
