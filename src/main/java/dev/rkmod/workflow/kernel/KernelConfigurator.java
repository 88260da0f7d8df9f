package dev.rkmod.workflow.kernel;

import dev.rkmod.format.KconfigDependencies;
import dev.rkmod.format.KernelConfig;
import dev.rkmod.infra.event.Stage;
import dev.rkmod.infra.fs.FileOps;
import dev.rkmod.infra.process.ProcessResult;
import dev.rkmod.infra.process.ProcessSpec;
import dev.rkmod.model.ExitCode;
import dev.rkmod.model.RkmodException;
import dev.rkmod.workflow.Context;
import dev.rkmod.workflow.toolchain.Toolchain;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Merges a base config and fragments, runs olddefconfig with the pinned toolchain, and checks that
 * CONFIG_RUST=y survived. When it did not, it names the unmet `depends on` clauses of CONFIG_RUST as
 * read from the source's own init/Kconfig, and with --fix-rust turns the blockers off.
 */
public final class KernelConfigurator {
    private static final Duration CONFIG_TIMEOUT = Duration.ofMinutes(10);
    private static final int MAX_FIX_ROUNDS = 4;

    /** What to configure. */
    public record Request(BaseConfig base, List<Path> fragments, boolean fixRust) { }

    private final Context ctx;

    public KernelConfigurator(Context ctx) {
        this.ctx = ctx;
    }

