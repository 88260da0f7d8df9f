package dev.rkmod.workflow.doctor;

import dev.rkmod.format.Bytes;
import dev.rkmod.format.FormatException;
import dev.rkmod.format.TargetSpec;
import dev.rkmod.model.Finding;
import dev.rkmod.model.KernelGeneration;
import dev.rkmod.model.RkmodException;
import dev.rkmod.model.RustcVersion;
import dev.rkmod.workflow.Context;
import dev.rkmod.workflow.tree.KernelTree;
import dev.rkmod.workflow.tree.RmetaVersions;
import dev.rkmod.workflow.toolchain.RustcFinder;
import dev.rkmod.workflow.toolchain.Toolchain;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * `rkmod doctor`: predicts why an out-of-tree Rust module will not build against KDIR, before
 * compiling, and says how to fix it. Every check reads files with rkmod's own readers and never throws
 * out of doctor: a broken file is a finding.
 */
public final class DoctorWorkflow {
    private final Context ctx;

    public DoctorWorkflow(Context ctx) {
        this.ctx = ctx;
    }

    /** What doctor found, plus the rustc a build should use (when one matches). */
    public record Report(Path kdir, List<Finding> findings, Optional<RustcFinder.Candidate> match,
                         Optional<KernelTree> tree, String rustcVersion) {
        public boolean hasErrors() {
            return findings.stream().anyMatch(f -> f.severity() == Finding.Severity.ERROR);
        }
    }

    public Report run(Path kdir, Optional<Path> rustc) {
        List<Finding> out = new ArrayList<>();
        KernelTree tree;
        try {
            tree = KernelTree.open(kdir);
        } catch (RkmodException e) {
            String id = e.kind() == RkmodException.Kind.RUST_DISABLED ? "config.rust-off" : "tree.unusable";
            out.add(Finding.error(id, e.what(), e.why(), e.fix()));
            return new Report(kdir, out, Optional.empty(), Optional.empty(), null);
        }
        out.add(Finding.info("tree.ok", "Linux " + tree.release() + ", " + tree.generation().id() + " module API generation",
                tree.crates().isEmpty() ? "Decided by the version: the tree has no Rust crates" : "Detected from the crates in rust/ (" + String.join(", ", tree.crates()) + ")", null));
        boolean distroHeaders = isUncompletedDistroHeaders(tree);
        if (!distroHeaders) {
            rustSet(tree, out);
        }
        String version = rmetaVersions(tree, out);
        Optional<RustcFinder.Candidate> match = Optional.empty();
        if (version != null) {
            match = compiler(tree, version, rustc, out);
            targetSpec(tree, version, out);
        }
        if (distroHeaders) {
            distroGap(tree, match, out);
        }
        cSide(tree, out);
        return new Report(tree.dir(), out, match, Optional.of(tree), version);
    }

