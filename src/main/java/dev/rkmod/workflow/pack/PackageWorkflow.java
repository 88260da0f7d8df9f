package dev.rkmod.workflow.pack;

import dev.rkmod.workflow.tree.KernelTree;
import dev.rkmod.workflow.tree.RecordedFacts;
import dev.rkmod.format.HeadersManifest;
import dev.rkmod.format.PackageManifest;
import dev.rkmod.format.RmetaHeader;
import dev.rkmod.format.TarArchive;
import dev.rkmod.format.TargetSpec;
import dev.rkmod.infra.event.Event;
import dev.rkmod.infra.event.Stage;
import dev.rkmod.infra.fs.FileOps;
import dev.rkmod.infra.lifecycle.Cleanup;
import dev.rkmod.infra.process.ProcessSpec;
import dev.rkmod.model.ExitCode;
import dev.rkmod.model.RkmodException;
import dev.rkmod.workflow.Context;
import dev.rkmod.workflow.toolchain.RustcFinder;
import dev.rkmod.workflow.toolchain.Toolchain;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * `rkmod package`: a relocatable, Rust-ready external-module tree. Files are staged next to the
 * destination, the package is verified at another path by building a C and a Rust probe module with
 * the recorded rustc, and only then published with an atomic rename.
 */
public final class PackageWorkflow {
    private static final int ZSTD_LEVEL = 12;

    private final Context ctx;

    public PackageWorkflow(Context ctx) {
        this.ctx = ctx;
    }

    /** What was made. */
    public record Result(Path out, PackageRequest.Format format, PackageManifest manifest, long unpackedBytes,
                         long outBytes, Duration packTime, Verification verification, DistroPackage.Made made) {
        public Result(Path out, PackageRequest.Format format, PackageManifest manifest, long unpackedBytes,
                      long outBytes, Duration packTime, Verification verification) {
            this(out, format, manifest, unpackedBytes, outBytes, packTime, verification, null);
        }
    }

    /** What verification did; null fields when it was skipped. */
    public record Verification(Path relocatedTo, String rustcCandidate, List<Path> modules, Duration took) { }

