package dev.rkmod.cli;

import dev.rkmod.infra.cache.Cache;
import dev.rkmod.infra.event.EventSink;
import dev.rkmod.model.ExitCode;
import dev.rkmod.model.RkmodException;
import dev.rkmod.workflow.Context;
import dev.rkmod.workflow.matrix.KernelSpec;
import dev.rkmod.workflow.matrix.MatrixRow;
import dev.rkmod.workflow.matrix.MatrixWorkflow;
import dev.rkmod.workflow.matrix.Pipelines;
import picocli.CommandLine.Command;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.TypeConversionException;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;

@Command(name = "matrix", mixinStandardHelpOptions = true,
        header = "Build and load one module against many kernels, in parallel here or as a CI pipeline.",
        description = "For each kernel: its toolchain, 'rkmod build' and 'rkmod vmtest', on a copy of the module's source of its "
            + "own, several kernels at a time. A kernel is a profile's tiny-rust kernel (6.1, 6.12: built or cached), a "
            + "distro's own kernel (debian-sid[:RELEASE], its headers completed), a kernel build tree, an rkmod package "
            + "(directory or archive), or all (every profile). Prints a table and, for each failed kernel, the failure "
            + "catalogue's explanation; exit 1 when any kernel fails. --emit writes the same matrix as a GitLab CI "
            + "(parallel:matrix) or GitHub Actions (strategy.matrix) pipeline instead of running it.")
final class MatrixCommand implements Callable<Integer> {
    private final Session session;

    @Parameters(index = "0", arity = "0..1", paramLabel = "DIR", description = "Module directory (default: .).")
    Path dir;

    @Option(names = "--kernel", paramLabel = "SPEC", required = true,
            description = "A kernel: 6.1, 6.12, debian-sid[:RELEASE], a kernel build tree, an rkmod package, or all (repeatable).")
    List<String> kernels = new ArrayList<>();

    @Option(names = "-j", paramLabel = "N", description = "Kernels at a time (default: one more than the CPUs, as memory allows, at most the kernels).")
    Integer jobs;

    @Option(names = "--timeout", paramLabel = "S", defaultValue = "120", description = "Hard limit for each kernel's VM in seconds (default ${DEFAULT-VALUE}).")
    long timeout;

    @Option(names = "--junit", paramLabel = "FILE", description = "Write a JUnit XML report: one test case per kernel, with its build log and console log.")
    Path junit;

    @Option(names = "--fail-fast", description = "Start no further kernel after one fails (the others are reported as skipped).")
    boolean failFast;

    @Option(names = "--device", paramLabel = "QEMU_DEVICE", description = "Add a device to every kernel's VM, as vmtest --device (repeatable).")
    List<String> devices = new ArrayList<>();

    @Option(names = "--run", paramLabel = "FILE", description = "Run FILE in every kernel's VM after loading the module, as vmtest --run (repeatable).")
    List<Path> run = new ArrayList<>();

    @Option(names = "--emit", paramLabel = "gitlab|github", converter = EngineConverter.class,
            description = "Write the matrix as a CI pipeline to --out instead of running it.")
    Pipelines.Engine emit;

    @Option(names = "--out", paramLabel = "FILE", description = "The pipeline file --emit writes (e.g. .gitlab-ci.yml, .github/workflows/rkmod.yml).")
    Path out;

    @Mixin
    OutputOptions output = new OutputOptions();

    MatrixCommand(Session session) {
        this.session = session;
    }

    @Override
    public Integer call() {
        Path d = dir != null ? dir : Path.of(".");
        List<KernelSpec> specs = KernelSpec.parseAll(kernels);
        if (timeout < 1 || jobs != null && jobs < 1) {
            throw new RkmodException(ExitCode.USAGE, "-j and --timeout must be positive", null, null);
        }
        if (emit != null) {
            return emit(d, specs);
        }
        if (out != null) {
            throw new RkmodException(ExitCode.USAGE, "--out names the file --emit writes", null,
                    "Pass --emit gitlab or --emit github with it, or --junit FILE for a report of this run");
        }
        EventSink sink = output.json() ? session.renderer(output) : new MatrixRenderer(session.err(), session.tty(),
                output.verbose, output.debug, output.quiet, specs.stream().map(KernelSpec::label).toList());
        Context ctx = Context.create(session.host(), new Cache(Cache.defaultRoot(session.host().env())), sink);
        MatrixWorkflow wf = new MatrixWorkflow(ctx);
        int j = jobs != null ? jobs : MatrixWorkflow.defaultJobs(specs.size(), Runtime.getRuntime().availableProcessors(),
                wf.availableMemory());
        MatrixWorkflow.Result r = wf.run(new MatrixWorkflow.Request(d, specs, j, Duration.ofSeconds(timeout), failFast,
                Optional.ofNullable(junit), devices, run));
        if (output.json()) {
            session.out().println(Json.write(MatrixJson.of(r, junit)));
        } else {
            session.out().print(MatrixTable.render(r));
            if (junit != null) {
                session.out().println("junit: " + junit.toAbsolutePath().normalize());
            }
        }
        return r.pass() ? ExitCode.OK.code() : ExitCode.CHECK_FAILED.code();
    }

