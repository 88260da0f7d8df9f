package dev.rkmod.workflow.tree;

import dev.rkmod.format.FormatException;
import dev.rkmod.format.KernelCrateGates;
import dev.rkmod.format.RmetaObjtreePaths;
import dev.rkmod.format.KconfigDependencies;
import dev.rkmod.format.KernelConfig;
import dev.rkmod.format.TargetSpec;
import dev.rkmod.model.ExitCode;
import dev.rkmod.model.KernelGeneration;
import dev.rkmod.model.RkmodException;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * A built kernel tree or an rkmod package, as an external-module build sees it: its config, release,
 * generation, Rust set and the rustc that made it. A tree is opened once; what rkmod recorded about it in a
 * manifest is read, not derived again, when a cheap check shows it still describes the tree (see
 * {@link RecordedFacts}). A manifest that does not is set aside: the facts are derived from the files, as for a
 * tree without one, and {@link #setAside()} says why, for the workflow to warn.
 *
 * @param recorded the checked facts of the tree's manifest, when it has one that holds
 * @param setAside why the tree's manifest was not trusted, when it has one that does not hold
 */
public record KernelTree(Path dir, KernelConfig config, String release, KernelGeneration generation,
                         Set<String> crates, Optional<RecordedFacts> recorded, Optional<String> setAside) {

    /** A configured tree's config and release, Rust or not: what a module's vermagic is checked against. */
    public record Configured(Path dir, KernelConfig config, String release) { }

    /** Reads the config and release of any configured tree (a build tree, a package or distro headers). */
    public static Configured configured(Path dir) throws IOException {
        return new Configured(dir, KernelConfig.read(dir.resolve(".config")), readRelease(dir));
    }

    private static String readRelease(Path dir) throws IOException {
        return Files.readString(dir.resolve("include/config/kernel.release"), StandardCharsets.UTF_8).strip();
    }

    /** Opens and checks a built tree (or a package). Exit code 3 when it is not one. */
    public static KernelTree open(Path dir) {
        if (!Files.isDirectory(dir) || !Files.isRegularFile(dir.resolve("Makefile"))) {
            throw new RkmodException(ExitCode.ENVIRONMENT, dir + " is not a built kernel tree",
                    !Files.exists(dir) ? "It does not exist" : !Files.isDirectory(dir) ? "It is a file, not a directory"
                            : "It has no kernel Makefile", "Pass the directory 'make' built the kernel in (or an rkmod package),"
                    + " such as the tree 'rkmod kernel build' prints");
        }
        if (!Files.isRegularFile(dir.resolve(".config"))) {
            throw new RkmodException(ExitCode.ENVIRONMENT, dir + " is not a built kernel tree",
                    "It has no .config", "Configure and build the kernel first ('rkmod kernel build')");
        }
        List<String> missing = new ArrayList<>();
        for (String f : List.of("include/config/auto.conf", "include/config/kernel.release",
                "include/generated/autoconf.h", "scripts/mod/modpost", "Module.symvers")) {
            if (!Files.exists(dir.resolve(f))) {
                missing.add(f);
            }
        }
        if (!missing.isEmpty()) {
            throw new RkmodException(ExitCode.ENVIRONMENT, dir + " is configured but not built",
                    "It lacks " + String.join(", ", missing) + ", which external module builds need",
                    "Build the kernel (make, or 'rkmod kernel build') and package the built tree");
        }
        KernelConfig config;
        try {
            config = KernelConfig.read(dir.resolve(".config"));
        } catch (IOException e) {
            throw new RkmodException(ExitCode.ENVIRONMENT, "Cannot read " + dir.resolve(".config"), e.getMessage(),
                    "Check the tree", e);
        }
        if (!config.value("RUST").equals("y")) {
            throw new RkmodException(RkmodException.Kind.RUST_DISABLED, ExitCode.ENVIRONMENT,
                    dir + " was built without CONFIG_RUST",
                    "Rust modules cannot be built against it" + blockersOf(dir, config),
                    "Rebuild the kernel with Rust enabled: 'rkmod kernel build --config " + dir.resolve(".config")
                            + " --fix-rust'");
        }
        String release;
        try {
            release = readRelease(dir);
        } catch (IOException e) {
            throw new RkmodException(ExitCode.ENVIRONMENT, "Cannot read the kernel release", e.getMessage(), null, e);
        }
        Set<String> crates = crates(dir);
        RecordedFacts.Lookup manifest = RecordedFacts.find(dir, config, release, crates);
        KernelGeneration gen = manifest.facts().flatMap(RecordedFacts::generation).orElseGet(() ->
                generation(dir, release).orElseThrow(() -> new RkmodException(ExitCode.ENVIRONMENT,
                        "rkmod does not know the Rust module API of Linux " + release, null,
                        "Use a 6.1 or newer kernel")));
        return new KernelTree(dir.toAbsolutePath().normalize(), config, release, gen, crates, manifest.facts(),
                manifest.setAside());
    }

    private static String blockersOf(Path dir, KernelConfig config) {
        Path kconfig = dir.resolve("init/Kconfig");
        if (!Files.isRegularFile(kconfig)) {
            return "";
        }
        try {
            Optional<KconfigDependencies> deps = KconfigDependencies.read(kconfig, "RUST");
            if (deps.isEmpty()) {
                return "; this kernel has no Rust support at all";
            }
            List<String> unmet = deps.get().unmet(config).stream().map(KconfigDependencies.Clause::expression).toList();
            return unmet.isEmpty() ? "" : "; its config fails 'depends on " + String.join("', '", unmet) + "'";
        } catch (IOException e) {
            return "";
        }
    }

    /**
     * The generation of the tree in {@code dir}, decided from its contents (crates, target spec location), with the
     * release (may be null) as the tie-breaker.
     */
    public static Optional<KernelGeneration> generation(Path dir, String release) {
        return KernelGeneration.detect(crates(dir), Files.exists(dir.resolve(KernelGeneration.RUST_TARGET_SPEC)), release);
    }

    /** Names of {@code rust/lib*.rmeta} crates. */
    public static Set<String> crates(Path dir) {
        Set<String> out = new java.util.TreeSet<>();
        Path rust = dir.resolve("rust");
        if (!Files.isDirectory(rust)) {
            return out;
        }
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(rust, "lib*.rmeta")) {
            for (Path p : ds) {
                String n = p.getFileName().toString();
                out.add(n.substring(3, n.length() - ".rmeta".length()));
            }
        } catch (IOException e) {
            return out;
        }
        return out;
    }

    /** Files of the generation's Rust set that are missing. */
    public List<String> missingRustFiles() {
        List<String> missing = new ArrayList<>();
        for (String c : new java.util.TreeSet<>(generation.crates())) {
            if (!crates.contains(c)) {
                missing.add("rust/lib" + c + ".rmeta");
            }
        }
        List<String> files = new ArrayList<>(List.of(generation.targetSpec()));
        generation.procMacros().forEach(m -> files.add("rust/lib" + m + ".so"));
        files.addAll(KernelGeneration.RUST_GENERATED);
        files.addAll(objtreeIncludes());
        files.add(KernelGeneration.RUST_PROBE);
        for (String f : files) {
            if (!Files.isRegularFile(dir.resolve(f))) {
                missing.add(f);
            }
        }
        return missing;
    }

    /**
     * The object-tree files the crates' exported macros read when a module expands them ({@code warn_on!}'s
     * {@code rust/kernel/generated_arch_warn_asm.rs}, static branches' {@code generated_arch_static_branch_asm.rs}):
     * what the package manifest recorded, else read from the string literals in {@code rust/lib*.rmeta}
     * ({@link RmetaObjtreePaths}). A crate that cannot be read adds nothing here; {@link #rustcVersion} names it.
     */
    public List<String> objtreeIncludes() {
        Optional<List<String>> recordedPaths = recorded.flatMap(RecordedFacts::objtreeIncludes);
        if (recordedPaths.isPresent()) {
            return recordedPaths.get();
        }
        java.util.SortedSet<String> out = new java.util.TreeSet<>();
        for (String c : crates) {
            try {
                out.addAll(RmetaObjtreePaths.read(dir.resolve("rust/lib" + c + ".rmeta")));
            } catch (IOException e) {
                // unreadable crates are reported where their header is read
            }
        }
        return List.copyOf(out);
    }

    /**
     * The kernel crate's modules that exist only with a config option ({@code usb -> CONFIG_USB=y}): what the
     * manifest recorded (package, or completed headers), else read from the tree's own {@code rust/kernel/lib.rs} (an
     * in-tree build); empty when neither is there.
     */
    public java.util.Map<String, String> configGates() {
        Optional<java.util.Map<String, String>> recordedGates = recorded.flatMap(RecordedFacts::configGates);
        if (recordedGates.isPresent()) {
            return recordedGates.get();
        }
        Path lib = dir.resolve(KernelCrateGates.LIB_RS);
        if (Files.isRegularFile(lib)) {
            try {
                return KernelCrateGates.parse(Files.readString(lib, StandardCharsets.UTF_8));
            } catch (IOException | RuntimeException e) {
                return java.util.Map.of();
            }
        }
        return java.util.Map.of();
    }

    public boolean llvm() {
        return config.value("CC_IS_CLANG").equals("y");
    }

    /**
     * The rustc version string every rmeta header carries; they must agree with each other and with
     * CONFIG_RUSTC_VERSION_TEXT. A manifest that holds already says it; the rmeta files are read only without one.
     */
    public String rustcVersion() {
        Optional<String> recordedRustc = recorded.map(RecordedFacts::rustc);
        if (recordedRustc.isPresent()) {
            return recordedRustc.get();
        }
        RmetaVersions v = rmetaVersions();
        if (!v.unreadable().isEmpty()) {
            RmetaVersions.Unreadable u = v.unreadable().get(0);
            if (u.error() instanceof FormatException e) {
                throw new RkmodException(ExitCode.ENVIRONMENT, e.what(), e.why(), e.fix());
            }
            throw new RkmodException(ExitCode.ENVIRONMENT, "Cannot read " + u.file(), u.error().getMessage(), null, u.error());
        }
        if (v.mixed()) {
            throw new RkmodException(ExitCode.ENVIRONMENT, "The rmeta files in " + dir.resolve("rust")
                    + " were made by different compilers: " + v.describe(c -> "lib" + c + ".rmeta"),
                    "Crates from two builds cannot be mixed (rustc reports E0460/E0514)", "Rebuild the kernel tree");
        }
        if (v.rmeta().isEmpty()) {
            return v.configText().orElseThrow(() -> new RkmodException(ExitCode.ENVIRONMENT,
                    dir + " has no rust/*.rmeta and no CONFIG_RUSTC_VERSION_TEXT", null, "Rebuild with CONFIG_RUST=y"));
        }
        if (v.configDisagrees()) {
            throw new RkmodException(ExitCode.ENVIRONMENT, "The rmeta files say '" + v.rmeta().get()
                    + "' but CONFIG_RUSTC_VERSION_TEXT is '" + v.configText().get() + "'",
                    "The Rust set and the config come from different builds", "Rebuild the kernel tree");
        }
        return v.rmeta().get();
    }

    /** The rustc versions the rmeta headers and the config name, unjudged. */
    public RmetaVersions rmetaVersions() {
        return RmetaVersions.read(dir, crates, config);
    }

    public Optional<TargetSpec> targetSpec() {
        Path p = dir.resolve(generation.targetSpec());
        try {
            return Files.isRegularFile(p) ? Optional.of(TargetSpec.read(p)) : Optional.empty();
        } catch (IOException e) {
            return Optional.empty();
        }
    }
}