    public Result pack(PackageRequest req) {
        long start = System.nanoTime();
        Path out = req.out().toAbsolutePath().normalize();
        recoverInterrupted(out);
        if (req.format().isDistroPackage()) {
            DistroPackage.revision(req.revision());
            DistroPackage.maintainer(req.maintainer());
            if (Files.exists(out, LinkOption.NOFOLLOW_LINKS) && !Files.isDirectory(out)) {
                throw new RkmodException(ExitCode.USAGE, "--out " + out + " is not a directory",
                        "A " + req.format() + " package gets its conventional file name inside the --out directory",
                        "Pass a directory (it is created if missing)");
            }
        } else if (Files.exists(out, LinkOption.NOFOLLOW_LINKS) && !req.force()) {
            throw new RkmodException(ExitCode.USAGE, out + " already exists", "rkmod does not overwrite an existing package",
                    "Pass --force to replace it, or choose another --out");
        }
        Path kdirReal = real(req.kdir());
        Path outReal = real(out);
        if (outReal.startsWith(kdirReal) || kdirReal.startsWith(outReal)) {
            throw new RkmodException(ExitCode.USAGE, "--out " + out + " and --kdir " + req.kdir() + " overlap",
                    "Writing (or replacing with --force) one would change the other", "Write the package elsewhere");
        }
        KernelTree tree = KernelTree.open(req.kdir());
        tree.setAside().ifPresent(ctx.events()::warn);
        String rustc = tree.rustcVersion();
        // a manifest vouches for the tree it was written for; the package's rust-toolchain is read from the rmeta
        // headers themselves, so a rust/ file swapped in from another build is caught here even under a manifest
        dev.rkmod.workflow.tree.RmetaVersions versions = tree.rmetaVersions();
        if (versions.mixed()) {
            throw new RkmodException(ExitCode.ENVIRONMENT, "The rmeta files in " + tree.dir().resolve("rust")
                    + " were made by different compilers: " + versions.describe(c -> "lib" + c + ".rmeta"),
                    "Crates from two builds cannot be mixed: every module built against the package would fail with"
                            + " E0460/E0514; nothing was written", "Package one complete build tree (rebuild it)");
        }
        String arch = tree.config().arch().orElse("x86");
        List<String> files;
        try (Stage stage = Stage.start(ctx.events(), "select", "files of " + tree.dir())) {
            files = PackageFileSet.select(tree, arch);
            ctx.events().info(files.size() + " files for Linux " + tree.release() + " (" + tree.generation().id()
                    + " generation, " + rustc + ")");
            stage.ok();
        }

        if (req.format().isDistroPackage()) {
            return packDistro(req, tree, files, rustc, arch, out, start);
        }
        Path parent = out.getParent();
        try {
            Files.createDirectories(parent);
        } catch (IOException e) {
            throw new RkmodException(ExitCode.ENVIRONMENT, "Cannot create " + parent, e.getMessage(), null, e);
        }
        Path staging = ctx.cache().scratch("package");
        Path tmpOut = parent.resolve("." + out.getFileName() + TMP + ProcessHandle.current().pid());
        try (Cleanup.Handle ignored = Cleanup.register(Cleanup.Phase.FILES, () -> {
            FileOps.deleteQuietly(staging);
            FileOps.deleteQuietly(tmpOut);
        })) {
            Path stageTree = req.format() == PackageRequest.Format.DIR ? tmpOut : staging.resolve("tree");
            PackageManifest manifest = stage(tree, files, stageTree, rustc, arch, false);
            long unpacked = manifest.files().stream().mapToLong(PackageManifest.Entry::size).sum();
            if (req.format() != PackageRequest.Format.DIR) {
                writeArchive(stageTree, tmpOut, req);
            }
            Duration packTime = Duration.ofNanos(System.nanoTime() - start);
            Verification v = req.verify() ? verify(tmpOut, req.format(), manifest, staging) : null;
            publish(tmpOut, out, req.force());
            long outBytes = req.format() == PackageRequest.Format.DIR ? unpacked : size(out);
            return new Result(out, req.format(), manifest, unpacked, outBytes, packTime, v);
        } catch (IOException e) {
            throw new RkmodException(ExitCode.ENVIRONMENT, "Packaging " + tree.dir() + " failed",
                    FileOps.reason(e), "Check free space and permissions", e);
        } finally {
            FileOps.deleteQuietly(staging);
            FileOps.deleteQuietly(tmpOut);
        }
    }

    /** A .deb or Arch package: the staged tree, verified, then written into the --out directory. */
    private Result packDistro(PackageRequest req, KernelTree tree, List<String> files, String rustc, String arch, Path outDir,
                              long start) {
        // the names first, so that a release with no Debian or Arch name is refused before any work
        String release = tree.release();
        String rustcDeb = null;
        if (req.format() == PackageRequest.Format.DEB) {
            DistroPackage.debName(release);
            DistroPackage.debVersion(release, req.revision());
            DistroPackage.arch(arch, tree.config());
            String root = tree.recorded().filter(r -> !r.file().equals(HeadersManifest.FILE))
                    .map(RecordedFacts::toolchainRoot).orElse(null);
            rustcDeb = DistroPackage.rustcDebVersion(Path.of(root == null ? "/" : root), rustc).orElse(null);
        } else {
            DistroPackage.archVersion(release, req.revision());
            DistroPackage.arch(arch, tree.config());
        }
        Path staging = ctx.cache().scratch("package");
        try (Cleanup.Handle ignored = Cleanup.register(Cleanup.Phase.FILES, () -> FileOps.deleteQuietly(staging))) {
            Files.createDirectories(outDir);
            Path stageTree = staging.resolve("tree");
            PackageManifest manifest = stage(tree, files, stageTree, rustc, arch, true);
            long unpacked = manifest.files().stream().mapToLong(PackageManifest.Entry::size).sum();
            Verification v = req.verify() ? verify(stageTree, PackageRequest.Format.DIR, manifest, staging) : null;
            DistroPackage.Made made;
            try (Stage stage = Stage.start(ctx.events(), req.format().toString(), "package of Linux " + release)) {
                Path target = outDir.resolve(req.format() == PackageRequest.Format.DEB
                        ? DistroPackage.debName(release) + "_" + DistroPackage.debVersion(release, req.revision()) + "_"
                        + DistroPackage.arch(arch, tree.config()).debian() + ".deb"
                        : "linux-rust-headers-" + DistroPackage.archVersion(release, req.revision()) + "-"
                        + DistroPackage.arch(arch, tree.config()).arch() + ".pkg.tar.zst");
                if (Files.exists(target, LinkOption.NOFOLLOW_LINKS) && !req.force()) {
                    throw new RkmodException(ExitCode.USAGE, target + " already exists",
                            "rkmod does not overwrite an existing package", "Pass --force to replace it, or choose another --out");
                }
                made = req.format() == PackageRequest.Format.DEB
                        ? DistroPackage.writeDeb(stageTree, manifest, tree.config(), outDir, req, rustcDeb)
                        : DistroPackage.writeArch(stageTree, manifest, tree.config(), outDir, req);
                stage.ok();
            }
            Duration packTime = Duration.ofNanos(System.nanoTime() - start);
            return new Result(made.file(), req.format(), manifest, unpacked, made.bytes(), packTime, v, made);
        } catch (IOException e) {
            throw new RkmodException(ExitCode.ENVIRONMENT, "Packaging " + tree.dir() + " failed",
                    FileOps.reason(e), "Check free space and permissions", e);
        } finally {
            FileOps.deleteQuietly(staging);
        }
    }

