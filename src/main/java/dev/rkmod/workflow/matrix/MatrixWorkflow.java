package dev.rkmod.workflow.matrix;

import dev.rkmod.format.FormatException;
import dev.rkmod.format.HeadersManifest;
import dev.rkmod.format.ProjectToml;
import dev.rkmod.infra.cache.CacheKey;
import dev.rkmod.infra.event.Event;
import dev.rkmod.infra.fs.FileOps;
import dev.rkmod.model.Distro;
import dev.rkmod.model.ExitCode;
import dev.rkmod.model.FailureCatalogue;
import dev.rkmod.model.Finding;
import dev.rkmod.model.Profile;
import dev.rkmod.model.RkmodException;
import dev.rkmod.workflow.Context;
import dev.rkmod.workflow.build.BuildWorkflow;
import dev.rkmod.workflow.toolchain.DebianRoots;
import dev.rkmod.workflow.toolchain.RustcFinder;
import dev.rkmod.workflow.vm.Reason;
import dev.rkmod.workflow.vm.VmTestWorkflow;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;

/**
 * `rkmod matrix`: one module against many kernels, in parallel on this machine. For each kernel (a row): the kernel
 * ({@link KernelResolver}: cached kernels, packages and completed headers), a copy of the module's source of its own,
 * {@code rkmod build}'s workflow (doctor's check, the kernel's exact rustc, the catalogue's explanation of a failure)
 * and {@code rkmod vmtest}'s. At most {@code jobs} rows run at once; a failed row never stops the others (unless
 * --fail-fast, which starts no new row after a failure). Rows that would use the same Debian root at the same time
 * (its /proc and bind mounts) take turns for that step.
 */
public final class MatrixWorkflow {
    /** The stage that brackets a row in its scope's events. */
    public static final String ROW_STAGE = "row";
    /** What one row may need at once: QEMU's memory (512 MiB for a distro kernel) and a rustc compiling a module. */
    static final long ROW_MEMORY = 1L << 30;
    private static final Duration BUILD_TIMEOUT = Duration.ofMinutes(30);
    private static final Map<Path, ReentrantLock> HOME_LOCKS = new ConcurrentHashMap<>();

    private final Context ctx;
    private final Map<String, ReentrantLock> rootLocks = new ConcurrentHashMap<>();
    /** The rustc candidates of this machine, looked up once: which toolchain (and root) builds for each kernel. */
    private volatile List<RustcFinder.Candidate> candidates = List.of();

    public MatrixWorkflow(Context ctx) {
        this.ctx = ctx;
    }

    /**
     * What `rkmod matrix` was asked for; {@code vmTimeout} bounds each kernel's VM; {@code devices} and {@code run} are
     * every row's vmtest --device and --run (the module directory's rkmod.toml adds its own).
     */
    public record Request(Path dir, List<KernelSpec> kernels, int jobs, Duration vmTimeout, boolean failFast,
                          Optional<Path> junit, List<String> devices, List<Path> run) {
        public Request(Path dir, List<KernelSpec> kernels, int jobs, Duration vmTimeout, boolean failFast,
                       Optional<Path> junit) {
            this(dir, kernels, jobs, vmTimeout, failFast, junit, List.of(), List.of());
        }
    }

    /** The rows in the order the kernels were given. */
    public record Result(Path dir, String module, Path home, List<MatrixRow> rows, int jobs, Duration took) {
        public boolean pass() {
            return rows.stream().allMatch(r -> r.status() == MatrixRow.Status.PASS);
        }
    }

    /**
     * Parallel rows by default: one more than the cores (a row mostly keeps one process busy, a single-crate rustc or
     * TCG's one vCPU, and waits in between), at most what the available memory holds at {@link #ROW_MEMORY} a row,
     * and no more than there are kernels.
     */
    public static int defaultJobs(int kernels, int cores, long availableMemory) {
        long byMemory = availableMemory > 0 ? Math.max(1, availableMemory / ROW_MEMORY) : cores;
        return (int) Math.max(1, Math.min(kernels, Math.min(cores + 1L, byMemory)));
    }

    /** MemAvailable of this machine in bytes, or 0 when unknown. */
    public long availableMemory() {
        try {
            for (String l : Files.readAllLines(ctx.host().fsRoot().resolve("proc/meminfo"), StandardCharsets.UTF_8)) {
                if (l.startsWith("MemAvailable:")) {
                    return Long.parseLong(l.replaceAll("[^0-9]", "")) * 1024;
                }
            }
        } catch (IOException | NumberFormatException e) {
            return 0;
        }
        return 0;
    }

