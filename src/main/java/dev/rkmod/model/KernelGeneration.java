package dev.rkmod.model;

import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * What an out-of-tree Rust module build needs from each kernel generation. This is the one table
 * rkmod consults; commands never compare kernel versions themselves. Rows are ordered oldest first.
 * The generation of a tree is decided from what it contains (see {@link #detect}); the version number
 * is only a fallback, because stable backports move features (6.12.117 has the 6.13 allocator).
 * Columns: id, first and last version (major * 100 + minor), target spec, rmeta crates, module syntax,
 * minimum rustc and bindgen, and whether kbuild refuses an M= build without the generated config files.
 * A new generation is a new row (and, when the module! syntax changes, a new {@link ModuleSyntax}).
 */
public enum KernelGeneration {
    /** 6.1: byte-string module! values, {@code rust/target.json}, alloc crate, Vec::try_push. */
    G6_1("6.1", 601, 601, KernelGeneration.RUST_TARGET_SPEC,
            Set.of("core", "compiler_builtins", "alloc", "bindings", "kernel"),
            ModuleSyntax.BYTE_STRINGS, "1.62.0", "0.56.0", false),
    /** 6.2: string module! values, adds build_error. */
    G6_2("6.2", 602, 602, KernelGeneration.RUST_TARGET_SPEC,
            Set.of("core", "compiler_builtins", "alloc", "bindings", "build_error", "kernel"),
            ModuleSyntax.STRINGS_TRY_PUSH, "1.62.0", "0.56.0", false),
    /** 6.3 to 6.9: {@code scripts/target.json}, uapi crate, still try_push. */
    G6_3("6.3", 603, 609, "scripts/target.json",
            Set.of("core", "compiler_builtins", "alloc", "bindings", "uapi", "build_error", "kernel"),
            ModuleSyntax.STRINGS_TRY_PUSH, "1.68.2", "0.56.0", false),
    /** 6.10 to 6.12 (before the allocator backport): alloc crate, push(x, GFP_KERNEL). */
    G6_10("6.10", 610, 612, "scripts/target.json",
            Set.of("core", "compiler_builtins", "alloc", "bindings", "uapi", "build_error", "kernel"),
            ModuleSyntax.STRINGS_PUSH_GFP, "1.78.0", "0.65.1", false),
    /**
     * 6.13, 6.14 and the 6.12 stable series with the backported allocator: ffi crate, no alloc, KVec; kbuild refuses
     * external builds without the generated config files.
     */
    G6_13("6.13", 613, 614, "scripts/target.json",
            Set.of("core", "compiler_builtins", "ffi", "bindings", "uapi", "build_error", "kernel"),
            ModuleSyntax.STRINGS_KVEC, "1.78.0", "0.65.1", true),
    /** 6.15 to 6.18: pin_init crate and proc macro, authors: [..]. */
    G6_15("6.15", 615, 618, "scripts/target.json",
            Set.of("core", "compiler_builtins", "ffi", "bindings", "pin_init", "uapi", "build_error", "kernel"),
            ModuleSyntax.AUTHORS_KVEC, "1.78.0", "0.65.1", true),
    /**
     * 6.19 to 7.1: the 6.15 crate set; module! adds imports_ns and params, 7.0 builds the proc macros against
     * host-only syn/quote/proc_macro2 rlibs (not needed by M= builds), 7.1 raises the minimum to rustc 1.85.
     */
    G6_19("6.19", 619, 701, "scripts/target.json",
            Set.of("core", "compiler_builtins", "ffi", "bindings", "pin_init", "uapi", "build_error", "kernel"),
            ModuleSyntax.AUTHORS_KVEC, "1.78.0", "0.65.1", true),
    /**
     * 7.2 and later 7.x: adds the zerocopy crate and its derive proc macro, which every Rust module is built
     * against (read from Debian's 7.2.13 tree); optional inline helpers bitcode.
     */
    G7("7.2", 702, 799, "scripts/target.json",
            Set.of("core", "compiler_builtins", "ffi", "bindings", "pin_init", "uapi", "build_error", "kernel", "zerocopy"),
            ModuleSyntax.AUTHORS_KVEC, "1.85.0", "0.71.1", true);

    /**
     * How a module's source must be written for this generation: the few snippets in which the one module
     * template (dev/rkmod/templates/module.rs) differs between generations.
     */
    public enum ModuleSyntax {
        /** module! values are b"..." byte strings; Vec::try_push. */
        BYTE_STRINGS("6.1 module API: byte-string module! values, Vec::try_push", true, false, "Vec", "try_push(n)"),
        /** module! values are "..." strings; Vec::try_push. */
        STRINGS_TRY_PUSH("6.2 to 6.9 module API: string module! values, Vec::try_push", false, false, "Vec", "try_push(n)"),
        /** "..." strings; Vec with push(x, GFP_KERNEL). */
        STRINGS_PUSH_GFP("6.10 to 6.12 module API: string module! values, Vec::push with GFP flags", false, false, "Vec",
                "push(n, GFP_KERNEL)"),
        /** "..." strings; KVec with push(x, GFP_KERNEL); author: key. */
        STRINGS_KVEC("6.13 module API, also 6.12 stable with the allocator backport: KVec, push with GFP flags", false,
                false, "KVec", "push(n, GFP_KERNEL)"),
        /** "..." strings; KVec; authors: ["..."]. */
        AUTHORS_KVEC("6.15+ module API: authors list, KVec", false, true, "KVec", "push(n, GFP_KERNEL)");

        private final String api;
        private final boolean byteStrings;
        private final boolean authorsList;
        private final String vec;
        private final String push;

        ModuleSyntax(String api, boolean byteStrings, boolean authorsList, String vec, String push) {
            this.api = api;
            this.byteStrings = byteStrings;
            this.authorsList = authorsList;
            this.vec = vec;
            this.push = push;
        }

        /** The module API, as a module's doc comment names it. */
        public String api() {
            return api;
        }

        /** A module! string value: {@code b"value"} or {@code "value"}. */
        public String string(String value) {
            return (byteStrings ? "b\"" : "\"") + value + "\"";
        }

        /** The module! author field: {@code author: "…"} or {@code authors: ["…"]}. */
        public String authorField(String value) {
            return authorsList ? "authors: [" + string(value) + "]" : "author: " + string(value);
        }

        /** The kernel's vector type: Vec or KVec. */
        public String vec() {
            return vec;
        }

        /** Pushing {@code n} onto a vector, without the {@code ?}. */
        public String push() {
            return push;
        }
    }

    /** Where 6.1 and 6.2 keep the custom target spec; later generations have it in scripts/. */
    public static final String RUST_TARGET_SPEC = "rust/target.json";

    /** Globs (relative to KDIR) of the Rust files an M= build reads; never hard-coded crate names. */
    public static final List<String> RUST_GLOBS = List.of("rust/*.rmeta", "rust/*.so", "rust/helpers/*.bc");

    /**
     * The kernel's own Rust probe: what {@code make rustavailable} and kbuild's prepare step run, and what DKMS
     * packages of mixed C and Rust run to decide whether to build their Rust parts. Every package carries it.
     */
    public static final String RUST_PROBE = "scripts/rust_is_available.sh";

    /** Globs (relative to KDIR) of the probe and the files it reads beside itself ({@code $(dirname $0)/…}). */
    public static final List<String> RUST_PROBE_GLOBS = List.of(RUST_PROBE, "scripts/rust_is_available_bindgen_*.h",
            "scripts/min-tool-version.sh", "scripts/cc-version.sh");

    /** Files kbuild needs for any external Rust build. */
    public static final List<String> RUST_GENERATED = List.of("include/generated/rustc_cfg");

    /** Generated config files that strict generations refuse an M= build without. */
    private static final List<String> CONFIG_GENERATED = List.of("include/generated/autoconf.h", "include/config/auto.conf");

    /**
     * From this release rustc names a custom target by a hash of its contents (and embeds them in each crate);
     * older ones hash the target file's path, so crates of a moved tree no longer match (E0461).
     */
    public static final RustcVersion TARGET_BY_CONTENTS = RustcVersion.parse("1.63.0");

    private final String id;
    private final int fromVersion;
    private final int toVersion;
    private final String targetSpec;
    private final Set<String> crates;
    private final ModuleSyntax syntax;
    private final RustcVersion minRustc;
    private final String minBindgen;
    private final boolean strictExternalBuilds;

    KernelGeneration(String id, int fromVersion, int toVersion, String targetSpec, Set<String> crates,
                     ModuleSyntax syntax, String minRustc, String minBindgen, boolean strictExternalBuilds) {
        this.id = id;
        this.fromVersion = fromVersion;
        this.toVersion = toVersion;
        this.targetSpec = targetSpec;
        this.crates = crates;
        this.syntax = syntax;
        this.minRustc = RustcVersion.parse(minRustc);
        this.minBindgen = minBindgen;
        this.strictExternalBuilds = strictExternalBuilds;
    }

    public String id() {
        return id;
    }

    /** The custom target spec, relative to KDIR (x86). */
    public String targetSpec() {
        return targetSpec;
    }

    /** The rmeta crates a tree of this generation has (informational; packaging globs). */
    public Set<String> crates() {
        return crates;
    }

    public ModuleSyntax syntax() {
        return syntax;
    }

    /** The oldest rustc scripts/min-tool-version.sh of this generation accepts. */
    public RustcVersion minRustc() {
        return minRustc;
    }

    public String minBindgen() {
        return minBindgen;
    }

    /**
     * The proc-macro libraries ({@code rust/lib<name>.so}) an M= build loads: macros always; pin_init_internal
     * from 6.15; zerocopy_derive from 7.2. Decided by the crates, like everything else in this table.
     */
    public List<String> procMacros() {
        List<String> out = new java.util.ArrayList<>(List.of("macros"));
        if (crates.contains("pin_init")) {
            out.add("pin_init_internal");
        }
        if (crates.contains("zerocopy")) {
            out.add("zerocopy_derive");
        }
        return out;
    }

    /** Generated files kbuild refuses an M= build without (6.13 and later); empty before. */
    public List<String> requiredGenerated() {
        return strictExternalBuilds ? CONFIG_GENERATED : List.of();
    }

    /** The oldest generation whose kbuild refuses an M= build without its generated files. */
    public static KernelGeneration firstStrict() {
        return Arrays.stream(values()).filter(g -> g.strictExternalBuilds).findFirst().orElseThrow();
    }

    /** The row with this id ("6.13"). */
    public static Optional<KernelGeneration> byId(String id) {
        return Arrays.stream(values()).filter(g -> g.id.equals(id)).findFirst();
    }

    /** The row for a kernel version such as "6.12.117" (fallback when the tree says nothing). */
    public static Optional<KernelGeneration> forVersion(String version) {
        String[] p = version.split("[.-]");
        if (p.length < 2) {
            return Optional.empty();
        }
        try {
            int v = Integer.parseInt(p[0]) * 100 + Integer.parseInt(p[1]);
            return Arrays.stream(values()).filter(g -> v >= g.fromVersion && v <= g.toVersion).findFirst();
        } catch (NumberFormatException e) {
            return Optional.empty();
        }
    }

    /**
     * Decides the generation from the rmeta crates a built tree contains: the row that has most of them, then the
     * one whose target spec is where the tree has it, then the one that lacks fewest of them (the crate set decides,
     * not the version: 6.12.117 with the ffi crate is a 6.13 tree). The version only breaks the remaining ties (rows
     * that share a crate set, 6.3 and 6.10 say), and without it the newest of them wins. No rule names a crate: a new
     * row with a new crate set is detected as it is.
     *
     * @param crateNames names of {@code rust/lib*.rmeta} without prefix and suffix
     * @param hasRustTargetJson whether {@link #RUST_TARGET_SPEC} exists
     * @param version the kernel release, or null
     */
    public static Optional<KernelGeneration> detect(Set<String> crateNames, boolean hasRustTargetJson, String version) {
        Optional<KernelGeneration> byVersion = version == null ? Optional.empty() : forVersion(version);
        if (crateNames.isEmpty()) {
            return byVersion;
        }
        Comparator<KernelGeneration> fit = Comparator
                .comparingLong((KernelGeneration g) -> crateNames.stream().filter(g.crates::contains).count())
                .thenComparing(g -> g.targetSpec.equals(RUST_TARGET_SPEC) == hasRustTargetJson)
                .thenComparingLong(g -> -g.crates.stream().filter(c -> !crateNames.contains(c)).count())
                .thenComparing(g -> byVersion.isPresent() && byVersion.get() == g)
                .thenComparingInt(Enum::ordinal);
        KernelGeneration best = Arrays.stream(values()).max(fit).orElseThrow();
        return crateNames.stream().anyMatch(best.crates::contains) ? Optional.of(best) : byVersion;
    }
}
