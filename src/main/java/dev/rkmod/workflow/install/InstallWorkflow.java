package dev.rkmod.workflow.install;

import dev.rkmod.infra.fs.FileOps;
import dev.rkmod.model.ExitCode;
import dev.rkmod.model.RkmodException;
import dev.rkmod.workflow.Context;
import dev.rkmod.workflow.info.InfoWorkflow;
import dev.rkmod.workflow.sign.SignWorkflow;
import dev.rkmod.workflow.tree.KernelTree;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;

/**
 * `rkmod install` and `rkmod uninstall`: modules into {@code <root>/lib/modules/<release>/updates/} (or extra/)
 * and out again, with depmod run on the root. Every check happens before the first write; a failed depmod
 * puts the root back as it was.
 */
public final class InstallWorkflow {
    /** The directory under lib/modules/RELEASE that takes the modules; both win over the kernel's own. */
    public enum Dir { UPDATES, EXTRA;

        public String dirName() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** The key and certificate to sign with. */
    public record Signing(Path key, Path cert) { }

    /** What to install. */
    public record Request(List<Path> modules, Optional<Path> kdir, Path root, Optional<Signing> sign, Dir dir) { }

    /** One installed module: its modprobe name, the kernel release, where it went, and the signature hash if signed. */
    public record Installed(Path module, String name, String release, Path file, Optional<String> signedWith) { }

    /** The result of an install: the modules, and whether they were checked against a kernel tree. */
    public record Result(Path root, List<Installed> installed, Optional<Path> checkedAgainst) { }

    /** One uninstalled module and the files removed. */
    public record Removed(String name, String release, List<Path> files) { }

    /** What depmod writes into lib/modules/RELEASE. */
    private static final Set<String> DEPMOD_OUTPUTS = Set.of("modules.dep", "modules.dep.bin", "modules.alias",
            "modules.alias.bin", "modules.softdep", "modules.symbols", "modules.symbols.bin", "modules.builtin.bin",
            "modules.builtin.alias.bin", "modules.devname", "modules.weakdep");
    private static final List<String> SUFFIXES = List.of(".ko", ".ko.xz", ".ko.zst", ".ko.gz");

    private final Context ctx;

    public InstallWorkflow(Context ctx) {
        this.ctx = ctx;
    }

    /** A checked module ready to be written. */
    private record Planned(Path module, String name, String release, Path target, byte[] content,
                           Optional<String> signedWith) { }

    public Result install(Request req) {
        Path root = req.root().toAbsolutePath().normalize();
        Depmod depmod = Depmod.find(ctx);
        List<InfoWorkflow.Report> reports = new ArrayList<>();
        for (Path m : req.modules()) {
            reports.add(readModule(m));
        }
        Optional<Path> kdir = req.kdir().or(() -> installedBuildTree(root, reports));
        if (kdir.isPresent()) {
            check(req.modules(), kdir.get(), reports);
        }
        Path staging = null;
        try {
            staging = Files.createTempDirectory("rkmod-install-");
            List<Planned> plan = plan(req, kdir, root, reports, staging);
            checkWritable(root, plan.stream().map(p -> p.target().getParent()).toList());
            write(root, plan, depmod);
            return new Result(root, plan.stream().map(p -> new Installed(p.module(), p.name(), p.release(), p.target(),
                    p.signedWith())).toList(), kdir);
        } catch (IOException e) {
            throw new RkmodException(ExitCode.ENVIRONMENT, "Cannot prepare the modules for installation", e.toString(),
                    "Check the free space and permissions of the temporary directory (java.io.tmpdir)");
        } finally {
            if (staging != null) {
                FileOps.deleteTree(staging);
            }
        }
    }