    public Result run(Request req) {
        long start = System.nanoTime();
        Path dir = req.dir().toAbsolutePath().normalize();
        if (!Files.isRegularFile(dir.resolve("Kbuild")) && !Files.isRegularFile(dir.resolve("Makefile"))) {
            throw new RkmodException(ExitCode.USAGE, dir + " is not a module project", "It has no Kbuild or Makefile",
                    "Create one with 'rkmod new NAME --kdir KDIR', or pass the module's directory");
        }
        if (req.jobs() < 1 || req.kernels().isEmpty()) {
            throw new RkmodException(ExitCode.USAGE, "The matrix needs at least one kernel and -j of at least 1", null, null);
        }
        // the devices and programs every row's VM gets, checked once before any row: a program the VM cannot run
        // is refused here (exit 2), not by each kernel in turn
        Optional<ProjectToml> toml;
        try {
            toml = ProjectToml.read(dir);
        } catch (IOException | FormatException e) {
            toml = Optional.empty(); // each row's vmtest warns about it
        }
        List<Path> run = req.run().stream().map(p -> p.toAbsolutePath().normalize()).toList();
        new VmTestWorkflow(ctx).additions(req.devices(), run, toml, dir, VmTestWorkflow.BUSYBOX);
        Request rowReq = new Request(dir, req.kernels(), req.jobs(), req.vmTimeout(), req.failFast(), req.junit(),
                req.devices(), run);
        String module = moduleName(dir);
        Path home = ctx.cache().root().resolve("matrix").resolve(module + "-" + CacheKey.sha256(dir.toString().getBytes(StandardCharsets.UTF_8)).substring(0, 12));
        int cores = Runtime.getRuntime().availableProcessors();
        int makeJobs = Math.max(1, cores / req.jobs());
        List<MatrixRow> rows = new ArrayList<>();
        try (HomeLock ignored = HomeLock.take(home, ctx)) {
            ctx.events().info("matrix of " + module + " over " + req.kernels().size() + " kernel(s), " + req.jobs()
                    + " at a time; rows in " + home);
            List<Path> rowDirs = rowDirs(home, req.kernels());
            // the rustc candidates once, before the rows: what doctor's check finds in the Debian roots is remembered,
            // so no row's check enters a root another row is building in
            candidates = new RustcFinder(ctx).candidates(Optional.empty());
            AtomicBoolean failed = new AtomicBoolean();
            ExecutorService pool = Executors.newFixedThreadPool(req.jobs(), daemonThreads());
            try {
                Future<?>[] futures = new Future<?>[req.kernels().size()];
                MatrixRow[] done = new MatrixRow[futures.length];
                for (int i : startOrder(req.kernels())) {
                    KernelSpec spec = req.kernels().get(i);
                    futures[i] = pool.submit(() -> {
                        MatrixRow r = row(spec, dir, rowDirs.get(i), rowReq, makeJobs, failed);
                        if (r.status() == MatrixRow.Status.FAIL) {
                            failed.set(true);
                        }
                        done[i] = r;
                    });
                }
                for (Future<?> f : futures) {
                    f.get();
                }
                rows.addAll(List.of(done));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new RkmodException(ExitCode.INTERNAL, "Interrupted while the matrix ran", null, null, e);
            } catch (ExecutionException e) {
                throw e.getCause() instanceof RuntimeException re ? re : new IllegalStateException(e.getCause());
            } finally {
                pool.shutdownNow();
            }
        }
        Result result = new Result(dir, module, home, List.copyOf(rows), req.jobs(), Duration.ofNanos(System.nanoTime() - start));
        req.junit().ifPresent(j -> FileOps.writeAtomically(j, MatrixJunit.of(result).getBytes(StandardCharsets.UTF_8)));
        return result;
    }

    /** The rows' indexes in the order they start: distro kernels first (their generic image boots slowest), then as given. */
    static List<Integer> startOrder(List<KernelSpec> kernels) {
        List<Integer> out = new ArrayList<>();
        for (int pass = 0; pass < 2; pass++) {
            for (int i = 0; i < kernels.size(); i++) {
                if ((kernels.get(i) instanceof KernelSpec.DistroKernel) == (pass == 0)) {
                    out.add(i);
                }
            }
        }
        return out;
    }

