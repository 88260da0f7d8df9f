package dev.rkmod.fuzz;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.List;

/**
 * The long fuzz run of {@code bench/fuzz.sh}: EXECS inputs in total (default 10,000,000) split evenly over the targets
 * (or those named in TARGETS, comma separated), from SEED (default: a random one, printed, so that any finding can be
 * replayed), on THREADS threads (default 2), each input bounded by HANG_MS of CPU time (default 2000). Prints one line
 * per parser and exits 1 if any parser crashed with an untyped exception, hung or allocated beyond its input.
 */
public final class FuzzMain {
    private FuzzMain() {
    }

    public static void main(String[] args) throws Exception {
        long execs = Long.parseLong(env("EXECS", "10000000"));
        long seed = env("SEED", "").isEmpty() ? new SecureRandom().nextLong() : Long.parseLong(env("SEED", ""));
        int threads = Integer.parseInt(env("THREADS", "2"));
        long hang = Long.parseLong(env("HANG_MS", "2000"));
        Path findings = Path.of(env("FINDINGS", "target/fuzz-findings"));
        List<FuzzTarget> targets = FuzzTargets.all();
        String only = env("TARGETS", "");
        if (!only.isEmpty()) {
            List<String> names = List.of(only.split(","));
            targets = targets.stream().filter(t -> names.contains(t.name())).toList();
        }
        long each = Math.max(1, (execs + targets.size() - 1) / targets.size());
        Path scratch = Files.isDirectory(Path.of("/dev/shm")) ? Path.of("/dev/shm") : Path.of(System.getProperty("java.io.tmpdir"));
        System.out.printf("fuzz: seed %d, %d parsers x %d executions, %d threads, hang bound %d ms CPU%n",
                seed, targets.size(), each, threads, hang);
        long t0 = System.nanoTime();
        List<FuzzEngine.Stats> stats = new FuzzEngine(findings, scratch, hang).runAll(targets, each, seed, threads,
                s -> FuzzEngine.lines(s).forEach(System.out::println));
        long total = 0;
        long crashes = 0;
        long hangs = 0;
        long allocs = 0;
        for (FuzzEngine.Stats s : stats) {
            total += s.execs();
            crashes += s.crashes();
            hangs += s.hangs();
            allocs += s.allocs();
        }
        double secs = (System.nanoTime() - t0) / 1e9;
        System.out.printf("fuzz: %d executions in %.0f s (%.0f/s), %d untyped exceptions, %d hangs, %d allocations beyond"
                + " the input; seed %d%n", total, secs, total / secs, crashes, hangs, allocs, seed);
        String detail = FuzzEngine.describe(stats, 20);
        if (!detail.isEmpty()) {
            System.out.println("findings (inputs saved under " + findings + "):");
            System.out.print(detail);
            System.exit(1);
        }
    }

    private static String env(String name, String dflt) {
        String v = System.getenv(name);
        return v == null || v.isBlank() ? dflt : v.strip();
    }
}