    /**
     * Copies the files, strips the proc macros (--strip-debug, or for a distro package --strip-unneeded, with the
     * kernel's host programs too, as Debian policy wants binaries stripped), writes rust-toolchain and the manifest.
     */
    private PackageManifest stage(KernelTree tree, List<String> files, Path dest, String rustc, String arch,
                                  boolean stripAll) throws IOException {
        List<PackageManifest.Entry> entries = new ArrayList<>();
        try (Stage stage = Stage.start(ctx.events(), "copy", files.size() + " files")) {
            Files.createDirectories(dest);
            int n = 0;
            for (String rel : files) {
                Path from = tree.dir().resolve(rel);
                Path to = dest.resolve(rel);
                Files.createDirectories(to.getParent());
                if (Files.isSymbolicLink(from)) {
                    Files.createSymbolicLink(to, Files.readSymbolicLink(from));
                    continue;
                }
                Files.copy(from, to, StandardCopyOption.COPY_ATTRIBUTES);
                if (++n % 1000 == 0) {
                    ctx.events().emit(new Event.Progress("copy", n, files.size(), "files"));
                }
            }
            stage.ok();
        }
        stripProcMacros(dest, stripAll ? "--strip-unneeded" : "--strip-debug");
        if (stripAll) {
            stripHostPrograms(dest, files);
        }
        String rustToolchain = dev.rkmod.format.RustToolchainFile.format(rustc);
        Files.writeString(dest.resolve("rust-toolchain"), rustToolchain, StandardCharsets.UTF_8);
        for (String rel : files) {
            Path p = dest.resolve(rel);
            if (!Files.isSymbolicLink(p)) {
                entries.add(new PackageManifest.Entry(rel, Files.size(p), FileOps.sha256(p)));
            }
        }
        entries.add(new PackageManifest.Entry("rust-toolchain", Files.size(dest.resolve("rust-toolchain")),
                FileOps.sha256(dest.resolve("rust-toolchain"))));
        entries.sort((a, b) -> a.path().compareTo(b.path()));
        Optional<TargetSpec> spec = tree.targetSpec();
        // the root a built kernel's (or a package's) toolchain lived in; a completed headers tree keeps its own in
        // rkmod-headers.json, which the package carries
        String root = tree.recorded().filter(r -> !r.file().equals(HeadersManifest.FILE))
                .map(RecordedFacts::toolchainRoot).orElse(null);
        PackageManifest m = new PackageManifest(1, tree.release(), arch, tree.llvm(), rustc,
                tree.config().string("BINDGEN_VERSION_TEXT").orElse(null), tree.generation().id(),
                tree.generation().targetSpec(), spec.map(TargetSpec::rustcTriple).orElse(null), root, entries,
                tree.objtreeIncludes(), tree.configGates());
        Files.writeString(dest.resolve(PackageManifest.FILE), m.toJson(), StandardCharsets.UTF_8);
        return m;
    }