    /** The module's modinfo, or a clear refusal of a file that is no kernel module. */
    private static InfoWorkflow.Report readModule(Path m) {
        String file = m.getFileName() == null ? m.toString() : m.getFileName().toString();
        if (!Files.isRegularFile(m)) {
            throw new RkmodException(ExitCode.USAGE, "Cannot install " + m + ": no such file",
                    "rkmod install takes the .ko files of built modules", "Check the path; 'rkmod build' prints where the .ko went");
        }
        if (SUFFIXES.stream().noneMatch(file::endsWith)) {
            throw notAModule(m, "Its name does not end in .ko (or .ko.xz, .ko.zst, .ko.gz), which depmod and modprobe require");
        }
        InfoWorkflow.Report r;
        try {
            r = new InfoWorkflow().info(List.of(m), Optional.empty()).get(0);
        } catch (RkmodException e) {
            throw notAModule(m, e.paragraph());
        }
        if (r.field("vermagic").isEmpty() || r.field("name").isEmpty()) {
            throw notAModule(m, "It has no .modinfo section with a name and a vermagic, which every module built by Kbuild has");
        }
        return r;
    }

    private static RkmodException notAModule(Path m, String why) {
        return new RkmodException(ExitCode.USAGE, "Cannot install " + m + ": it is not a kernel module", why,
                "Pass the .ko that 'make M=…' or 'rkmod build' wrote; nothing was installed");
    }

