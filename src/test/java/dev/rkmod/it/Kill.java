package dev.rkmod.it;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Running rkmod and killing it with SIGKILL, for the crash and concurrency tests: only the JVM is killed (as the OOM
 * killer or {@code kill -9} would), never its children, which must die with it on their own.
 */
final class Kill {
    private Kill() {
    }

    /** A running {@code java -jar rkmod.jar ...}; its output goes to files. */
    record Run(Process process, Path out, Path err, List<String> args) {
        String stderr() throws IOException {
            return Files.readString(err, StandardCharsets.UTF_8);
        }

        String stdout() throws IOException {
            return Files.readString(out, StandardCharsets.UTF_8);
        }

        int waitExit(long seconds) throws Exception {
            if (!process.waitFor(seconds, TimeUnit.SECONDS)) {
                process.descendants().forEach(ProcessHandle::destroyForcibly);
                process.destroyForcibly();
                throw new AssertionError("rkmod " + args + " did not finish in " + seconds + " s");
            }
            return process.exitValue();
        }
    }

    static Run start(Path logDir, Map<String, String> env, String... args) throws IOException {
        String java = ProcessHandle.current().info().command().orElse("java");
        List<String> argv = new ArrayList<>(List.of(java, "-jar", Rkmod.jar().toString()));
        argv.addAll(List.of(args));
        Files.createDirectories(logDir);
        Path out = Files.createTempFile(logDir, "run", ".out");
        Path err = Files.createTempFile(logDir, "run", ".err");
        ProcessBuilder pb = new ProcessBuilder(argv).redirectOutput(out.toFile()).redirectError(err.toFile());
        pb.environment().putAll(env);
        return new Run(pb.start(), out, err, List.of(args));
    }

    /** What a kill left: whether it hit a running rkmod, and which of its descendants were alive at that moment. */
    record Outcome(boolean killed, List<ProcessHandle> children, long pid) { }

    /**
     * Kills the JVM with SIGKILL {@code millis} after it started, unless it finished before; returns what was running.
     */
    static Outcome killAfter(Run run, long millis) throws Exception {
        Process p = run.process();
        if (p.waitFor(millis, TimeUnit.MILLISECONDS)) {
            return new Outcome(false, List.of(), p.pid());
        }
        List<ProcessHandle> children = p.descendants().toList();
        p.destroyForcibly(); // SIGKILL to the JVM alone
        p.waitFor(30, TimeUnit.SECONDS);
        return new Outcome(true, children, p.pid());
    }

    /** Every process the killed rkmod had started is gone within a few seconds, without anyone killing it. */
    static void assertChildrenGone(Outcome o) throws Exception {
        long end = System.currentTimeMillis() + 5_000;
        List<ProcessHandle> alive;
        do {
            alive = o.children().stream().filter(ProcessHandle::isAlive).toList();
            if (alive.isEmpty()) {
                return;
            }
            Thread.sleep(50);
        } while (System.currentTimeMillis() < end);
        String what = alive.stream().map(h -> h.pid() + " " + h.info().commandLine().orElse("?")).collect(Collectors.joining("; "));
        alive.forEach(ProcessHandle::destroyForcibly);
        throw new AssertionError("children of the killed rkmod (pid " + o.pid() + ") still run 5 s later: " + what);
    }

    /** The host's mount table (as {@code findmnt} prints it) has nothing at or below any of {@code dirs}. */
    static void assertNothingMounted(Path... dirs) throws Exception {
        assertNothingMounted(List.of(dirs), List.of());
    }

    /**
     * The host's mount table (as {@code findmnt} prints it) has nothing at or below {@code dirs}, and nothing below
     * {@code sharedRoots} (a Debian root that other programs on this machine may use at the same time) that names one of
     * {@code marks} (a work directory, a killed process's {@code .pidN.} directories).
     */
    static void assertNothingMounted(List<Path> dirs, List<Path> sharedRoots, String... marks) throws Exception {
        String table = ItSetup.run(List.of("findmnt", "-rn", "-o", "TARGET"));
        for (String line : table.split("\n")) {
            String target = line.strip().replace("\\x20", " ");
            for (Path d : dirs) {
                String dir = d.toAbsolutePath().normalize().toString();
                assertThat(target.equals(dir) || target.startsWith(dir + "/")).as("findmnt still lists " + target).isFalse();
            }
            for (Path r : sharedRoots) {
                if (target.startsWith(r.toAbsolutePath().normalize() + "/")) {
                    for (String m : marks) {
                        assertThat(target).as("findmnt still lists a mount of rkmod's in the root").doesNotContain(m);
                    }
                }
            }
        }
    }

    /** Relative path to size (or link target) of every file below {@code dir}, for comparing trees. */
    static Map<String, String> snapshot(Path dir) throws IOException {
        Map<String, String> out = new TreeMap<>();
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.toList()) {
                String rel = dir.relativize(p).toString();
                if (Files.isSymbolicLink(p)) {
                    out.put(rel, "-> " + Files.readSymbolicLink(p));
                } else if (Files.isRegularFile(p)) {
                    out.put(rel, Long.toString(Files.size(p)));
                } else {
                    out.put(rel + "/", "dir");
                }
            }
        }
        return out;
    }

    /** Names in {@code dir} (not recursive). */
    static Set<String> names(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            return Set.of();
        }
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).collect(Collectors.toCollection(java.util.TreeSet::new));
        }
    }

    /** {@code count} kill times spread evenly over (0, {@code span}) milliseconds, plus {@code offset}. */
    static List<Long> spread(int count, long offset, long span) {
        List<Long> out = new ArrayList<>();
        for (int i = 1; i <= count; i++) {
            out.add(offset + span * i / (count + 1));
        }
        return out;
    }

    static Map<String, String> env(String k, String v) {
        Map<String, String> m = new HashMap<>();
        m.put(k, v);
        return m;
    }
}
