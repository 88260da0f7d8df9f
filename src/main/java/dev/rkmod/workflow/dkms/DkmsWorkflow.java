package dev.rkmod.workflow.dkms;

import dev.rkmod.format.ProjectToml;
import dev.rkmod.infra.fs.FileOps;
import dev.rkmod.infra.process.ProcessResult;
import dev.rkmod.infra.process.ProcessSpec;
import dev.rkmod.model.ExitCode;
import dev.rkmod.model.Finding;
import dev.rkmod.model.KernelGeneration;
import dev.rkmod.model.RkmodException;
import dev.rkmod.workflow.Context;
import dev.rkmod.workflow.scaffold.ModuleTemplates;
import dev.rkmod.workflow.tree.KernelTree;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * `rkmod dkms init` and `rkmod dkms check`: DKMS packaging of an out-of-tree Rust module. init writes dkms.conf
 * and the build step it calls (rkmod-dkms-build, POSIX sh, with rkmod-dkms.mk in front of it so that DKMS's own
 * make arguments reach the kernel's make); check decides what that build step will decide, without building.
 */
public final class DkmsWorkflow {
    public static final String CONF = "dkms.conf";
    public static final String SCRIPT = "rkmod-dkms-build";
    public static final String MAKEFILE = "rkmod-dkms.mk";
    public static final String DEST = "/updates/dkms";
    private static final Pattern OBJ_M = Pattern.compile("^\\s*obj-m\\s*[:+?]?=\\s*(.*)$");
    private static final Pattern SAFE = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.+~-]*");
    private static final Duration PROBE = Duration.ofSeconds(30);

    private final Context ctx;

    public DkmsWorkflow(Context ctx) {
        this.ctx = ctx;
    }

    /** What init wrote. */
    public record Initialized(Path dir, String name, String version, List<String> modules, List<String> files) { }

    /** What check found: the build step's decision and doctor-style findings. */
    public record Report(Path dir, Path kdir, DkmsDecision decision, List<Finding> findings) {
        public boolean hasErrors() {
            return findings.stream().anyMatch(f -> f.severity() == Finding.Severity.ERROR);
        }
    }

    public Initialized init(Path dir, Optional<String> version, boolean force) {
        if (!Files.isDirectory(dir)) {
            throw new RkmodException(ExitCode.USAGE, dir + " is not a directory",
                    "rkmod dkms init writes dkms.conf into a module's source directory",
                    "Pass the directory that holds the module's Kbuild (or Makefile) and sources");
        }
        List<String> modules = modules(dir);
        String name = projectName(dir).orElse(modules.get(0));
        String v = version.orElse("1.0");
        if (!SAFE.matcher(v).matches()) {
            throw new RkmodException(ExitCode.USAGE, "'" + v + "' is not a usable DKMS package version",
                    "DKMS puts the version into paths (/usr/src/NAME-VERSION, /var/lib/dkms/NAME/VERSION)",
                    "Use letters, digits and . + ~ - _ only, such as 1.0.2");
        }
        Map<String, byte[]> files = new LinkedHashMap<>();
        files.put(CONF, conf(name, v, modules).getBytes(StandardCharsets.UTF_8));
        files.put(MAKEFILE, ModuleTemplates.resource("dkms/" + MAKEFILE).getBytes(StandardCharsets.UTF_8));
        files.put(SCRIPT, script().getBytes(StandardCharsets.UTF_8));
        if (!force) {
            List<String> existing = files.keySet().stream().filter(f -> Files.exists(dir.resolve(f))).toList();
            if (!existing.isEmpty()) {
                throw new RkmodException(ExitCode.USAGE, String.join(", ", existing) + " already exist"
                        + (existing.size() == 1 ? "s" : "") + " in " + dir,
                        "rkmod dkms init does not overwrite a DKMS setup without being asked",
                        "Pass --force to write them again");
            }
        }
        for (Map.Entry<String, byte[]> f : files.entrySet()) {
            FileOps.writeAtomically(dir.resolve(f.getKey()), f.getValue());
        }
        try {
            Files.setPosixFilePermissions(dir.resolve(SCRIPT), PosixFilePermissions.fromString("rwxr-xr-x"));
        } catch (IOException | UnsupportedOperationException ignored) {
            // dkms.conf runs it through sh; the mode is a courtesy
        }
        return new Initialized(dir.toAbsolutePath().normalize(), name, v, modules, List.copyOf(files.keySet()));
    }

    /** The build step, as shipped. */
    public static String script() {
        return ModuleTemplates.resource("dkms/" + SCRIPT).replace("@RKMOD_VERSION@", rkmodVersion());
    }

    static String conf(String name, String version, List<String> modules) {
        StringBuilder b = new StringBuilder();
        b.append("# Written by 'rkmod dkms init'. DKMS builds this Rust kernel module for every kernel through\n")
                .append("# rkmod-dkms-build (shipped beside this file, POSIX sh, no rkmod needed): it picks the kernel's exact\n")
                .append("# rustc and passes RUSTC=; DKMS's own -j, KERNELRELEASE=, CC=clang LD=ld.lld or LLVM=1 reach the\n")
                .append("# kernel's make unchanged. Without the kernel's Rust metadata or rustc it explains why in make.log.\n")
                .append("PACKAGE_NAME=\"").append(name).append("\"\n")
                .append("PACKAGE_VERSION=\"").append(version).append("\"\n");
        for (int i = 0; i < modules.size(); i++) {
            b.append("BUILT_MODULE_NAME[").append(i).append("]=\"").append(modules.get(i)).append("\"\n");
            b.append("DEST_MODULE_LOCATION[").append(i).append("]=\"").append(DEST).append("\"\n");
        }
        b.append("MAKE[0]=\"make -f ").append(MAKEFILE).append(" RKMOD_KDIR=${kernel_source_dir}\"\n")
                .append("AUTOINSTALL=\"yes\"\n");
        return b.toString();
    }

    /** The modules of obj-m in the directory's Kbuild, else its Makefile, in order. */
    static List<String> modules(Path dir) {
        for (String f : List.of("Kbuild", "Makefile")) {
            Path p = dir.resolve(f);
            if (!Files.isRegularFile(p)) {
                continue;
            }
            String text;
            try {
                text = Files.readString(p, StandardCharsets.ISO_8859_1).replace("\\\n", " ");
            } catch (IOException e) {
                throw new RkmodException(ExitCode.ENVIRONMENT, "Cannot read " + p, e.getMessage(), "Check its permissions", e);
            }
            LinkedHashSet<String> out = new LinkedHashSet<>();
            for (String line : text.split("\n")) {
                Matcher m = OBJ_M.matcher(line.replaceAll("#.*", ""));
                if (m.matches()) {
                    for (String tok : m.group(1).trim().split("\\s+")) {
                        if (tok.endsWith(".o") && tok.length() > 2) {
                            out.add(tok.substring(0, tok.length() - 2));
                        }
                    }
                }
            }
            if (!out.isEmpty()) {
                return List.copyOf(out);
            }
        }
        throw new RkmodException(ExitCode.USAGE, "No module in " + dir + ": neither Kbuild nor Makefile has an obj-m line",
                "dkms.conf names each module kbuild builds (BUILT_MODULE_NAME), and they come from obj-m",
                "Run rkmod dkms init in a module's directory (one made by 'rkmod new' has 'obj-m := NAME.o' in Kbuild)");
    }

    private static Optional<String> projectName(Path dir) {
        try {
            return ProjectToml.read(dir).map(ProjectToml::name).filter(n -> SAFE.matcher(n).matches());
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }

    private static String rkmodVersion() {
        try (InputStream in = DkmsWorkflow.class.getResourceAsStream("/dev/rkmod/version.properties")) {
            java.util.Properties p = new java.util.Properties();
            if (in != null) {
                p.load(in);
            }
            return p.getProperty("version", "dev");
        } catch (IOException e) {
            return "dev";
        }
    }

    /** What DKMS will do with the module in {@code dir} for the kernel in {@code kdir}; builds nothing. */
    public Report check(Path dir, Path kdir) {
        List<Finding> out = new ArrayList<>();
        Path conf = dir.resolve(CONF);
        if (!Files.isRegularFile(conf)) {
            out.add(Finding.error("dkms.no-conf", dir + " has no dkms.conf", "DKMS cannot add a module without it",
                    "Run: rkmod dkms init " + dir));
        } else {
            String text = read(conf);
            if (!text.contains(MAKEFILE) && !text.contains(SCRIPT)) {
                out.add(Finding.warning("dkms.plain-make", "dkms.conf does not call " + SCRIPT,
                        "DKMS then runs the kernel's make with whatever rustc is on PATH, which fails with E0514 after a"
                                + " kernel upgrade built with another rustc", "Run: rkmod dkms init --force " + dir));
            } else if (!Files.isRegularFile(dir.resolve(SCRIPT)) || !Files.isRegularFile(dir.resolve(MAKEFILE))) {
                out.add(Finding.error("dkms.no-build-step", "dkms.conf calls " + SCRIPT + ", but " + dir + " lacks "
                                + SCRIPT + " or " + MAKEFILE, "DKMS's make would fail at once",
                        "Run: rkmod dkms init --force " + dir));
            }
        }
        try {
            KernelTree tree = KernelTree.open(kdir);
            boolean clang = tree.llvm();
            out.add(Finding.info(clang ? "dkms.llvm" : "dkms.gcc", "Linux " + tree.release() + " was built with "
                            + (clang ? "clang" : "gcc"),
                    clang ? "DKMS appends CC=clang LD=ld.lld (dkms 3.0) or LLVM=1 (dkms 3.1 and later) by itself"
                            : "DKMS appends no LLVM=1 and the module's C parts are built with gcc",
                    SCRIPT + " passes DKMS's arguments on unchanged and adds only RUSTC="));
            if (!tree.crates().isEmpty()) {
                incompleteRustSet(tree, kdir).ifPresent(out::add);
            }
        } catch (RkmodException e) {
            // the decision below says what is wrong with the tree
        }
        DkmsDecision d = DkmsDecision.decide(kdir, ctx.host().env(), this::version);
        out.add(finding(d, kdir));
        return new Report(dir, kdir, d, out);
    }

    /**
     * Headers that carry the crates but not every file a module build or a Rust probe reads: the kernel crate's macro
     * includes (warn_on!, static branches) and the kernel's Rust probe, which DKMS packages of mixed C and Rust run.
     */
    static Optional<Finding> incompleteRustSet(KernelTree tree, Path kdir) {
        List<String> missing = new ArrayList<>();
        for (String f : tree.objtreeIncludes()) {
            if (!Files.isRegularFile(kdir.resolve(f))) {
                missing.add(f);
            }
        }
        if (!Files.isRegularFile(kdir.resolve(KernelGeneration.RUST_PROBE))) {
            missing.add(KernelGeneration.RUST_PROBE);
        }
        if (missing.isEmpty()) {
            return Optional.empty();
        }
        return Optional.of(Finding.warning("dkms.incomplete-rust-set", "The headers of Linux " + tree.release() + " in " + kdir
                        + " lack " + String.join(", ", missing),
                "A module that uses kernel::warn_on! or static branches fails to build without the files the kernel crate's"
                        + " macros include, and a DKMS package that runs " + KernelGeneration.RUST_PROBE
                        + " to decide whether to build its Rust parts builds without them",
                "Make the headers again with this rkmod: 'rkmod headers complete --kdir " + kdir + " --force' (or install the"
                        + " completion package it writes with --format deb)"));
    }

    /** One finding for the build step's decision; the same explanation it prints into DKMS's make.log. */
    static Finding finding(DkmsDecision d, Path kdir) {
        String id = "dkms." + d.outcome().id();
        String number = d.wanted() == null ? "" : d.wanted().replaceFirst("^rustc ([0-9][0-9a-z.-]*).*$", "$1");
        return switch (d.outcome()) {
            case OK -> Finding.info(id, SCRIPT + " will build with " + d.rustc(), "It prints '" + d.wanted()
                    + "', read from " + d.source(), null);
            case NO_KDIR -> Finding.error(id, kdir + " is not a kernel build tree (no .config or include/config/auto.conf)",
                    "DKMS builds against the kernel's headers", "Install the kernel's headers package");
            case RUST_OFF -> Finding.error(id, "Linux " + d.release() + " was built without Rust support (CONFIG_RUST is not set)",
                    "It cannot load Rust modules", "Add BUILD_EXCLUSIVE_CONFIG=\"CONFIG_RUST\" to dkms.conf to have DKMS skip such kernels");
            case MISSING_RUST_METADATA -> Finding.error(id, "The headers of Linux " + d.release() + " in " + kdir
                            + " lack the Rust metadata (missing: " + String.join(" ", d.missing()) + ")",
                    "Its headers ship no rust/*.rmeta, proc macros or target spec, so rustc would stop with E0463 can't find"
                            + " crate for `core`; they must be regenerated from the kernel's source by its exact compilers",
                    "Run: rkmod headers complete --kdir " + kdir + " --out linux-" + d.release() + "-rust, and lay the result"
                            + " into " + kdir + " (or install the completion package linux-rust-meta-" + d.release() + ")");
            case UNKNOWN_RUSTC -> Finding.error(id, "Cannot tell which rustc built Linux " + d.release(),
                    kdir + " has no rust-toolchain file, no rkmod manifest, no CONFIG_RUSTC_VERSION_TEXT and no readable"
                            + " rust/libcore.rmeta", "Use the complete build tree or a package made by 'rkmod package'");
            case NO_RUSTC -> Finding.error(id, "No rustc on this machine prints '" + d.wanted() + "' (read from "
                            + d.source() + ")",
                    "A Rust module must be compiled by exactly the rustc that built the kernel; looked at: "
                            + (d.looked().isEmpty() ? "no rustc found" : String.join("; ", d.looked())),
                    "Install rustc " + number + ", the very build that prints '" + d.wanted() + "'");
        };
    }

    private String version(Path rustc) {
        ProcessResult r = ctx.runner().run(ProcessSpec.of(rustc.toString(), "--version").workDir(Path.of("/"))
                .env("RUSTUP_TOOLCHAIN", null).capture().quiet().noLog().allowFailure().timeout(PROBE));
        return r.ok() && !r.output().isEmpty() ? r.output().get(0) : null;
    }

    private static String read(Path p) {
        try {
            return Files.readString(p, StandardCharsets.ISO_8859_1);
        } catch (IOException e) {
            return "";
        }
    }
}