    private static List<Path> rowDirs(Path home, List<KernelSpec> kernels) {
        Set<String> used = new HashSet<>();
        List<Path> out = new ArrayList<>();
        for (KernelSpec k : kernels) {
            String name = k.slug();
            for (int n = 2; !used.add(name); n++) {
                name = k.slug() + "-" + n;
            }
            out.add(home.resolve(name));
        }
        return out;
    }

    private static String moduleName(Path dir) {
        try {
            Optional<ProjectToml> t = ProjectToml.read(dir);
            if (t.isPresent() && t.get().name() != null && t.get().name().matches("[A-Za-z0-9_-]+")) {
                return t.get().name();
            }
        } catch (IOException | FormatException e) {
            // the directory's name then
        }
        String n = dir.getFileName() == null ? "module" : dir.getFileName().toString().replaceAll("[^A-Za-z0-9_-]", "_");
        return n.isEmpty() ? "module" : n;
    }

    // --- one row --------------------------------------------------------------------------------------------------

    private MatrixRow row(KernelSpec spec, Path src, Path rowDir, Request req, int makeJobs, AtomicBoolean failed) {
        long start = System.nanoTime();
        try (RowSink sink = new RowSink(ctx.events(), spec.label())) {
            sink.emit(new Event.StageStarted(ROW_STAGE, spec.label()));
            MatrixRow r;
            if (req.failFast() && failed.get()) {
                r = new MatrixRow(spec, MatrixRow.Status.SKIPPED, Optional.empty(), Optional.empty(), Optional.empty(),
                        List.of(), rowDir, Optional.empty(), Duration.ZERO);
            } else {
                try {
                    r = new RowRun(spec, src, rowDir, req, makeJobs, sink, start).run();
                } catch (RuntimeException e) {
                    // a bug or an environment failure outside the phases: this row fails, the others go on
                    r = new MatrixRow(spec, MatrixRow.Status.FAIL, Optional.empty(), Optional.empty(), Optional.empty(),
                            List.of(explain(MatrixRow.Phase.KERNEL, e)), rowDir, Optional.empty(),
                            Duration.ofNanos(System.nanoTime() - start));
                }
            }
            sink.emit(Event.info(summary(r)));
            sink.emit(new Event.StageFinished(ROW_STAGE, r.took(), r.status() != MatrixRow.Status.FAIL));
            return r;
        }
    }

    /** A row's one-line outcome, as its live line ends. */
    static String summary(MatrixRow r) {
        return switch (r.status()) {
            case PASS -> String.format(Locale.ROOT, "PASS  build %.1f s, load %.1f s",
                    r.build().map(b -> b.took().toMillis()).orElse(0L) / 1000.0,
                    r.load().map(l -> l.took().toMillis()).orElse(0L) / 1000.0);
            case SKIPPED -> "SKIPPED (--fail-fast: an earlier kernel failed)";
            case FAIL -> "FAIL  in " + r.first().map(e -> e.phase().name().toLowerCase(Locale.ROOT) + ": " + e.title()
                    + (e.id() != null ? " [" + e.id() + "]" : "")).orElse("?");
        };
    }

    /** One row's phases. */
    private final class RowRun {
        private final KernelSpec spec;
        private final Path src;
        private final Path rowDir;
        private final Request req;
        private final int makeJobs;
        private final RowSink sink;
        private final Context rc;
        private final long start;

        RowRun(KernelSpec spec, Path src, Path rowDir, Request req, int makeJobs, RowSink sink, long start) {
            this.spec = spec;
            this.src = src;
            this.rowDir = rowDir;
            this.req = req;
            this.makeJobs = makeJobs;
            this.sink = sink;
            this.rc = Context.create(ctx.host(), ctx.cache(), sink);
            this.start = start;
        }