    /** strip --strip-unneeded on the kernel's host programs (ELF files outside rust/: fixdep, modpost, objtool, …). */
    private void stripHostPrograms(Path dest, List<String> files) throws IOException {
        List<String> elves = new ArrayList<>();
        for (String rel : files) {
            Path p = dest.resolve(rel);
            if (rel.startsWith("rust/") || Files.isSymbolicLink(p) || !Files.isRegularFile(p)) {
                continue;
            }
            byte[] head;
            try (var in = Files.newInputStream(p)) {
                head = in.readNBytes(4);
            }
            if (head.length == 4 && head[0] == 0x7f && head[1] == 'E' && head[2] == 'L' && head[3] == 'F') {
                elves.add(p.toString());
            }
        }
        if (elves.isEmpty()) {
            return;
        }
        List<String> argv = new ArrayList<>(List.of("strip", "--strip-unneeded"));
        argv.addAll(elves);
        ctx.runner().run(ProcessSpec.of(argv.toArray(String[]::new)).label("strip").timeout(Duration.ofMinutes(2))
                .noLog().quiet().failureCode(ExitCode.ENVIRONMENT));
        ctx.events().info("stripped " + elves.size() + " host programs");
    }

    /** strip on the proc-macro libraries; the .rustc metadata section and the dynamic symbols stay. */
    private void stripProcMacros(Path dest, String how) throws IOException {
        List<Path> sos = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dest.resolve("rust"), "*.so")) {
            ds.forEach(sos::add);
        } catch (java.nio.file.NoSuchFileException e) {
            return;
        }
        for (Path so : sos) {
            long before = Files.size(so);
            ctx.runner().run(ProcessSpec.of("strip", how, so.toString()).label("strip")
                    .timeout(Duration.ofMinutes(2)).noLog().quiet().failureCode(ExitCode.ENVIRONMENT));
            if (!RmetaHeader.occursIn(Files.readAllBytes(so))) {
                throw new RkmodException(ExitCode.ENVIRONMENT, "Stripping " + so.getFileName() + " removed its Rust metadata",
                        "The .rustc section must survive, or rustc cannot load the proc macro", "Report this with the file");
            }
            ctx.events().info("stripped " + so.getFileName() + ": " + before / 1024 + " KiB -> " + Files.size(so) / 1024 + " KiB");
        }
    }

    private void writeArchive(Path stageTree, Path archive, PackageRequest req) throws IOException {
        List<TarArchive.Item> items = new ArrayList<>();
        List<Path> all = new ArrayList<>();
        try (var s = Files.walk(stageTree)) {
            s.filter(p -> !p.equals(stageTree)).forEach(all::add);
        }
        List<String> names = new ArrayList<>();
        for (Path p : all) {
            names.add(stageTree.relativize(p).toString());
        }
        names.sort(null);
        for (String n : names) {
            items.add(new TarArchive.Item(n, stageTree.resolve(n)));
        }
        TarArchive.Compression c = req.format() == PackageRequest.Format.TAR_ZST
                ? TarArchive.Compression.ZSTD : TarArchive.Compression.XZ;
        try (Stage stage = Stage.start(ctx.events(), "archive", c.suffix() + ", " + items.size() + " entries");
             OutputStream os = Files.newOutputStream(archive)) {
            TarArchive.write(os, c, items, req.sourceDateEpoch(), ZSTD_LEVEL);
            stage.ok();
        }
    }

    private Verification verify(Path made, PackageRequest.Format format, PackageManifest m, Path staging)
            throws IOException {
        long start = System.nanoTime();
        Path relocated = staging.resolve("relocated").resolve("linux-" + m.release());
        try (Stage stage = Stage.start(ctx.events(), "relocate", "to " + relocated)) {
            Files.createDirectories(relocated);
            if (format == PackageRequest.Format.DIR) {
                ctx.runner().run(ProcessSpec.of("cp", "-a", made + "/.", relocated.toString()).label("cp")
                        .timeout(Duration.ofMinutes(10)).quiet().noLog().failureCode(ExitCode.ENVIRONMENT));
            } else {
                TarArchive.extract(made, relocated);
            }
            stage.ok();
        }
        KernelTree tree = KernelTree.open(relocated);
        List<String> missing = tree.missingRustFiles();
        if (!missing.isEmpty()) {
            throw new RkmodException(ExitCode.CHECK_FAILED,
                    "Verification failed: the package lacks " + String.join(", ", missing),
                    "An out-of-tree Rust module build against Linux " + m.release() + " (" + tree.generation().id()
                            + " generation) reads these files; without them rustc fails (for rust/libcore.rmeta: E0463"
                            + " can't find crate for `core`; for the rust/kernel/generated_* files that the kernel crate's"
                            + " macros include, such as warn_on!: couldn't read the file)",
                    "Package a complete build tree (rebuild the kernel with 'rkmod kernel build'), or pass --no-verify");
        }
        RustcFinder.Candidate candidate = new RustcFinder(ctx).find(m.rustc(), Optional.empty()).orElseThrow(() ->
                new RkmodException(ExitCode.ENVIRONMENT, "No rustc on this machine prints '" + m.rustc() + "'",
                        "The probe Rust module must be compiled by the exact rustc that built the kernel",
                        "Install it (for Debian's kernels: 'rkmod deps --install'), or pass --no-verify"));
        Toolchain toolchain = candidate.toolchain();
        List<Path> kos = new ProbeBuilder(ctx).build(tree, toolchain, staging.resolve("probes"));
        return new Verification(relocated, candidate.description(), kos, Duration.ofNanos(System.nanoTime() - start));
    }

    private static void publish(Path tmp, Path out, boolean force) throws IOException {
        if (Files.exists(out, LinkOption.NOFOLLOW_LINKS)) {
            if (!force) {
                throw new RkmodException(ExitCode.USAGE, out + " already exists", null, "Pass --force to replace it");
            }
            if (!Files.isDirectory(out, LinkOption.NOFOLLOW_LINKS) && !Files.isDirectory(tmp, LinkOption.NOFOLLOW_LINKS)) {
                FileOps.moveAtomically(tmp, out); // one rename replaces a file: the old one or the new one, never none
                return;
            }
            // a directory cannot be replaced by one rename: the old one is set aside first, and restored by the next run
            // if rkmod is killed between the two renames (see recoverInterrupted)
            Path old = out.resolveSibling("." + out.getFileName() + OLD + ProcessHandle.current().pid());
            FileOps.moveAtomically(out, old);
            FileOps.moveAtomically(tmp, out);
            if (Files.isDirectory(old, LinkOption.NOFOLLOW_LINKS)) {
                FileOps.deleteTree(old);
            } else {
                Files.deleteIfExists(old);
            }
            return;
        }
        FileOps.moveAtomically(tmp, out);
    }

    private static final String TMP = ".rkmod-tmp-";
    private static final String OLD = ".rkmod-old-";

    /**
     * Repairs what a killed {@code package} left beside {@code out}: a package set aside to be replaced is put back when
     * nothing took its place, and temporary siblings of processes that are gone are removed.
     */
    static void recoverInterrupted(Path out) {
        Path parent = out.getParent();
        if (parent == null || !Files.isDirectory(parent)) {
            return;
        }
        String base = "." + out.getFileName();
        try (var ds = Files.newDirectoryStream(parent, p -> p.getFileName().toString().startsWith(base + ".rkmod-"))) {
            for (Path p : ds) {
                String name = p.getFileName().toString();
                String rest = name.substring(base.length());
                boolean old = rest.startsWith(OLD);
                if (!old && !rest.startsWith(TMP)) {
                    continue;
                }
                long pid;
                try {
                    pid = Long.parseLong(rest.substring((old ? OLD : TMP).length()));
                } catch (NumberFormatException e) {
                    continue;
                }
                if (pid == ProcessHandle.current().pid() || ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)) {
                    continue;
                }
                if (old && !Files.exists(out, LinkOption.NOFOLLOW_LINKS)) {
                    FileOps.moveAtomically(p, out);
                } else {
                    FileOps.deleteQuietly(p);
                }
            }
        } catch (IOException | RuntimeException e) {
            // best effort; the checks below still refuse or replace what is there
        }
    }

    /** The real path of {@code p}, or of its nearest existing parent with the rest appended. */
    static Path real(Path p) {
        Path abs = p.toAbsolutePath().normalize();
        Path existing = abs;
        while (existing != null && !Files.exists(existing)) {
            existing = existing.getParent();
        }
        if (existing == null) {
            return abs;
        }
        try {
            return existing.toRealPath().resolve(existing.relativize(abs));
        } catch (IOException e) {
            return abs;
        }
    }

    private static long size(Path p) throws IOException {
        return Files.size(p);
    }

}