    /**
     * Without --kdir: the root's own {@code lib/modules/RELEASE/build} (the installed headers, as a distro's
     * package links them) when every module names one release and that tree has a config, a release and
     * Module.symvers; else no tree, and the result says the modules were not checked.
     */
    private static Optional<Path> installedBuildTree(Path root, List<InfoWorkflow.Report> reports) {
        Set<String> releases = new TreeSet<>(reports.stream().map(InstallWorkflow::release).toList());
        if (releases.size() != 1) {
            return Optional.empty();
        }
        Path build = root.resolve("lib/modules").resolve(releases.iterator().next()).resolve("build");
        if (!root.equals(Path.of("/"))) {
            // a link in another root points into that root, not into ours
            try {
                if (Files.isSymbolicLink(build) && Files.readSymbolicLink(build).isAbsolute()) {
                    build = root.resolve(Path.of("/").relativize(Files.readSymbolicLink(build)));
                }
            } catch (IOException e) {
                return Optional.empty();
            }
        }
        try {
            KernelTree.configured(build);
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
        return Files.isRegularFile(build.resolve("Module.symvers")) ? Optional.of(build) : Optional.empty();
    }

    /** rkmod info's checks against the tree: the vermagic, and every undefined symbol against Module.symvers. */
    private static void check(List<Path> modules, Path kdir, List<InfoWorkflow.Report> reports) {
        String treeRelease;
        try {
            treeRelease = KernelTree.configured(kdir).release();
        } catch (IOException e) {
            throw new RkmodException(ExitCode.USAGE, kdir + " is not a built kernel tree or package",
                    "Cannot read " + e.getMessage(), "Pass a tree that has .config, include/config/kernel.release and Module.symvers");
        }
        for (InfoWorkflow.Report r : reports) {
            String release = release(r);
            if (!release.equals(treeRelease)) {
                throw new RkmodException(ExitCode.CHECK_FAILED, "Refusing to install " + r.file() + ": it was built for kernel "
                        + release + ", not for " + treeRelease + " (" + kdir + ")",
                        "Its vermagic is '" + r.field("vermagic").get(0).strip() + "'; that kernel would refuse it with"
                                + " 'Invalid module format'. Nothing was installed",
                        "Build the module against " + kdir + " (rkmod build --kdir " + kdir + "), or pass the --kdir of "
                                + release);
            }
        }
        List<InfoWorkflow.Report> checked = new InfoWorkflow().info(modules, Optional.of(kdir));
        for (InfoWorkflow.Report r : checked) {
            if (!r.problems().isEmpty()) {
                throw new RkmodException(ExitCode.CHECK_FAILED, "Refusing to install " + r.file() + ": it does not fit the"
                        + " kernel in " + kdir, String.join("; ", r.problems()) + ". Nothing was installed",
                        "Build the module against this tree and call only what its Module.symvers exports; a symbol"
                                + " another module exports is found when that module is installed in the same command");
            }
        }
    }

    private static String release(InfoWorkflow.Report r) {
        String vermagic = r.field("vermagic").get(0).strip();
        int sp = vermagic.indexOf(' ');
        return sp < 0 ? vermagic : vermagic.substring(0, sp);
    }

    private List<Planned> plan(Request req, Optional<Path> kdir, Path root, List<InfoWorkflow.Report> reports, Path staging)
            throws IOException {
        List<Planned> plan = new ArrayList<>();
        Set<Path> targets = new LinkedHashSet<>();
        for (int i = 0; i < reports.size(); i++) {
            InfoWorkflow.Report r = reports.get(i);
            Path m = req.modules().get(i);
            String release = release(r);
            if (release.isEmpty() || release.contains("/") || release.equals(".") || release.equals("..")) {
                throw notAModule(m, "Its vermagic names no kernel release");
            }
            Path target = root.resolve("lib/modules").resolve(release).resolve(req.dir().dirName()).resolve(m.getFileName().toString());
            if (!targets.add(target)) {
                throw new RkmodException(ExitCode.USAGE, "Two modules would be installed as " + target,
                        "Both are named " + m.getFileName(), "Install one of them");
            }
            Path copy = staging.resolve(i + "-" + m.getFileName());
            Files.copy(m, copy);
            Optional<String> hash = Optional.empty();
            if (req.sign().isPresent()) {
                Signing s = req.sign().get();
                // re-signing with the given key replaces a signature the module may already carry
                SignWorkflow.Signed signed = new SignWorkflow().sign(List.of(copy), s.key(), s.cert(), Optional.empty(),
                        kdir, Optional.empty(), true, false).get(0);
                hash = Optional.of(signed.hash());
            }
            plan.add(new Planned(m, r.field("name").get(0), release, target, Files.readAllBytes(copy), hash));
        }
        return plan;
    }

    /** Refuses a root that cannot take the files, before anything is written: probes the nearest existing directory. */
    private static void checkWritable(Path root, List<Path> dirs) {
        if (!Files.isDirectory(root)) {
            throw new RkmodException(ExitCode.USAGE, "The root " + root + " is not a directory",
                    "--root names the directory that holds lib/modules", "Create it, or pass another --root");
        }
        for (Path dir : new LinkedHashSet<>(dirs)) {
            Path existing = dir;
            while (!Files.isDirectory(existing, LinkOption.NOFOLLOW_LINKS) && existing.getParent() != null) {
                existing = existing.getParent();
            }
            try {
                FileOps.sweepStaleTemps(existing); // what a killed 'install' left
                Path probe = Files.createTempFile(existing, FileOps.ownedTempPrefix("rkmod-probe"), ".tmp");
                Files.delete(probe);
            } catch (IOException | SecurityException e) {
                throw new RkmodException(ExitCode.ENVIRONMENT, "Cannot write to " + existing + " in the root " + root,
                        "Creating a file there failed (" + (e instanceof IOException io ? FileOps.reason(io) : e.getMessage()) + "): the file system may be mounted read-only, the directory"
                                + " immutable (chattr +i) or not yours. Nothing was installed or removed",
                        "Run as a user who may write there (sudo), remount it read-write, or pass another --root");
            }
        }
    }

    private void write(Path root, List<Planned> plan, Depmod depmod) {
        Rollback rb = new Rollback();
        boolean done = false;
        try {
            for (Planned p : plan) {
                rb.createDirectories(p.target().getParent());
                rb.remember(p.target());
                FileOps.writeAtomically(p.target(), p.content());
            }
            Set<String> releases = new TreeSet<>(plan.stream().map(Planned::release).toList());
            for (String release : releases) {
                rb.rememberDepmodOutputs(root, release);
                depmod.run(root, release, "The root was put back as it was");
            }
            done = true;
        } catch (IOException e) {
            throw new RkmodException(ExitCode.ENVIRONMENT, "Installing into " + root + " failed", e.toString()
                    + ". The root was put back as it was", "Check the permissions and the free space of the root");
        } finally {
            if (!done) {
                rb.undo();
            }
        }
    }

    /** Undo of everything one install or uninstall changed, newest first. */
    private static final class Rollback {
        private final List<Path> createdDirs = new ArrayList<>();
        private final List<Path> removedDirs = new ArrayList<>();
        private final Map<Path, Optional<byte[]>> files = new LinkedHashMap<>();

        void createDirectories(Path dir) throws IOException {
            List<Path> missing = new ArrayList<>();
            for (Path d = dir; d != null && !Files.exists(d, LinkOption.NOFOLLOW_LINKS); d = d.getParent()) {
                missing.add(0, d);
            }
            for (Path d : missing) {
                Files.createDirectory(d);
                createdDirs.add(d);
            }
        }

        /** Remembers a file's content (or its absence) before it is changed. */
        void remember(Path file) throws IOException {
            if (!files.containsKey(file)) {
                files.put(file, Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS)
                        ? Optional.of(Files.readAllBytes(file)) : Optional.empty());
            }
        }

        /** Removes an empty directory, to be made again on undo. */
        void removeIfEmpty(Path dir) throws IOException {
            if (Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
                try (Stream<Path> s = Files.list(dir)) {
                    if (s.findAny().isPresent()) {
                        return;
                    }
                }
                Files.delete(dir);
                removedDirs.add(dir);
            }
        }

        /** Remembers the top-level files of lib/modules/RELEASE, which depmod rewrites. */
        void rememberDepmodOutputs(Path root, String release) throws IOException {
            Path dir = root.resolve("lib/modules").resolve(release);
            try (Stream<Path> s = Files.list(dir)) {
                for (Path p : s.filter(p -> p.getFileName().toString().startsWith("modules.")).toList()) {
                    remember(p);
                }
            }
            for (String name : DEPMOD_OUTPUTS) {
                remember(dir.resolve(name));
            }
        }

        void undo() {
            for (int i = removedDirs.size() - 1; i >= 0; i--) {
                try {
                    Files.createDirectories(removedDirs.get(i));
                } catch (IOException ignored) {
                    // best effort, as below
                }
            }
            List<Map.Entry<Path, Optional<byte[]>>> entries = new ArrayList<>(files.entrySet());
            for (int i = entries.size() - 1; i >= 0; i--) {
                Path f = entries.get(i).getKey();
                Optional<byte[]> before = entries.get(i).getValue();
                try {
                    if (before.isPresent()) {
                        FileOps.writeAtomically(f, before.get());
                    } else {
                        Files.deleteIfExists(f);
                    }
                } catch (IOException | RuntimeException ignored) {
                    // best effort: the error being reported is the one that matters
                }
            }
            for (int i = createdDirs.size() - 1; i >= 0; i--) {
                try {
                    Files.deleteIfExists(createdDirs.get(i));
                } catch (IOException ignored) {
                    // not empty: something else wrote there meanwhile
                }
            }
        }
    }