    private int emit(Path d, List<KernelSpec> specs) {
        if (out == null) {
            throw new RkmodException(ExitCode.USAGE, "--emit needs --out FILE", null,
                    "Pass --out .gitlab-ci.yml (GitLab) or --out .github/workflows/rkmod.yml (GitHub)");
        }
        if (junit != null || failFast) {
            throw new RkmodException(ExitCode.USAGE, "--junit and --fail-fast are for a run, not for --emit",
                    "The pipeline's jobs write their own JUnit reports, and the CI engine runs every kernel", null);
        }
        if (!devices.isEmpty() || !run.isEmpty()) {
            throw new RkmodException(ExitCode.USAGE, "--device and --run are for a run, not for --emit",
                    "The pipeline's jobs run 'rkmod vmtest' in the module's directory, which reads its rkmod.toml",
                    "Put them in the module's rkmod.toml instead: [vmtest] devices = [\"pci-testdev\"] and run = [\"test.sh\"]");
        }
        Pipelines.Emitted e = Pipelines.emit(emit, d, specs, timeout, out);
        if (output.json()) {
            session.out().println(Json.write(new Emitted(e.engine().id(), e.file(), e.repository(), e.module(),
                    specs.stream().map(KernelSpec::label).toList(), e.bytes())));
        } else {
            session.out().printf("wrote %s: a %s pipeline of %d job(s) (%s) for the module in %s%n", e.file(),
                    e.engine() == Pipelines.Engine.GITLAB ? "GitLab CI" : "GitHub Actions", specs.size(),
                    String.join(", ", specs.stream().map(KernelSpec::label).toList()), e.module());
        }
        return ExitCode.OK.code();
    }

    /** --emit: gitlab or github. */
    static final class EngineConverter implements ITypeConverter<Pipelines.Engine> {
        @Override
        public Pipelines.Engine convert(String id) {
            return Pipelines.Engine.byId(id).orElseThrow(() -> new TypeConversionException(
                    "Unknown CI engine '" + id + "'. Use gitlab or github."));
        }
    }

    /** --json of --emit. */
    record Emitted(String engine, Path file, Path repository, String module, List<String> kernels, long bytes) { }

    /** --json of a run: the table as data. */
    record MatrixJson(boolean ok, Path module, int jobs, long millis, List<Row> kernels, Optional<Path> junit) {
        static MatrixJson of(MatrixWorkflow.Result r, Path junit) {
            return new MatrixJson(r.pass(), r.dir(), r.jobs(), r.took().toMillis(), r.rows().stream().map(Row::of).toList(),
                    Optional.ofNullable(junit).map(p -> p.toAbsolutePath().normalize()));
        }
    }

    /** One kernel's row. */
    record Row(String kernel, MatrixRow.Status status, String release, String generation, String rustc, String origin,
               Path kdir, Build build, Load load, String firstLine, List<MatrixRow.Explanation> explanations, Path dir,
               Path buildLog, long millis) {
        static Row of(MatrixRow r) {
            Optional<MatrixRow.Kernel> k = r.kernel();
            return new Row(r.spec().label(), r.status(), k.map(MatrixRow.Kernel::release).orElse(null),
                    k.map(MatrixRow.Kernel::generation).orElse(null), k.map(MatrixRow.Kernel::rustc).orElse(null),
                    k.map(MatrixRow.Kernel::origin).orElse(null), k.map(MatrixRow.Kernel::kdir).orElse(null),
                    r.build().map(b -> new Build(b.ok(), b.took().toMillis(), b.rustcCandidate(), b.modules(), b.errorLines()))
                            .orElse(null),
                    r.load().map(l -> new Load(l.pass(), l.took().toMillis(), l.verdict().map(VerdictJson::of).orElse(null)))
                            .orElse(null),
                    r.load().flatMap(MatrixRow.Load::firstLine).orElse(null), r.explanations(), r.dir(),
                    r.buildLog().orElse(null), r.took().toMillis());
        }
    }

    /** The build of a row. */
    record Build(boolean ok, long millis, String rustcCandidate, List<Path> modules, List<String> errors) { }

    /** The load of a row: vmtest's verdict, null when it refused before booting. */
    record Load(boolean pass, long millis, VerdictJson vmtest) { }
}