        MatrixRow run() {
            KernelResolver resolver = new KernelResolver(rc, Runtime.getRuntime().availableProcessors());
            KernelResolver.Resolved kernel;
            try {
                Files.createDirectories(rowDir);
                kernel = locked(resolver.root(spec), () -> resolver.resolve(spec, rowDir));
            } catch (RkmodException | IOException e) {
                return fail(Optional.empty(), Optional.empty(), Optional.empty(), List.of(explain(MatrixRow.Phase.KERNEL, e)),
                        Optional.empty());
            }
            Optional<MatrixRow.Kernel> facts = Optional.of(kernel.facts());
            Path copy = rowDir.resolve(src.getFileName() == null ? "module" : src.getFileName().toString());
            Path log = rowDir.resolve("build.log");
            long t = System.nanoTime();
            BuildWorkflow.Result built;
            try {
                ModuleCopy.copy(src, copy);
                sink.openLog(log);
                sink.line("# rkmod matrix: " + src + " against " + spec.label() + " (" + kernel.facts().origin() + ")");
                Optional<Path> root = candidates.stream().filter(c -> c.matches(kernel.facts().rustc())).findFirst()
                        .flatMap(c -> c.toolchain().rootDir());
                built = locked(root, () -> new BuildWorkflow(rc).build(copy, kernel.facts().kdir(), Optional.empty(),
                        makeJobs, BUILD_TIMEOUT, true));
            } catch (BuildWorkflow.BuildFailed f) {
                List<MatrixRow.Explanation> why = explain(f);
                logExplanations(why);
                sink.close();
                return fail(facts, Optional.of(new MatrixRow.Build(false, since(t), List.of(), null, f.errorLines())),
                        Optional.empty(), why, Optional.of(log));
            } catch (RkmodException | IOException e) {
                List<MatrixRow.Explanation> why = List.of(explain(MatrixRow.Phase.BUILD, e));
                logExplanations(why);
                sink.close();
                return fail(facts, Optional.of(new MatrixRow.Build(false, since(t), List.of(), null, List.of())),
                        Optional.empty(), why, Optional.of(log));
            }
            sink.close();
            MatrixRow.Build build = new MatrixRow.Build(true, since(t), built.modules().stream().map(BuildWorkflow.Module::ko)
                    .toList(), built.rustcCandidate(), List.of());
            t = System.nanoTime();
            try {
                VmTestWorkflow.Verdict v = locked(vmRoot(kernel), () -> new VmTestWorkflow(rc).run(new VmTestWorkflow.Request(
                        build.modules().stream().map(k -> new VmTestWorkflow.ModuleSpec(k, "")).toList(), kernel.image(),
                        kernel.image().isPresent() ? Optional.empty() : Optional.of(kernel.facts().kdir()), List.of(),
                        req.vmTimeout(), VmTestWorkflow.Kvm.AUTO, Optional.empty(), 0, req.devices(), req.run(), Optional.of(src))));
                MatrixRow.Load load = new MatrixRow.Load(v.pass(), since(t), Optional.of(v));
                if (v.pass()) {
                    return new MatrixRow(spec, MatrixRow.Status.PASS, facts, Optional.of(build), Optional.of(load), List.of(),
                            rowDir, Optional.of(log), since(start));
                }
                return fail(facts, Optional.of(build), Optional.of(load), explain(v), Optional.of(log));
            } catch (RkmodException e) {
                return fail(facts, Optional.of(build), Optional.of(new MatrixRow.Load(false, since(t), Optional.empty())),
                        List.of(explain(MatrixRow.Phase.LOAD, e)), Optional.of(log));
            }
        }

        private MatrixRow fail(Optional<MatrixRow.Kernel> facts, Optional<MatrixRow.Build> build, Optional<MatrixRow.Load> load,
                               List<MatrixRow.Explanation> why, Optional<Path> log) {
            return new MatrixRow(spec, MatrixRow.Status.FAIL, facts, build, load, why, rowDir, log, since(start));
        }

        private void logExplanations(List<MatrixRow.Explanation> why) {
            for (MatrixRow.Explanation e : why) {
                sink.line("explanation" + (e.id() != null ? " [" + e.id() + "]" : "") + ": " + e.title());
                if (e.seen() != null) {
                    sink.line("  seen:  " + e.seen());
                }
                if (e.cause() != null) {
                    sink.line("  cause: " + e.cause());
                }
                if (e.fix() != null) {
                    sink.line("  fix:   " + e.fix());
                }
            }
        }

        /** The root a distro kernel's image is fetched with (once; a cache hit afterwards). */
        private Optional<Path> vmRoot(KernelResolver.Resolved k) {
            if (k.image().isPresent()) {
                return Optional.empty();
            }
            return HeadersManifest.read(k.facts().kdir()).map(HeadersManifest::distro).flatMap(Distro::byId)
                    .flatMap(Profile::forDistro).flatMap(Profile::root).flatMap(r -> new DebianRoots(rc).find(r));
        }
    }

    /** Runs {@code work} holding the lock of {@code root} (none for the host's toolchain). */
    private <T> T locked(Optional<Path> root, Supplier<T> work) {
        if (root.isEmpty()) {
            return work.get();
        }
        ReentrantLock lock = rootLocks.computeIfAbsent(root.get().toAbsolutePath().normalize().toString(), k -> new ReentrantLock());
        lock.lock();
        try {
            return work.get();
        } finally {
            lock.unlock();
        }
    }