    /**
     * Removes installed modules by name (dashes and underscores alike, as modprobe matches them) from updates/ and
     * extra/ of a release, then runs depmod; a failed depmod puts the files back.
     */
    public List<Removed> uninstall(List<String> names, Optional<String> release, Path rootArg) {
        Path root = rootArg.toAbsolutePath().normalize();
        Depmod depmod = Depmod.find(ctx);
        Path modules = root.resolve("lib/modules");
        List<Removed> plan = new ArrayList<>();
        for (String name : names) {
            Map<String, List<Path>> found = find(modules, release, name);
            if (found.isEmpty()) {
                throw new RkmodException(ExitCode.USAGE, "No module '" + name + "' is installed in " + root
                        + release.map(r -> " for kernel " + r).orElse(""),
                        "uninstall looks in lib/modules/RELEASE/updates and extra, where rkmod install puts modules;"
                                + " the kernel's own modules are left to its package. Nothing was removed",
                        "Check the name (modprobe's, as 'rkmod install' printed it), --root and --release");
            }
            if (found.size() > 1) {
                throw new RkmodException(ExitCode.USAGE, "Module '" + name + "' is installed for several kernels: "
                        + String.join(", ", found.keySet()), "Nothing was removed", "Pass --release with one of them");
            }
            var e = found.entrySet().iterator().next();
            plan.add(new Removed(name, e.getKey(), e.getValue()));
        }
        checkWritable(root, plan.stream().flatMap(r -> r.files().stream()).map(Path::getParent).toList());
        Rollback rb = new Rollback();
        boolean done = false;
        try {
            for (Removed r : plan) {
                for (Path f : r.files()) {
                    rb.remember(f);
                    Files.delete(f);
                }
            }
            for (String rel : new TreeSet<>(plan.stream().map(Removed::release).toList())) {
                Path relDir = modules.resolve(rel);
                for (Dir d : Dir.values()) {
                    rb.removeIfEmpty(relDir.resolve(d.dirName()));
                }
                rb.rememberDepmodOutputs(root, rel);
                if (onlyDepmodIndex(relDir)) {
                    // install made this release directory for the modules just removed: leave no index of nothing
                    try (Stream<Path> s = Files.list(relDir)) {
                        for (Path f : s.toList()) {
                            Files.delete(f);
                        }
                    }
                    rb.removeIfEmpty(relDir);
                } else {
                    depmod.run(root, rel, "The root was put back as it was");
                }
            }
            done = true;
        } catch (IOException e) {
            throw new RkmodException(ExitCode.ENVIRONMENT, "Removing modules from " + root + " failed", e.toString()
                    + ". The root was put back as it was", "Check the permissions of the root");
        } finally {
            if (!done) {
                rb.undo();
            }
        }
        return plan;
    }

