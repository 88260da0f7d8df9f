package dev.rkmod.fuzz;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * Runs fuzz targets: a fixed number of mutated inputs each, from a seed, on a pool of threads (one target at a time
 * per thread, so a target's inputs depend on its seed only). Every input runs under a watchdog: more than
 * {@code hangMillis} of CPU time (or ten times that of wall time) is a hang, and the thread is stopped; an input that
 * makes the parser allocate more than 64 MiB (192 MiB for decompressing parsers) plus 64 times its own size is an
 * allocation finding (a length field trusted, a decompression bomb); any exception the target does not allow is a crash. A crash is minimised (chunks removed while the same
 * exception is thrown at the same place) and saved with its stack trace under the findings directory.
 */
public final class FuzzEngine {
    /** What went wrong with one input. */
    public enum Kind { CRASH, HANG, ALLOC }

    /** One distinct finding: its kind, its signature (exception and place), the saved input and the stack. */
    public record Finding(String target, Kind kind, String signature, Path input, String stack, int length) {
        @Override
        public String toString() {
            return target + ": " + kind + " " + signature + " (" + length + " bytes, saved as " + input + ")\n" + stack;
        }
    }

    /** The tally of one target. */
    public record Stats(String target, long execs, long ok, long typed, long crashes, long hangs, long allocs,
                        long millis, List<Finding> findings) {
        public long untyped() {
            return crashes;
        }
    }

    private static final int ALLOC_FACTOR = 64;

    private final Path findingsDir;
    private final Path scratchBase;
    private final long hangMillis;
    private final com.sun.management.ThreadMXBean mx =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    private final Map<Thread, Slot> slots = new ConcurrentHashMap<>();

    public FuzzEngine(Path findingsDir, Path scratchBase, long hangMillis) {
        this.findingsDir = findingsDir;
        this.scratchBase = scratchBase;
        this.hangMillis = hangMillis;
        mx.setThreadAllocatedMemoryEnabled(true);
        mx.setThreadCpuTimeEnabled(true);
    }

    /** The input a thread is running, watched. */
    private static final class Slot {
        final Thread thread;
        volatile long cpuStart = -1;
        volatile long wallStart;
        volatile boolean stopped;

        Slot(Thread thread) {
            this.thread = thread;
        }
    }

    /** The outcome of one input. */
    public record Outcome(Kind kind, Throwable error, long allocated) {
        public boolean finding() {
            return kind != null;
        }
    }

    /** Runs every target on {@code threads} threads; {@code execs} inputs each. */
    public List<Stats> runAll(List<FuzzTarget> targets, long execs, long seed, int threads) throws Exception {
        return runAll(targets, execs, seed, threads, s -> { });
    }

    /** As {@link #runAll(List, long, long, int)}, telling {@code done} about each target as it ends. */
    public List<Stats> runAll(List<FuzzTarget> targets, long execs, long seed, int threads,
                              java.util.function.Consumer<Stats> done) throws Exception {
        Thread watchdog = startWatchdog();
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Future<Stats>> fs = new ArrayList<>();
            for (FuzzTarget t : targets) {
                fs.add(pool.submit(() -> {
                    Stats s = run(t, FuzzTargets.seeds(t.name()), execs, seed);
                    synchronized (done) {
                        done.accept(s);
                    }
                    return s;
                }));
            }
            List<Stats> out = new ArrayList<>();
            for (Future<Stats> f : fs) {
                out.add(f.get());
            }
            return out;
        } finally {
            pool.shutdownNow();
            pool.awaitTermination(10, TimeUnit.SECONDS);
            watchdog.interrupt();
        }
    }

    /** {@code execs} inputs of one target on the calling thread: the seeds as they are, then mutants. */
    public Stats run(FuzzTarget t, List<byte[]> seeds, long execs, long seed) throws IOException {
        long t0 = System.nanoTime();
        Path scratch = Files.createTempDirectory(scratchBase, "fuzz-" + t.name() + "-");
        Mutator mut = new Mutator(seed ^ t.name().hashCode() * 0x9E3779B97F4A7C15L, t.text(), t.dictionary(),
                Math.max(64 << 10, 2 * seeds.stream().mapToInt(b -> b.length).max().orElse(0)));
        Map<String, Finding> findings = new LinkedHashMap<>();
        long ok = 0;
        long typed = 0;
        long crashes = 0;
        long hangs = 0;
        long allocs = 0;
        try {
            for (long i = 0; i < execs; i++) {
                byte[] in = i < seeds.size() ? seeds.get((int) i) : mut.mutate(seeds);
                Outcome o = exec(t, in, scratch);
                if (o.kind() == null) {
                    if (o.error() == null) {
                        ok++;
                    } else {
                        typed++;
                    }
                    continue;
                }
                switch (o.kind()) {
                    case CRASH -> crashes++;
                    case HANG -> hangs++;
                    case ALLOC -> allocs++;
                    default -> { }
                }
                String sig = signature(o);
                if (!findings.containsKey(sig)) {
                    byte[] small = o.kind() == Kind.CRASH ? minimise(t, in, sig, scratch) : in;
                    findings.put(sig, save(t, o, sig, small));
                }
            }
        } finally {
            FuzzTargets.deleteTree(scratch);
        }
        return new Stats(t.name(), execs, ok, typed, crashes, hangs, allocs, (System.nanoTime() - t0) / 1_000_000,
                List.copyOf(findings.values()));
    }

    /** Runs one input under the watchdog and classifies what happened. */
    public Outcome exec(FuzzTarget t, byte[] in, Path scratch) {
        Slot slot = slots.computeIfAbsent(Thread.currentThread(), Slot::new);
        long tid = Thread.currentThread().getId();
        long a0 = mx.getThreadAllocatedBytes(tid);
        Throwable error = null;
        try {
            slot.stopped = false;
            slot.wallStart = System.nanoTime();
            slot.cpuStart = mx.getCurrentThreadCpuTime();
            try {
                t.body().run(in, scratch);
            } finally {
                slot.cpuStart = -1;
            }
        } catch (Throwable e) {
            error = e;
        }
        if (slot.stopped) {
            slot.stopped = false;
            return new Outcome(Kind.HANG, error, 0);
        }
        long allocated = mx.getThreadAllocatedBytes(tid) - a0;
        if (error != null && !t.isAllowed(error)) {
            return new Outcome(Kind.CRASH, error, allocated);
        }
        if (allocated > t.allocBase() + (long) ALLOC_FACTOR * in.length) {
            return new Outcome(Kind.ALLOC, error, allocated);
        }
        return new Outcome(null, error, allocated);
    }

    /** Starts the daemon thread that stops inputs running too long; interrupt it to end it. */
    public Thread startWatchdog() {
        Thread w = new Thread(() -> {
            while (!Thread.currentThread().isInterrupted()) {
                try {
                    Thread.sleep(50);
                } catch (InterruptedException e) {
                    return;
                }
                long now = System.nanoTime();
                for (Slot s : slots.values()) {
                    long c0 = s.cpuStart;
                    if (c0 < 0 || s.stopped) {
                        continue;
                    }
                    long cpu = mx.getThreadCpuTime(s.thread.getId()) - c0;
                    long wall = now - s.wallStart;
                    if (s.cpuStart == c0 && (cpu > hangMillis * 1_000_000L || wall > hangMillis * 10_000_000L)) {
                        s.stopped = true;
                        stop(s.thread);
                    }
                }
            }
        }, "fuzz-watchdog");
        w.setDaemon(true);
        w.start();
        return w;
    }

    /** Thread.stop, still there in Java 17: the only way to end a parser caught in a loop. */
    private static void stop(Thread t) {
        try {
            Thread.class.getMethod("stop").invoke(t);
        } catch (ReflectiveOperationException | RuntimeException e) {
            // not supported: the hang is still reported when the input finishes
        }
    }

    /** The exception class and the first frame of rkmod code (else the first frame): one finding per place. */
    static String signature(Outcome o) {
        if (o.kind() == Kind.HANG) {
            return "HANG";
        }
        if (o.kind() == Kind.ALLOC) {
            return "ALLOC";
        }
        Throwable e = o.error();
        StackTraceElement where = null;
        for (StackTraceElement f : e.getStackTrace()) {
            if (f.getClassName().startsWith("dev.rkmod.") && !f.getClassName().startsWith("dev.rkmod.fuzz.")) {
                where = f;
                break;
            }
        }
        if (where == null && e.getStackTrace().length > 0) {
            where = e.getStackTrace()[0];
        }
        return e.getClass().getName() + (where == null ? "" : " at " + where.getClassName() + "." + where.getMethodName()
                + ":" + where.getLineNumber());
    }

    /** Removes chunks, halving their size, while the input still crashes the same way; bounded. */
    private byte[] minimise(FuzzTarget t, byte[] in, String sig, Path scratch) {
        byte[] best = in;
        int tries = 0;
        long deadline = System.nanoTime() + 5_000_000_000L;
        for (int chunk = Math.max(1, best.length / 2); chunk >= 1 && tries < 2000; chunk /= 2) {
            for (int at = 0; at + chunk <= best.length && tries < 2000 && System.nanoTime() < deadline; ) {
                byte[] cand = new byte[best.length - chunk];
                System.arraycopy(best, 0, cand, 0, at);
                System.arraycopy(best, at + chunk, cand, at, best.length - at - chunk);
                tries++;
                Outcome o = exec(t, cand, scratch);
                if (o.kind() == Kind.CRASH && signature(o).equals(sig)) {
                    best = cand;
                } else {
                    at += chunk;
                }
            }
        }
        return best;
    }

    private Finding save(FuzzTarget t, Outcome o, String sig, byte[] input) throws IOException {
        Path dir = Files.createDirectories(findingsDir.resolve(t.name()));
        String name = o.kind().name().toLowerCase() + "-" + sha1(input).substring(0, 12);
        Path file = dir.resolve(name + ".bin");
        Files.write(file, input);
        String stack;
        if (o.error() != null && o.kind() == Kind.CRASH) {
            StringWriter w = new StringWriter();
            o.error().printStackTrace(new PrintWriter(w));
            stack = w.toString();
        } else if (o.kind() == Kind.ALLOC) {
            stack = "allocated " + o.allocated() + " bytes for an input of " + input.length + " bytes"
                    + (o.error() == null ? "" : " (then threw " + o.error() + ")") + "\n";
        } else {
            stack = "ran for more than " + hangMillis + " ms of CPU time\n";
        }
        Files.writeString(dir.resolve(name + ".txt"), sig + "\n" + stack, StandardCharsets.UTF_8);
        return new Finding(t.name(), o.kind(), sig, file, stack, input.length);
    }

    static String sha1(byte[] b) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-1").digest(b));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** For messages: at most {@code n} findings, in full. */
    public static String describe(List<Stats> stats, int n) {
        StringBuilder sb = new StringBuilder();
        stats.stream().flatMap(s -> s.findings().stream()).limit(n).forEach(f -> sb.append(f).append('\n'));
        return sb.toString();
    }

    static List<String> lines(Stats s) {
        return Arrays.asList(String.format("%-20s %10d execs %9d ok %9d typed %5d untyped %4d hangs %4d allocs %7.1f s",
                s.target(), s.execs(), s.ok(), s.typed(), s.crashes(), s.hangs(), s.allocs(), s.millis() / 1000.0));
    }
}
