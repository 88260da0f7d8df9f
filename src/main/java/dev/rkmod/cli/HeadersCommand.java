package dev.rkmod.cli;

import dev.rkmod.format.HeadersManifest;
import dev.rkmod.model.Distro;
import dev.rkmod.model.ExitCode;
import dev.rkmod.model.RkmodException;
import dev.rkmod.workflow.headers.HeadersWorkflow;
import dev.rkmod.workflow.pack.PackageRequest;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;

@Command(name = "headers",
        description = "Complete a distro kernel's headers with the Rust metadata its packaging leaves out.",
        mixinStandardHelpOptions = true,
        subcommands = {HeadersCommand.CompleteCmd.class})
final class HeadersCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "Missing subcommand: complete.");
    }

    @Command(name = "complete", mixinStandardHelpOptions = true,
            header = "Complete a distro's headers with the Rust set they lack, and prove the symbol hashes.",
            description = "Regenerate the Rust set (rust/*.rmeta, the proc macros, the target spec) that a distro's headers lack, "
                + "in a copy of the headers, from the kernel's own source with its exact rustc and bindgen and its own C "
                + "compiler family; check that the kernel's identity files did not change and that the regenerated crates "
                + "export exactly the Rust symbols of the distro's Module.symvers; then write a verified rkmod package. "
                + "Default input: /lib/modules/$(uname -r)/build. Exit 1 for a kernel without CONFIG_RUST or a hash "
                + "mismatch, 3 when the exact toolchain or the source is missing.")
    static final class CompleteCmd implements Callable<Integer> {
        private final Session session;

        @Option(names = "--kdir", paramLabel = "HEADERS_DIR", description = "The headers (default: the running kernel's).")
        Path kdir;

        @Option(names = "--distro", paramLabel = "DISTRO[:RELEASE]",
                description = "A distro's kernel, fetched into its profile's root: debian-sid (its current kernel) or "
                        + "debian-sid:RELEASE.")
        String distro;

        @Option(names = "--source", paramLabel = "SRC", description = "The kernel source tarball or directory (with --kdir;"
                + " default: /usr/src/linux-source-X.Y.tar.xz).")
        Path source;

        @Option(names = "--rustc", paramLabel = "PATH", description = "The rustc to use; it must print the kernel's exact version.")
        Path rustc;

        @Option(names = "--out", required = true, paramLabel = "DEST", description = "Where the package goes.")
        Path out;

        @Option(names = "--format", paramLabel = "dir|tar.zst|tar.xz|deb", defaultValue = "dir",
                converter = Converters.HeadersFormatConverter.class, description = "Output format (default ${DEFAULT-VALUE})."
                + " deb writes the completion package linux-rust-meta-RELEASE_VERSION_ARCH.deb into the DEST directory.")
        PackageRequest.Format format;

        @Option(names = "-j", paramLabel = "N", description = "Parallel make jobs (default: the number of CPUs).")
        Integer jobs;

        @Option(names = "--timeout", paramLabel = "MINUTES", defaultValue = "60", description = "Limit for make (default ${DEFAULT-VALUE}).")
        long timeout;

        @Option(names = "--force", description = "Replace an existing DEST.")
        boolean force;

        @Mixin
        OutputOptions output = new OutputOptions();

        CompleteCmd(Session session) {
            this.session = session;
        }

        @Override
        public Integer call() {
            Optional<Distro.Selector> sel = Optional.empty();
            if (distro != null) {
                sel = Optional.of(Distro.Selector.parse(distro).orElseThrow(() -> new RkmodException(ExitCode.USAGE,
                        "Unknown distro '" + distro + "'", "Known distros: " + Distro.ids(),
                        "Pass --distro " + Distro.ids() + "[:RELEASE]")));
            }
            if (timeout < 1) {
                throw new RkmodException(ExitCode.USAGE, "--timeout must be at least 1 minute", null, null);
            }
            int j = jobs == null ? Runtime.getRuntime().availableProcessors() : jobs;
            if (j < 1) {
                throw new RkmodException(ExitCode.USAGE, "-j must be at least 1", null, null);
            }
            HeadersWorkflow.Result r = new HeadersWorkflow(session.context(output)).complete(new HeadersWorkflow.Request(
                    Optional.ofNullable(kdir), sel, Optional.ofNullable(source), out, format, Optional.ofNullable(rustc), j,
                    Duration.ofMinutes(timeout), force, session.sourceDateEpoch()));
            if (output.json()) {
                session.out().println(Json.write(Completed.of(r, format)));
            } else {
                PrintWriter w = session.out();
                w.println("completed " + r.out() + (r.cacheHit() ? "  (cached)" : ""));
                if (r.completion() != null) {
                    w.printf("  package  %s %s, Depends: %s%n", r.completion().name(), r.completion().version(),
                            r.completion().depends());
                    r.completion().files().values().forEach(f -> w.println("           " + f));
                }
                if (r.headers() != null) {
                    w.printf("  Linux %s%s%n", r.headers().release(), r.headers().headersPackage() == null ? ""
                            : " (" + r.headers().headersPackage() + " " + r.headers().headersVersion() + ")");
                    w.printf("  made by  %s, %s, %s%n", r.headers().rustc(), r.headers().bindgen(), r.headers().cc());
                    w.printf("  proof    all %d Rust symbols of the regenerated crates equal those in Module.symvers%n",
                            r.headers().rustSymbols());
                }
                w.printf("  Rust set %d files, %s (proc macros stripped)%n", r.rustSetFiles(), Text.size(r.rustSetBytes()));
                w.println("  verified C and Rust probe modules built at another path with " + r.verifiedWith());
                for (Map.Entry<String, Duration> e : r.stages().entrySet()) {
                    w.printf("  %-14s %6.1f s%n", e.getKey(), e.getValue().toMillis() / 1000.0);
                }
                w.printf("  total          %6.1f s%n", r.took().toMillis() / 1000.0);
            }
            return ExitCode.OK.code();
        }

        /**
         * --json of a completion: what 'headers complete' recorded, the package's facts (when it is a directory whose
         * manifest can be read), the Rust set and how long each stage took.
         */
        record Completed(Path out, String format, boolean cacheHit, long millis, HeadersManifest headers,
                         @Json.Inline Optional<Package> manifest, int rustSetFiles, long rustSetBytes, String verifiedWith,
                         Map<String, Long> stageMillis, Optional<Deb> completion) {
            static Completed of(HeadersWorkflow.Result r, PackageRequest.Format format) {
                Map<String, Long> stages = new LinkedHashMap<>();
                r.stages().forEach((k, v) -> stages.put(k, v.toMillis()));
                return new Completed(r.out(), format.toString(), r.cacheHit(), r.took().toMillis(), r.headers(),
                        Optional.ofNullable(r.manifest()).map(m -> new Package(m.release(), m.generation(), m.rustc(),
                                m.llvm(), m.files().size())), r.rustSetFiles(), r.rustSetBytes(), r.verifiedWith(), stages,
                        Optional.ofNullable(r.completion()).map(c -> new Deb(c.file().getFileName().toString(), c.name(),
                                c.version(), c.depends(), java.util.List.copyOf(c.files().values()))));
            }
        }

        /** The completion .deb: file name, package, version, Depends and the paths it installs. */
        record Deb(String file, String name, String version, String depends, java.util.List<String> files) { }

        /** The package's release, generation, rustc, compiler family and file count. */
        record Package(String release, String generation, String rustc, boolean llvm, int files) { }
    }
}