    /** Whether a release directory holds nothing but the index depmod wrote (no module, no build link). */
    private static boolean onlyDepmodIndex(Path relDir) throws IOException {
        try (Stream<Path> s = Files.list(relDir)) {
            return s.allMatch(p -> Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS) && DEPMOD_OUTPUTS.contains(p.getFileName().toString()));
        }
    }

    /** The files of module {@code name} by release, under updates/ and extra/. */
    private static Map<String, List<Path>> find(Path modules, Optional<String> release, String name) {
        Map<String, List<Path>> out = new LinkedHashMap<>();
        if (!Files.isDirectory(modules)) {
            return out;
        }
        String wanted = name.replace('-', '_');
        try (Stream<Path> rels = Files.list(modules)) {
            for (Path relDir : rels.sorted().toList()) {
                String rel = relDir.getFileName().toString();
                if (release.isPresent() && !release.get().equals(rel)) {
                    continue;
                }
                for (Dir d : Dir.values()) {
                    Path sub = relDir.resolve(d.dirName());
                    if (!Files.isDirectory(sub, LinkOption.NOFOLLOW_LINKS)) {
                        continue;
                    }
                    try (Stream<Path> s = Files.walk(sub)) {
                        for (Path f : s.filter(p -> Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)).sorted().toList()) {
                            String fn = f.getFileName().toString();
                            for (String suffix : SUFFIXES) {
                                if (fn.endsWith(suffix)
                                        && fn.substring(0, fn.length() - suffix.length()).replace('-', '_').equals(wanted)) {
                                    out.computeIfAbsent(rel, k -> new ArrayList<>()).add(f);
                                }
                            }
                        }
                    }
                }
            }
        } catch (IOException e) {
            throw new RkmodException(ExitCode.ENVIRONMENT, "Cannot read " + modules, e.toString(), "Check the permissions of the root");
        }
        return out;
    }
}