    private void rustSet(KernelTree tree, List<Finding> out) {
        List<String> includes = tree.objtreeIncludes();
        for (String missing : tree.missingRustFiles()) {
            if (includes.contains(missing)) {
                out.add(Finding.warning("rust.missing-macro-include", missing + " is missing",
                        "The kernel crate's macros include it from the kernel's object tree when a module expands them"
                                + " (kernel::warn_on!, static branches and tracepoints); such a module fails with: couldn't"
                                + " read " + missing,
                        "Make the package again with this rkmod ('rkmod headers complete --force' or 'rkmod package'),"
                                + " which ships every file the crates' macros include"));
            } else if (missing.equals(KernelGeneration.RUST_PROBE)) {
                out.add(Finding.warning("rust.missing-probe", missing + " is missing",
                        "It is the kernel's own Rust probe ('make rustavailable'); DKMS packages of mixed C and Rust run it"
                                + " to decide whether to build their Rust parts, and without it they build without them,"
                                + " silently",
                        "Make the package again with this rkmod ('rkmod headers complete --force' or 'rkmod package'),"
                                + " which ships the probe and the files it reads"));
            } else if (missing.endsWith(".rmeta")) {
                String crate = missing.substring("rust/lib".length(), missing.length() - ".rmeta".length());
                out.add(Finding.error("rust.missing-rmeta", missing + " is missing",
                        "rustc will fail with E0463: can't find crate for `" + crate + "` (the usual state of distro headers"
                                + " packages)",
                        "Use a package made by 'rkmod package --kdir <built tree>', which ships the whole Rust set"));
            } else if (missing.endsWith("target.json")) {
                out.add(Finding.error("rust.missing-target", missing + " is missing",
                        "Every Rust object is compiled for this custom target; rustc stops with: target file \"./" + missing
                                + "\" does not exist",
                        "Ship the kernel's own " + missing + " byte for byte (never regenerate it): 'rkmod package'"));
            } else if (missing.endsWith(".so")) {
                out.add(Finding.error("rust.missing-macros", missing + " is missing",
                        "The module! macro is a proc macro in this library; rustc fails to find crate `macros`",
                        "Package the tree with 'rkmod package'"));
            } else {
                out.add(Finding.error("rust.missing-generated", missing + " is missing",
                        "kbuild passes its cfg flags to rustc; " + KernelGeneration.firstStrict().id()
                                + " and later refuse an M= build without it",
                        "Package the built tree with 'rkmod package'"));
            }
        }
        for (String f : tree.generation().requiredGenerated()) {
            if (!Files.isRegularFile(tree.dir().resolve(f))) {
                out.add(Finding.error("rust.missing-generated", f + " is missing",
                        "Linux " + tree.generation().id() + " and later refuse external builds without it",
                        "Package the built tree with 'rkmod package'"));
            }
        }
    }

    /**
     * Headers of a Rust-enabled kernel that carry none of the Rust set: what distro headers packages ship
     * (Debian's, for one). Not a package rkmod made, and no rmeta at all.
     */
    static boolean isUncompletedDistroHeaders(KernelTree tree) {
        return tree.crates().isEmpty() && !Files.exists(tree.dir().resolve(dev.rkmod.format.PackageManifest.FILE))
                && !Files.exists(tree.dir().resolve(dev.rkmod.format.KernelManifest.FILE))
                && tree.config().string("RUSTC_VERSION_TEXT").isPresent();
    }

    /** One finding for the whole gap, the tools completion needs (and which are found), and the command. */
    private void distroGap(KernelTree tree, Optional<RustcFinder.Candidate> match, List<Finding> out) {
        String rustcText = tree.config().string("RUSTC_VERSION_TEXT").orElse("?");
        String bindgenText = tree.config().string("BINDGEN_VERSION_TEXT").orElse(null);
        String ccText = tree.config().string("CC_VERSION_TEXT").orElse(null);
        String cmd = completeCommand(tree);
        List<String> missing = tree.missingRustFiles();
        out.add(Finding.error("rust.distro-headers", "These distro headers of Linux " + tree.release() + " lack the Rust"
                        + " metadata (" + String.join(", ", missing.subList(0, Math.min(4, missing.size())))
                        + (missing.size() > 4 ? " and " + (missing.size() - 4) + " more" : "") + ")",
                "The kernel has CONFIG_RUST=y, but its headers package ships no rust/*.rmeta, proc macros or target spec,"
                        + " so rustc fails with E0463 can't find crate for `core`. They must be regenerated from the kernel's"
                        + " source by its exact compilers (never copied from another build: the symbol hashes would differ)",
                "Run: " + cmd));
        out.add(Finding.info("tools.rustc", "Completion needs '" + rustcText + "'",
                match.isPresent() ? "found: " + match.get().description() : "not found on this machine", null));
        Optional<Toolchain> tc = match.map(RustcFinder.Candidate::toolchain);
        if (bindgenText != null) {
            String found = tc.map(t -> probe(t, t.bindgen())).orElseGet(() -> probeHost("bindgen"));
            out.add(Finding.info("tools.bindgen", "Completion needs '" + bindgenText + "'",
                    bindgenText.equals(found) ? "found beside the matching rustc"
                            : "not found" + (found == null ? "" : " (the bindgen beside the matching rustc prints '" + found + "')"),
                    null));
        }
        if (ccText != null) {
            String cc = ccText.strip().split("\\s+")[0];
            String found = tc.map(t -> probe(t, cc)).orElseGet(() -> probeHost(cc));
            out.add(Finding.info("tools.cc", "Completion and module builds use the kernel's C compiler '" + ccText + "'",
                    ccText.equals(found) ? "found: " + cc : found == null ? cc + " is not found"
                            : cc + " prints '" + found + "' (Debian builds check only the compiler family)", null));
        }
    }