    /** The tiny-rust fragment shipped with rkmod. */
    public static KernelConfig tinyRustFragment() {
        try (InputStream in = KernelConfigurator.class.getResourceAsStream("/dev/rkmod/kernel/tiny-rust.config")) {
            if (in == null) {
                throw new IllegalStateException("tiny-rust.config resource missing");
            }
            return KernelConfig.parse(new String(in.readAllBytes(), StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Reads the base config file (host path) and checks its architecture. */
    public static KernelConfig readBase(Path file, String arch) {
        KernelConfig c;
        try {
            c = KernelConfig.read(file);
        } catch (NoSuchFileException e) {
            throw new RkmodException(ExitCode.USAGE, "The base config " + file + " does not exist", null,
                    "Pass a kernel .config (such as /boot/config-$(uname -r)), 'debian' for the profile's distro config,"
                            + " or 'tiny-rust'");
        } catch (IOException e) {
            throw new RkmodException(ExitCode.USAGE, "Cannot read the base config " + file, e.getMessage(),
                    "Pass a readable .config file (plain or .xz)", e);
        }
        if (c.values().isEmpty()) {
            throw new RkmodException(ExitCode.USAGE, file + " is not a kernel config",
                    "It contains no CONFIG_ lines", "Pass a kernel .config file");
        }
        Optional<String> a = c.arch();
        if (a.isPresent() && !a.get().equals(arch)) {
            throw new RkmodException(ExitCode.USAGE, "The base config " + file + " is for " + a.get() + ", not " + arch,
                    "rkmod builds kernels for this machine's architecture (" + arch + "), and Kconfig would silently"
                            + " replace most of a foreign config",
                    "Use an " + arch + " config, such as /boot/config-$(uname -r) or 'debian'");
        }
        return c;
    }

    public static List<KernelConfig> readFragments(List<Path> fragments) {
        List<KernelConfig> out = new ArrayList<>();
        for (Path f : fragments) {
            try {
                out.add(KernelConfig.read(f));
            } catch (IOException e) {
                throw new RkmodException(ExitCode.USAGE, "Cannot read the config fragment " + f, e.getMessage(),
                        "Pass a file of CONFIG_X=y / # CONFIG_X is not set lines", e);
            }
        }
        return out;
    }

    /**
     * Configures in {@code outDir} (an O= directory, or the source tree itself for in-tree builds).
     *
     * @param baseFile the base config already read, for BaseConfig.File/Debian; null for tiny-rust
     */
    public ConfigOutcome configure(Toolchain.Shell session, Path srcDir, Path outDir, Request req, KernelConfig baseFile) {
        boolean inTree = srcDir.equals(outDir);
        List<String> make = new ArrayList<>(List.of("make", "-C", srcDir.toString()));
        if (!inTree) {
            make.add("O=" + outDir);
        }
        make.addAll(session.toolchain().makeVariables());

        KernelConfig base;
        Map<String, String> requested = new LinkedHashMap<>();
        try (Stage stage = Stage.start(ctx.events(), "config", req.base().describe()
                + (req.fragments().isEmpty() ? "" : " + " + req.fragments().size() + " fragment(s)"))) {
            if (baseFile == null) {
                run(session, make, "tinyconfig");
                base = read(outDir.resolve(".config"));
                tinyRustFragment().values().forEach(requested::put);
            } else {
                base = baseFile;
                requested.put("RUST", "y");
            }
            Set<String> userRequested = new LinkedHashSet<>();
            for (KernelConfig f : readFragments(req.fragments())) {
                f.values().forEach(requested::put);
                userRequested.addAll(f.values().keySet());
            }
            KernelConfig input = base.with(requested);
            KernelConfig plain = olddefconfig(session, make, outDir, input);

            List<ConfigOutcome.Blocker> blockers = List.of();
            List<ConfigOutcome.Blocker> baseBlockers = List.of();
            List<String> rustAvailable = List.of();
            List<String> fixed = new ArrayList<>();
            Map<String, KernelConfig.Change> changes = new LinkedHashMap<>();
            KernelConfig result = plain;
            if (!plain.value("RUST").equals("y")) {
                KconfigDependencies deps = rustDependencies(srcDir);
                blockers = blockers(deps, plain);
                Set<String> plainClauses = new LinkedHashSet<>();
                blockers.forEach(b -> plainClauses.add(b.clause()));
                baseBlockers = blockers(deps, base).stream()
                        .filter(b -> !plainClauses.contains(b.clause()))
                        .filter(b -> !b.clause().contains("RUST_IS_AVAILABLE") && !b.clause().contains("HAVE_RUST")
                                && !b.clause().contains("RUSTC_"))
                        .toList();
                if (blockers.stream().anyMatch(b -> b.clause().contains("RUST_IS_AVAILABLE"))) {
                    ProcessResult r = ctx.runner().run(session.spec(null, concat(make, "rustavailable"))
                            .capture().quiet().noLog().allowFailure().timeout(CONFIG_TIMEOUT));
                    rustAvailable = r.output().stream().filter(l -> !l.startsWith("make")).toList();
                }
                if (req.fixRust()) {
                    KernelConfig current = plain;
                    Map<String, String> fixes = new LinkedHashMap<>();
                    for (int round = 0; round < MAX_FIX_ROUNDS && !current.value("RUST").equals("y"); round++) {
                        boolean more = false;
                        for (ConfigOutcome.Blocker b : blockers(deps, current)) {
                            if (b.fixable() != null && !fixes.containsKey(b.fixable())) {
                                fixes.put(b.fixable(), "n");
                                more = true;
                            }
                        }
                        if (!more) {
                            break;
                        }
                        current = olddefconfig(session, make, outDir, input.with(fixes));
                    }
                    result = current;
                    fixed.addAll(fixes.keySet());
                    Set<String> related = new java.util.TreeSet<>(plain.diff(result).keySet());
                    // options whose being on blocks Rust, even when olddefconfig (not the fix) turned them off
                    deps.clauses().forEach(c -> c.negatedHead().ifPresent(related::add));
                    for (String symbol : related) {
                        String before = base.value(symbol);
                        String after = result.value(symbol);
                        if (!before.equals(after)) {
                            changes.put(symbol, new KernelConfig.Change(symbol, before, after));
                        }
                    }
                }
            }
            List<String> notApplied = new ArrayList<>();
            for (String s : userRequested) {
                if (!result.value(s).equals(requested.get(s))) {
                    notApplied.add(s + " (asked " + requested.get(s) + ", got " + result.value(s) + ")");
                }
            }
            boolean ok = result.value("RUST").equals("y");
            if (ok) {
                stage.ok();
            }
            return new ConfigOutcome(base, result, ok, blockers, baseBlockers, fixed, changes, notApplied, rustAvailable);
        }
    }

    private static List<ConfigOutcome.Blocker> blockers(KconfigDependencies deps, KernelConfig config) {
        List<ConfigOutcome.Blocker> out = new ArrayList<>();
        for (KconfigDependencies.Clause c : deps.unmet(config)) {
            Map<String, String> values = new LinkedHashMap<>();
            for (String s : c.symbols()) {
                values.put(s, config.value(s));
            }
            String fix = c.negatedHead().filter(s -> config.isEnabled(s)).orElse(null);
            out.add(new ConfigOutcome.Blocker(c.expression(), values, fix));
        }
        return out;
    }

    private KconfigDependencies rustDependencies(Path srcDir) {
        try {
            return KconfigDependencies.read(srcDir.resolve("init/Kconfig"), "RUST").orElseThrow(() ->
                    new RkmodException(ExitCode.ENVIRONMENT, "This kernel source has no CONFIG_RUST",
                            "init/Kconfig defines no 'config RUST'; Rust support arrived in Linux 6.1",
                            "Use a 6.1 or newer kernel source"));
        } catch (IOException e) {
            throw new RkmodException(ExitCode.USAGE, "Cannot read " + srcDir.resolve("init/Kconfig"), e.getMessage(),
                    "Check the kernel source", e);
        }
    }

    private KernelConfig olddefconfig(Toolchain.Shell session, List<String> make, Path outDir, KernelConfig input) {
        FileOps.writeAtomically(outDir.resolve(".config"), input.format().getBytes(StandardCharsets.UTF_8));
        run(session, make, "olddefconfig");
        return read(outDir.resolve(".config"));
    }

    private void run(Toolchain.Shell session, List<String> make, String target) {
        ctx.runner().run(session.spec(null, concat(make, target)).label("make " + target)
                .timeout(CONFIG_TIMEOUT).failureCode(ExitCode.BUILD_FAILED));
    }

    private static KernelConfig read(Path p) {
        try {
            return KernelConfig.read(p);
        } catch (IOException e) {
            throw new RkmodException(ExitCode.BUILD_FAILED, "make did not write " + p, e.getMessage(),
                    "See the make output above", e);
        }
    }

    private static List<String> concat(List<String> a, String b) {
        List<String> out = new ArrayList<>(a);
        out.add(b);
        return out;
    }
}