    private static Duration since(long nanos) {
        return Duration.ofNanos(System.nanoTime() - nanos);
    }

    // --- explanations ---------------------------------------------------------------------------------------------

    /** A failed build: the catalogue's explanations of its output, else doctor's findings, else its own message. */
    static List<MatrixRow.Explanation> explain(BuildWorkflow.BuildFailed f) {
        List<MatrixRow.Explanation> out = new ArrayList<>();
        for (FailureCatalogue.Match m : f.explanations()) {
            out.add(catalogued(MatrixRow.Phase.BUILD, m.entry(), m.line()));
        }
        if (out.isEmpty()) {
            for (Finding x : f.findings()) {
                if (x.severity() == Finding.Severity.ERROR) {
                    out.add(new MatrixRow.Explanation(MatrixRow.Phase.BUILD, x.id(), x.what(), x.why(), x.fix(), null));
                }
            }
        }
        if (out.isEmpty()) {
            // nothing the catalogue knows: the build's own first error, and its log
            out.add(new MatrixRow.Explanation(MatrixRow.Phase.BUILD, null, f.what(), f.why(),
                    f.errorLines().isEmpty() ? f.fix() : "Read the compiler's errors in the row's build log",
                    f.errorLines().isEmpty() ? null : f.errorLines().get(0).strip()));
        }
        return out;
    }

    /** A failed verdict: its reasons, a kernel log line explained by its catalogue entry. */
    static List<MatrixRow.Explanation> explain(VmTestWorkflow.Verdict v) {
        List<MatrixRow.Explanation> out = new ArrayList<>();
        for (Reason r : v.reasons()) {
            out.add(r instanceof Reason.KernelLog k ? catalogued(MatrixRow.Phase.LOAD, k.entry(), k.line())
                    : new MatrixRow.Explanation(MatrixRow.Phase.LOAD, null, r.text(), null, null, null));
        }
        // the catalogue's entries first: the crash explains the failed insmod, not the other way round
        out.sort((a, b) -> Boolean.compare(a.id() == null, b.id() == null));
        return out;
    }

    private static MatrixRow.Explanation catalogued(MatrixRow.Phase phase, FailureCatalogue.Entry e, String line) {
        return new MatrixRow.Explanation(phase, e.id(), e.title(), e.cause(), e.fix(), line);
    }

    private static MatrixRow.Explanation explain(MatrixRow.Phase phase, Exception e) {
        if (e instanceof RkmodException r) {
            return new MatrixRow.Explanation(phase, null, r.what(), r.why(), r.fix(), null);
        }
        return new MatrixRow.Explanation(phase, null, e.getClass().getSimpleName() + ": " + e.getMessage(), null,
                "This is a bug in rkmod if it is not a full disk; rerun with --debug", null);
    }

    private static java.util.concurrent.ThreadFactory daemonThreads() {
        AtomicInteger n = new AtomicInteger();
        return r -> {
            Thread t = new Thread(r, "rkmod-matrix-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }

    /** One matrix at a time per module: its rows' directories are reused. */
    private static final class HomeLock implements AutoCloseable {
        private final ReentrantLock jvm;
        private final FileChannel channel;
        private final FileLock lock;

        private HomeLock(ReentrantLock jvm, FileChannel channel, FileLock lock) {
            this.jvm = jvm;
            this.channel = channel;
            this.lock = lock;
        }

        static HomeLock take(Path home, Context ctx) {
            ReentrantLock jvm = HOME_LOCKS.computeIfAbsent(home, h -> new ReentrantLock());
            if (!jvm.tryLock()) {
                ctx.events().info("waiting for another matrix of this module to finish");
                jvm.lock();
            }
            try {
                Files.createDirectories(home);
                FileChannel ch = FileChannel.open(home.resolve(".lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
                FileLock l = ch.tryLock();
                if (l == null) {
                    ctx.events().info("waiting for another rkmod matrix of this module (lock " + home.resolve(".lock") + ")");
                    l = ch.lock();
                }
                return new HomeLock(jvm, ch, l);
            } catch (IOException e) {
                jvm.unlock();
                throw new RkmodException(ExitCode.ENVIRONMENT, "Cannot use " + home, e.getMessage(),
                        "Check free space and permissions of rkmod's cache", e);
            }
        }

        @Override
        public void close() {
            try {
                lock.release();
                channel.close();
            } catch (IOException ignored) {
                // closing the channel releases the lock anyway
            } finally {
                jvm.unlock();
            }
        }
    }
}