    private String completeCommand(KernelTree tree) {
        for (dev.rkmod.model.Distro d : dev.rkmod.model.Distro.all()) {
            Optional<Path> root = dev.rkmod.model.Profile.forDistro(d).flatMap(p -> p.root())
                    .flatMap(spec -> new dev.rkmod.workflow.toolchain.DebianRoots(ctx).find(spec));
            if (root.isPresent() && tree.dir().startsWith(root.get())) {
                return "rkmod headers complete --distro " + d.id() + ":" + tree.release() + " --out linux-" + tree.release()
                        + "-rust";
            }
        }
        return "rkmod headers complete --kdir " + tree.dir() + " --out linux-" + tree.release() + "-rust";
    }

    private String probe(Toolchain t, String program) {
        try (Toolchain.Shell s = t.open(ctx, List.of())) {
            return s.version(program, null).orElse(null);
        } catch (RkmodException e) {
            return null;
        }
    }

    private String probeHost(String program) {
        return ctx.host().which(program).map(p -> probe(Toolchain.host(p, Optional.empty()), p.toString())).orElse(null);
    }

    /** The rustc string every rmeta carries; null when they cannot be read or disagree. */
    private static String rmetaVersions(KernelTree tree, List<Finding> out) {
        RmetaVersions v = tree.rmetaVersions();
        for (RmetaVersions.Unreadable u : v.unreadable()) {
            if (u.error() instanceof FormatException e) {
                out.add(Finding.error("rust.rmeta-corrupt", e.what(), e.why() + " (" + e.reason() + ")",
                        "Package a freshly built tree"));
            } else {
                out.add(Finding.error("rust.rmeta-unreadable", "Cannot read " + u.file(), u.error().getMessage(),
                        "Check permissions"));
            }
        }
        if (v.mixed()) {
            out.add(Finding.error("rustc.rmeta-mixed", "The rmeta files were made by different compilers: "
                            + v.describe(c -> "lib" + c),
                    "rustc refuses crates from another compiler or build (E0514, E0460 found possibly newer version)",
                    "Do not mix rust/ files from two builds; package one complete build tree"));
            return null;
        }
        if (v.rmeta().isEmpty()) {
            return v.configText().orElse(null);
        }
        if (v.configDisagrees()) {
            out.add(Finding.error("rustc.config-mismatch", "rmeta files say '" + v.rmeta().get()
                            + "', CONFIG_RUSTC_VERSION_TEXT says '" + v.configText().get() + "'",
                    "The Rust set and .config come from different builds", "Package one complete build tree"));
        }
        return v.rmeta().get();
    }

