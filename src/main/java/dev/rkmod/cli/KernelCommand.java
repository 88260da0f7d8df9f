package dev.rkmod.cli;

import dev.rkmod.format.KernelManifest;
import dev.rkmod.model.ExitCode;
import dev.rkmod.workflow.kernel.ConfigOutcome;
import dev.rkmod.workflow.kernel.KernelWorkflow;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;

@Command(name = "kernel",
        description = "Build a Rust-enabled kernel from a distro source and config, with its toolchain pinned.",
        mixinStandardHelpOptions = true,
        subcommands = {KernelCommand.ConfigCmd.class, KernelCommand.BuildCmd.class, KernelCommand.ListCmd.class,
            KernelPackageCommand.class})
final class KernelCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "Missing subcommand: config, build, list or package.");
    }

    @Command(name = "config", mixinStandardHelpOptions = true,
            header = "Write a kernel config with CONFIG_RUST=y, or name what blocks it.",
            description = "Merge a base config and fragments, run olddefconfig with the pinned toolchain, and check that "
                + "CONFIG_RUST=y survived. If not, name the options that blocked it and exit 1; --fix-rust turns "
                + "them off and prints every option that changed against the base config.")
    static final class ConfigCmd implements Callable<Integer> {
        private final Session session;
        @Mixin
        KernelOptions kernel = new KernelOptions();
        @Option(names = "--out", paramLabel = "FILE", description = "Write the final .config here (atomically).")
        Path out;
        @Mixin
        OutputOptions output = new OutputOptions();

        ConfigCmd(Session session) {
            this.session = session;
        }

        @Override
        public Integer call() {
            ConfigOutcome o = new KernelWorkflow(session.context(output)).config(kernel.request(), Optional.ofNullable(out));
            if (output.json()) {
                session.out().println(Json.write(Configured.of(o, out)));
            } else {
                text(session.out(), o, out);
            }
            return o.rustEnabled() ? ExitCode.OK.code() : ExitCode.CHECK_FAILED.code();
        }

        private static void text(PrintWriter w, ConfigOutcome o, Path out) {
            if (!o.blockers().isEmpty()) {
                w.println("CONFIG_RUST=y did not survive olddefconfig. Blocked by:");
                for (ConfigOutcome.Blocker b : o.blockers()) {
                    StringBuilder vals = new StringBuilder();
                    b.values().forEach((k, v) -> vals.append(vals.isEmpty() ? "" : ", ").append(k).append('=').append(v));
                    w.printf("  depends on %-40s  (%s)%s%n", b.clause(), vals,
                            b.fixable() != null ? "  fix: turn off " + b.fixable() : "");
                }
                if (!o.baseBlockers().isEmpty()) {
                    w.println("Also set in the base config (olddefconfig already dropped them with this toolchain):");
                    for (ConfigOutcome.Blocker b : o.baseBlockers()) {
                        StringBuilder vals = new StringBuilder();
                        b.values().forEach((k, v) -> vals.append(vals.isEmpty() ? "" : ", ").append(k).append('=').append(v));
                        w.printf("  depends on %-40s  (%s)%n", b.clause(), vals);
                    }
                }
                if (!o.rustAvailable().isEmpty()) {
                    w.println("make rustavailable says:");
                    o.rustAvailable().forEach(l -> w.println("  " + l));
                }
            }
            if (!o.fixed().isEmpty()) {
                w.println("--fix-rust turned off: " + String.join(", ", o.fixed()));
                w.println("Changes against the base config:");
                o.changes().values().forEach(c -> w.printf("  CONFIG_%-36s %s -> %s%n", c.symbol(), c.before(), c.after()));
            }
            o.notApplied().forEach(n -> w.println("warning: requested option not kept by olddefconfig: " + n));
            if (o.rustEnabled()) {
                w.println("CONFIG_RUST=y  (" + o.result().string("RUSTC_VERSION_TEXT").orElse("rustc version not recorded") + ")");
                if (out != null) {
                    w.println("wrote " + out);
                }
            } else {
                boolean fixable = o.blockers().stream().anyMatch(b -> b.fixable() != null);
                w.println(fixable && o.fixed().isEmpty()
                        ? "Run again with --fix-rust to turn the blocking options off."
                        : "CONFIG_RUST is still off; the remaining blockers cannot be fixed by configuration (see 'rkmod deps').");
            }
        }

        /** --json of a configuration: whether CONFIG_RUST=y survived, what blocked it and what --fix-rust changed. */
        record Configured(boolean rust, String rustcVersionText, List<Blocker> blockers, List<String> baseBlockers,
                          List<String> fixed, List<Change> changes, List<String> notApplied, String out) {
            static Configured of(ConfigOutcome o, Path out) {
                return new Configured(o.rustEnabled(), o.result().string("RUSTC_VERSION_TEXT").orElse(null),
                        o.blockers().stream().map(b -> new Blocker(b.clause(), b.values(), b.fixable())).toList(),
                        o.baseBlockers().stream().map(ConfigOutcome.Blocker::clause).toList(), o.fixed(),
                        o.changes().values().stream().map(c -> new Change("CONFIG_" + c.symbol(), c.before(), c.after()))
                                .toList(),
                        o.notApplied(), out == null || !o.rustEnabled() ? null : out.toString());
            }
        }

        /** An unmet dependency of CONFIG_RUST, the values of its symbols, and the symbol --fix-rust turns off. */
        record Blocker(String clause, Map<String, String> values, String fix) { }

        /** An option that changed against the base config. */
        record Change(String symbol, String before, String after) { }
    }

    @Command(name = "build", mixinStandardHelpOptions = true,
            header = "Build a Rust-enabled kernel with its toolchain pinned, into the cache.",
            description = "Configure and build the kernel with LLVM=1 and the pinned rustc/bindgen (Debian's for 6.1, the trixie "
                + "root's for 6.12). The result is a cached build tree with bzImage, modules, rkmod-kernel.json and "
                + "rust-toolchain; an identical second build is a cache hit.")
    static final class BuildCmd implements Callable<Integer> {
        private final Session session;
        @Mixin
        KernelOptions kernel = new KernelOptions();
        @Mixin
        OutputOptions output = new OutputOptions();

        BuildCmd(Session session) {
            this.session = session;
        }

        @Override
        public Integer call() {
            KernelWorkflow.Built b = new KernelWorkflow(session.context(output)).build(kernel.request());
            if (output.json()) {
                session.out().println(Json.write(new Built(b.manifest(), b.tree(), b.cacheHit())));
            } else {
                var m = b.manifest();
                PrintWriter w = session.out();
                w.println("kernel " + m.release() + (b.cacheHit() ? " (cached)" : " built in " + m.buildSeconds() + " s"));
                w.println("  tree       " + b.tree());
                w.println("  bzImage    " + b.tree().resolve(m.bzImage()));
                w.println("  rustc      " + m.rustc());
                w.println("  bindgen    " + m.bindgen());
                w.println("  clang      " + m.clang());
                w.println("  generation " + m.generation());
            }
            return ExitCode.OK.code();
        }
    }

    /** --json of a kernel build: the manifest's values, then where the tree is and whether it was cached. */
    record Built(@Json.Inline KernelManifest manifest, Path tree, boolean cacheHit) { }

    /** --json of the cached kernels. */
    record Kernels(List<Listed> kernels) { }

    /** A cached kernel: its manifest's values and its tree. */
    record Listed(@Json.Inline KernelManifest manifest, Path tree) { }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "List cached kernels.")
    static final class ListCmd implements Callable<Integer> {
        private final Session session;
        @Mixin
        OutputOptions output = new OutputOptions();

        ListCmd(Session session) {
            this.session = session;
        }

        @Override
        public Integer call() {
            List<KernelWorkflow.Built> all = new KernelWorkflow(session.context(output)).list();
            if (output.json()) {
                session.out().println(Json.write(new Kernels(all.stream().map(b -> new Listed(b.manifest(), b.tree())).toList())));
                return ExitCode.OK.code();
            }
            if (all.isEmpty()) {
                session.out().println("no cached kernels; build one with 'rkmod kernel build'");
            }
            for (KernelWorkflow.Built b : all) {
                var m = b.manifest();
                session.out().printf("%-22s %-10s %-45s %s%n", m.release(), m.base(), m.rustc(), b.tree());
            }
            return ExitCode.OK.code();
        }
    }
}