    private Optional<RustcFinder.Candidate> compiler(KernelTree tree, String wanted, Optional<Path> rustc,
                                                     List<Finding> out) {
        List<RustcFinder.Candidate> all = new RustcFinder(ctx).candidates(rustc);
        RustcFinder.Source intended = rustc.isPresent() ? RustcFinder.Source.EXPLICIT : RustcFinder.Source.PATH;
        Optional<RustcFinder.Candidate> used = all.stream().filter(c -> c.source() == intended).findFirst();
        Optional<RustcFinder.Candidate> match = all.stream().filter(c -> c.matches(wanted)).findFirst();
        String rustcVar = match.map(c -> c.toolchain().rootDir().isPresent()
                ? "its /usr/bin/rustc under chroot " + c.toolchain().rootDir().get() + " (rkmod build runs it there)"
                : "RUSTC=" + c.toolchain().rustc()).orElse(null);
        RustcVersion kernels = RustcVersion.parse(wanted);
        if (used.isPresent() && !used.get().matches(wanted)) {
            String got = used.get().version() == null ? "nothing (it does not run)" : "'" + used.get().version() + "'";
            boolean sameNumber = used.get().version() != null
                    && RustcVersion.parse(used.get().version()).sameRelease(kernels);
            String effect = sameNumber
                    ? "Only the suffix differs, and rustc compares the whole string: E0514 found crate `core` compiled by an"
                    + " incompatible version of rustc"
                    : "A different rustc cannot load the kernel's crates: expect 'error loading target specification: custom"
                    + " targets are unstable and require -Zunstable-options' or E0514";
            String what = "The " + used.get().description() + " prints " + got + ", but the kernel was built with '" + wanted + "'";
            String why = effect + ". kbuild does not check this for M= builds";
            String fix = match.isPresent() ? "Use " + match.get().description() + ": " + rustcVar
                    : "Install the exact compiler that built the kernel";
            // the kernel's rustc lives only in one of rkmod's Debian roots: 'rkmod build' uses it there, and plain make
            // outside the root cannot, so this is a warning about plain make, not an error of the tree
            boolean onlyInRoot = match.isPresent() && match.get().toolchain().rootDir().isPresent();
            out.add(onlyInRoot ? Finding.warning("rustc.mismatch", what, why, fix) : Finding.error("rustc.mismatch", what, why, fix));
        }
        if (match.isEmpty()) {
            StringBuilder seen = new StringBuilder();
            for (RustcFinder.Candidate c : all) {
                seen.append(seen.isEmpty() ? "" : "; ").append(c.description()).append(": ")
                        .append(c.version() == null ? "does not run" : c.version());
            }
            out.add(Finding.error("rustc.none", "No rustc on this machine prints '" + wanted + "'",
                    "Modules must be compiled by the exact rustc that built the kernel. Candidates: " + seen,
                    "Install it (Debian's kernels: 'rkmod deps --install'), or rebuild the kernel with a rustc you have"));
        } else {
            out.add(Finding.info("rustc.match", match.get().description() + " matches '" + wanted + "'", null, rustcVar));
        }
        RustcVersion min = tree.generation().minRustc();
        if (kernels.isOlderThan(min)) {
            out.add(Finding.warning("rustc.min-version", "'" + wanted + "' is older than the " + min
                    + " this kernel generation expects", "scripts/min-tool-version.sh lists " + min, null));
        }
        RustcVersion byContents = KernelGeneration.TARGET_BY_CONTENTS;
        if (kernels.isOlderThan(byContents)) {
            String lastByPath = byContents.major() + "." + (byContents.minor() - 1);
            String firstByContents = byContents.major() + "." + byContents.minor();
            out.add(Finding.warning("target.path-hash", "The kernel was built with rustc " + kernels.release()
                            + ", which hashes the target.json path",
                    "rustc up to " + lastByPath + " names the target by its path, so a moved tree fails with E0461 (the"
                            + " seed's case)",
                    "Build the module at the tree's original path, or rebuild the kernel with rustc " + firstByContents
                            + " or later"));
        }
        return match;
    }

    private void targetSpec(KernelTree tree, String version, List<Finding> out) {
        Optional<TargetSpec> spec = tree.targetSpec();
        if (spec.isEmpty()) {
            return;
        }
        Path core = tree.dir().resolve("rust/libcore.rmeta");
        if (!Files.isRegularFile(core)) {
            return;
        }
        try {
            Embedded e = embedded(core, spec.get().contents());
            if (e == Embedded.MATCH) {
                out.add(Finding.info("target.ok", tree.generation().targetSpec() + " is the one the crates were built for",
                        "rustc names it " + spec.get().rustcTriple(), null));
            } else if (e == Embedded.DIFFERENT) {
                out.add(Finding.error("target.mismatch", tree.generation().targetSpec() + " differs from the target the"
                                + " crates were built for",
                        "rustc matches crates by the target's full contents and will fail with E0461: couldn't find crate"
                                + " `core` with expected target triple " + spec.get().rustcTriple(),
                        "Ship the kernel's original target spec byte for byte; never regenerate or edit it"));
            }
        } catch (IOException ex) {
            out.add(Finding.warning("target.unreadable", "Cannot read " + core, ex.getMessage(), null));
        }
    }

    private enum Embedded { MATCH, DIFFERENT, UNKNOWN }

    private static final byte[] DATA_LAYOUT = "\"data-layout\"".getBytes(StandardCharsets.UTF_8);

    /**
     * rustc 1.63+ embeds the target spec in each crate; compare the shipped bytes with it. rustc writes it into the
     * crate root, near the end (714 bytes before the end of a 55 MB libcore.rmeta of 1.63), so the last 64 KiB are
     * searched first, and a spec not found there is looked for in the last 4 MiB, then in the whole file.
     */
    private static Embedded embedded(Path rmeta, byte[] spec) throws IOException {
        try (RandomAccessFile f = new RandomAccessFile(rmeta.toFile(), "r")) {
            long len = f.length();
            int near = (int) Math.min(len, 64 << 10);
            byte[] end = new byte[near];
            f.seek(len - near);
            f.readFully(end);
            if (Bytes.contains(end, spec)) {
                return Embedded.MATCH;
            }
            int window = (int) Math.min(len, 4L << 20);
            byte[] tail = new byte[window];
            f.seek(len - window);
            f.readFully(tail);
            if (Bytes.contains(tail, spec)) {
                return Embedded.MATCH;
            }
            if (Bytes.contains(tail, DATA_LAYOUT)) {
                return Embedded.DIFFERENT;
            }
            byte[] all = Files.readAllBytes(rmeta);
            if (Bytes.contains(all, spec)) {
                return Embedded.MATCH;
            }
            return Bytes.contains(all, DATA_LAYOUT) ? Embedded.DIFFERENT : Embedded.UNKNOWN;
        }
    }

    private void cSide(KernelTree tree, List<Finding> out) {
        if (!tree.llvm()) {
            out.add(Finding.info("cc.gcc", "The kernel was built with gcc", "Modules are built with gcc too", null));
            return;
        }
        out.add(Finding.info("cc.llvm", "The kernel was built with clang (CONFIG_CC_IS_CLANG=y)",
                "Modules must be built with LLVM=1, or gcc meets clang-only flags", "rkmod build adds LLVM=1"));
        for (String tool : List.of("clang", "ld.lld")) {
            if (ctx.host().which(tool).isEmpty()) {
                out.add(Finding.error("cc.missing-" + tool, tool + " is not installed",
                        "LLVM=1 builds need " + tool, "Run 'rkmod deps --install'"));
            }
        }
        if (ctx.host().which("bindgen").isEmpty()) {
            out.add(Finding.info("bindgen.missing", "bindgen is not installed",
                    "Only kernel builds run bindgen; module builds do not", null));
        }
        if (tree.config().isEnabled("RUST_INLINE_HELPERS") && ctx.host().which("llvm-link").isEmpty()) {
            out.add(Finding.error("cc.missing-llvm-link", "llvm-link is not installed",
                    "CONFIG_RUST_INLINE_HELPERS links rust/helpers/helpers_module.bc into every module", "Install llvm"));
        }
    }
}
