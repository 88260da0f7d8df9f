package dev.rkmod.workflow.headers;

import dev.rkmod.format.HeadersManifest;
import dev.rkmod.format.KernelConfig;
import dev.rkmod.format.ModuleSymvers;
import dev.rkmod.format.PackageManifest;
import dev.rkmod.format.RustExports;
import dev.rkmod.infra.cache.CacheEntry;
import dev.rkmod.infra.cache.CacheKey;
import dev.rkmod.infra.event.Stage;
import dev.rkmod.infra.fs.FileOps;
import dev.rkmod.infra.lifecycle.Cleanup;
import dev.rkmod.infra.process.ProcessResult;
import dev.rkmod.infra.process.ProcessSpec;
import dev.rkmod.model.Distro;
import dev.rkmod.model.ExitCode;
import dev.rkmod.model.KernelGeneration;
import dev.rkmod.model.Profile;
import dev.rkmod.model.RkmodException;
import dev.rkmod.workflow.Context;
import dev.rkmod.workflow.distro.DistroKernels;
import dev.rkmod.workflow.kernel.KernelSource;
import dev.rkmod.workflow.pack.PackageRequest;
import dev.rkmod.workflow.pack.PackageWorkflow;
import dev.rkmod.workflow.toolchain.DebianRoots;
import dev.rkmod.workflow.toolchain.RustcFinder;
import dev.rkmod.workflow.toolchain.Toolchain;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SortedSet;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * `rkmod headers complete`: a distro's headers plus the Rust set its packaging leaves out. The headers are
 * copied (links dereferenced; the distro's own files are never touched), the Rust set is regenerated in the
 * copy from the very source the kernel was built from, by the kernel's exact rustc and bindgen and its own C
 * compiler family, with KERNELRELEASE pinned. Then the kernel's identity files must be byte for byte what
 * they were, and the {@code _R} symbols the regenerated crates export must equal those in the distro's
 * Module.symvers: the proof that a module built against the result links to the distro's binary kernel.
 * The result is an rkmod package, verified by probe builds at another path, and cached.
 */
public final class HeadersWorkflow {
    /** The make target: the rust/ directory builds exactly the crates, proc macros and export lists. */
    static final String TARGET = "rust/";
    /** Files kbuild rewrites in an O= build that the headers' own copies must replace again. */
    static final List<String> RESTORE = List.of("Makefile", "include/generated/compile.h", "include/generated/package.h");
    /** Files that identify the kernel and must not change. */
    static final List<String> IDENTITY = List.of("include/config/kernel.release", "Module.symvers", ".config",
            "include/generated/rustc_cfg");
    private static final Pattern INCLUDE = Pattern.compile("(?m)^include\\s+(/\\S+)/Makefile\\s*$");
    /**
     * Part of every cache key: 2 adds the kernel crate's macro includes and the Rust probe to the completed tree, 3 the
     * config gates of the kernel crate's modules to rkmod-headers.json.
     */
    private static final String SCHEMA = "headers-complete-3";

    private final Context ctx;

    public HeadersWorkflow(Context ctx) {
        this.ctx = ctx;
    }

    /** Where the headers come from. */
    public record Request(Optional<Path> kdir, Optional<Distro.Selector> distro, Optional<Path> source, Path out,
                          PackageRequest.Format format, Optional<Path> rustc, int jobs, Duration timeout, boolean force,
                          long sourceDateEpoch) { }

    /** What completion did. */
    public record Result(Path out, PackageRequest.Format format, HeadersManifest headers, PackageManifest manifest,
                         boolean cacheHit, Map<String, Duration> stages, long rustSetBytes, int rustSetFiles,
                         String verifiedWith, Duration took, CompletionPackage.Made completion) {
        public Result(Path out, PackageRequest.Format format, HeadersManifest headers, PackageManifest manifest,
                      boolean cacheHit, Map<String, Duration> stages, long rustSetBytes, int rustSetFiles,
                      String verifiedWith, Duration took) {
            this(out, format, headers, manifest, cacheHit, stages, rustSetBytes, rustSetFiles, verifiedWith, took, null);
        }
    }

    /** The resolved input: headers, source, toolchain and the facts that key the cache. */
    private record Input(Path headers, Path source, String sourceIdentity, Toolchain toolchain, KernelConfig config,
                         String release, Optional<DistroKernels.Kernel> distroKernel, Map<String, String> key) { }

    public Result complete(Request req) {
        if (req.format() == PackageRequest.Format.DEB) {
            return completeDeb(req);
        }
        if (req.format() == PackageRequest.Format.ARCH) {
            throw new RkmodException(ExitCode.USAGE, "No Arch completion package", "Only Debian's headers are completed",
                    "Use --format deb, dir, tar.zst or tar.xz");
        }
        long start = System.nanoTime();
        Map<String, Duration> stages = new LinkedHashMap<>();
        Path out = req.out().toAbsolutePath().normalize();
        if (Files.exists(out, LinkOption.NOFOLLOW_LINKS) && !req.force()) {
            throw new RkmodException(ExitCode.USAGE, out + " already exists", "rkmod does not overwrite an existing package",
                    "Pass --force to replace it, or choose another --out");
        }
        Input in = resolve(req);
        Map<String, String> pkgKey = new LinkedHashMap<>(in.key());
        pkgKey.put("format", req.format().name());
        pkgKey.put("source-date-epoch", Long.toString(req.sourceDateEpoch()));
        CacheKey packageKey = CacheKey.of(pkgKey);
        boolean[] built = {false};
        String[] verifiedWith = {null};
        String name = "linux-" + in.release() + "-rust" + suffix(req.format());
        CacheEntry pkg = ctx.cache().getOrBuild("headers-package", packageKey, "Rust-ready headers of Linux " + in.release(),
                ctx.events(), dir -> {
                    built[0] = true;
                    Path tree = completedTree(in, req, stages);
                    long t = System.nanoTime();
                    PackageWorkflow.Result r = new PackageWorkflow(ctx).pack(new PackageRequest(tree, dir.resolve(name),
                            req.format(), true, false, req.sourceDateEpoch()));
                    verifiedWith[0] = r.verification() == null ? null : r.verification().rustcCandidate();
                    stages.put("package", Duration.ofNanos(System.nanoTime() - t));
                    Files.writeString(dir.resolve("verified-with"), String.valueOf(verifiedWith[0]), StandardCharsets.UTF_8);
                    // beside the package, so that an archive's facts can be reported without unpacking it
                    Files.writeString(dir.resolve(PackageManifest.FILE), r.manifest().toJson(), StandardCharsets.UTF_8);
                    Files.copy(tree.resolve(HeadersManifest.FILE), dir.resolve(HeadersManifest.FILE));
                });
        Path cached = pkg.dir().resolve(name);
        try (Stage stage = Stage.start(ctx.events(), "publish", out.toString())) {
            long t = System.nanoTime();
            publish(cached, out, req.force());
            stages.put("publish", Duration.ofNanos(System.nanoTime() - t));
            stage.ok();
        } catch (IOException e) {
            throw new RkmodException(ExitCode.ENVIRONMENT, "Cannot write " + out, e.getMessage(),
                    "Check free space and permissions", e);
        }
        Path tree = req.format() == PackageRequest.Format.DIR ? out : null;
        PackageManifest manifest = req.format() == PackageRequest.Format.DIR ? PackageManifest.read(out).orElse(null)
                : readArchivedManifest(pkg.dir());
        HeadersManifest headers = tree != null ? HeadersManifest.read(tree).orElse(null) : readArchivedHeaders(pkg.dir());
        long rustBytes = 0;
        int rustFiles = 0;
        if (manifest != null) {
            for (PackageManifest.Entry e : manifest.files()) {
                if (e.path().startsWith("rust/") || e.path().equals(manifest.targetSpec())) {
                    rustBytes += e.size();
                    rustFiles++;
                }
            }
        }
        if (verifiedWith[0] == null) {
            try {
                verifiedWith[0] = Files.readString(pkg.dir().resolve("verified-with"), StandardCharsets.UTF_8);
            } catch (IOException e) {
                verifiedWith[0] = "?";
            }
        }
        return new Result(out, req.format(), headers, manifest, !built[0], stages, rustBytes, rustFiles, verifiedWith[0],
                Duration.ofNanos(System.nanoTime() - start));
    }

    /**
     * The completion package: the completed tree (from the cache, or made now) as a directory in scratch space, then
     * linux-rust-meta-RELEASE from its Rust set, checked against the dpkg file lists of the root the headers are in.
     */
    private Result completeDeb(Request req) {
        long start = System.nanoTime();
        Path outDir = req.out().toAbsolutePath().normalize();
        if (Files.exists(outDir, LinkOption.NOFOLLOW_LINKS) && !Files.isDirectory(outDir)) {
            throw new RkmodException(ExitCode.USAGE, "--out " + outDir + " is not a directory",
                    "The completion .deb gets its conventional name (linux-rust-meta-RELEASE_VERSION_ARCH.deb) inside the"
                            + " --out directory", "Pass a directory (it is created if missing)");
        }
        Path scratch = ctx.cache().scratch("completion");
        try (Cleanup.Handle ignored = Cleanup.register(Cleanup.Phase.FILES, () -> FileOps.deleteQuietly(scratch))) {
            Result dir = complete(new Request(req.kdir(), req.distro(), req.source(), scratch.resolve("tree"),
                    PackageRequest.Format.DIR, req.rustc(), req.jobs(), req.timeout(), false, req.sourceDateEpoch()));
            HeadersManifest h = dir.headers();
            Path root = h != null && h.distro() != null && h.toolchainRoot() != null ? Path.of(h.toolchainRoot()) : Path.of("/");
            CompletionPackage.Made made;
            long t = System.nanoTime();
            try (Stage stage = Stage.start(ctx.events(), "deb", "completion package of Linux "
                    + (h == null ? "?" : h.release()))) {
                stripProcMacros(dir.out());
                made = CompletionPackage.write(dir.out(), h, dir.manifest(), root, outDir, req.sourceDateEpoch(), req.force());
                stage.ok();
            }
            Map<String, Duration> stages = new LinkedHashMap<>(dir.stages());
            stages.remove("publish");
            stages.put("deb", Duration.ofNanos(System.nanoTime() - t));
            return new Result(made.file(), PackageRequest.Format.DEB, h, dir.manifest(), dir.cacheHit(), stages,
                    dir.rustSetBytes(), dir.rustSetFiles(), dir.verifiedWith(), Duration.ofNanos(System.nanoTime() - start),
                    made);
        } catch (IOException e) {
            throw new RkmodException(ExitCode.ENVIRONMENT, "Cannot write the completion package into " + outDir,
                    e.getMessage(), "Check free space and permissions", e);
        } finally {
            FileOps.deleteQuietly(scratch);
        }
    }

    /**
     * strip --strip-unneeded on the proc macros of the scratch copy, as Debian policy wants shared objects stripped;
     * the .rustc metadata and the dynamic symbols rustc loads stay.
     */
    private void stripProcMacros(Path tree) throws IOException {
        List<Path> sos;
        try (var s = Files.list(tree.resolve("rust"))) {
            sos = s.filter(p -> p.getFileName().toString().endsWith(".so")).sorted().toList();
        }
        for (Path so : sos) {
            // a fresh copy first: the published tree may share its files with the cache (hard links)
            Path copy = so.resolveSibling(so.getFileName() + ".rkmod-copy");
            Files.copy(so, copy, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            Files.move(copy, so, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            ctx.runner().run(ProcessSpec.of("strip", "--strip-unneeded", so.toString()).label("strip")
                    .timeout(Duration.ofMinutes(2)).noLog().quiet().failureCode(ExitCode.ENVIRONMENT));
            if (!dev.rkmod.format.RmetaHeader.occursIn(Files.readAllBytes(so))) {
                throw new RkmodException(ExitCode.ENVIRONMENT, "Stripping " + so.getFileName() + " removed its Rust metadata",
                        "The .rustc section must survive, or rustc cannot load the proc macro", "Report this with the file");
            }
        }
    }

    private static String suffix(PackageRequest.Format f) {
        return switch (f) {
            case DIR -> "";
            case TAR_ZST -> ".tar.zst";
            case TAR_XZ -> ".tar.xz";
            case DEB, ARCH -> throw new IllegalArgumentException(f + " is not an archive of the tree");
        };
    }

    // ---------------------------------------------------------------------------------------------------
    // input

    private Input resolve(Request req) {
        if (req.kdir().isPresent() && req.distro().isPresent()) {
            throw new RkmodException(ExitCode.USAGE, "--kdir and --distro cannot be used together",
                    "--kdir names headers on this machine, --distro fetches a distro's headers into its root", "Pass one");
        }
        if (req.distro().isPresent()) {
            Distro d = req.distro().get().distro();
            DistroKernels dk = new DistroKernels(ctx);
            Path root = dk.root(d);
            DistroKernels.Kernel k = dk.kernel(d, root, req.distro().get().release());
            return fromDistro(dk, k, req);
        }
        Path kdir = req.kdir().orElseGet(() -> ctx.host().runningKernelBuildDir());
        if (!Files.isDirectory(kdir)) {
            throw new RkmodException(ExitCode.USAGE, kdir + " does not exist",
                    req.kdir().isPresent() ? "--kdir must name a kernel headers directory"
                            : "The running kernel's headers are not installed",
                    "Install the headers package of your kernel (Debian: apt-get install linux-headers-$(uname -r)), pass"
                            + " --kdir HEADERS_DIR, or use --distro " + Distro.ids());
        }
        // headers inside one of rkmod's distro roots: that root's distro, kernel and toolchain
        Path real = realPath(kdir);
        for (Distro d : Distro.all()) {
            Profile p = Profile.forDistro(d).orElseThrow();
            Optional<Path> root = new DebianRoots(ctx).find(p.root().orElseThrow()).map(HeadersWorkflow::realPath);
            if (root.isPresent() && real.startsWith(root.get())) {
                KernelConfig config = config(kdir);
                requireRust(kdir, config, release(kdir));
                DistroKernels dk = new DistroKernels(ctx);
                return fromDistro(dk, dk.kernel(d, root.get(), Optional.of(release(kdir))), req);
            }
        }
        return fromHost(kdir, req);
    }

    private Input fromDistro(DistroKernels dk, DistroKernels.Kernel k, Request req) {
        requireRust(k.headersDir(), k.config(), k.release());
        Toolchain toolchain;
        if (req.rustc().isPresent()) {
            toolchain = explicitRustc(req.rustc().get(), k.rustcText(), k.release(), k);
        } else {
            dk.requireExactTools(k);
            toolchain = Toolchain.root(k.root(), Optional.of(Profile.forDistro(k.distro()).orElseThrow()));
        }
        Map<String, String> key = new LinkedHashMap<>();
        key.put("schema", SCHEMA);
        key.put("distro", k.distro().id());
        key.put("headers", k.headersPackage() + "=" + k.headersVersion());
        key.put("source", k.sourcePackage() + "=" + k.sourceVersion());
        key.put("rustc", k.rustcText());
        key.put("bindgen", String.valueOf(k.bindgenText()));
        key.put("cc", String.valueOf(k.ccText()));
        key.put("toolchain", toolchain.describe());
        key.put("target", TARGET);
        return new Input(k.headersDir(), k.sourceTarball(), k.sourcePackage() + "=" + k.sourceVersion(), toolchain,
                k.config(), k.release(), Optional.of(k), key);
    }

    private Input fromHost(Path kdir, Request req) {
        KernelConfig config = config(kdir);
        String release = release(kdir);
        requireRust(kdir, config, release);
        String wanted = config.string("RUSTC_VERSION_TEXT").orElseThrow(() -> new RkmodException(ExitCode.USAGE,
                kdir + "/.config has CONFIG_RUST=y but no CONFIG_RUSTC_VERSION_TEXT", "Kernels before 6.12 do not record"
                + " their rustc in the config, so rkmod cannot know which compiler made them",
                "Complete headers of Linux 6.12 or later"));
        Toolchain toolchain;
        if (req.rustc().isPresent()) {
            toolchain = explicitRustc(req.rustc().get(), wanted, release, null);
        } else {
            toolchain = new RustcFinder(ctx).find(wanted, Optional.empty()).map(RustcFinder.Candidate::toolchain)
                    .orElseThrow(() -> new RkmodException(ExitCode.ENVIRONMENT, "No rustc on this machine prints '" + wanted + "'",
                            "Linux " + release + " was built with it, and the Rust set must be made by that exact compiler"
                                    + " (any other gives other symbol hashes)",
                            "Install it and pass it with --rustc, or use a distro profile: 'rkmod deps --install --profile "
                                    + "debian-sid' then --distro debian-sid"));
        }
        String series = Distro.series(release);
        Path source = req.source().orElseGet(() -> {
            Path host = Path.of("/usr/src/linux-source-" + series + ".tar.xz");
            if (Files.isRegularFile(host)) {
                return host;
            }
            Optional<Path> inRoot = toolchain.rootDir().map(r -> r.resolve("usr/src/linux-source-" + series + ".tar.xz"))
                    .filter(Files::isRegularFile);
            return inRoot.orElseThrow(() -> new RkmodException(ExitCode.ENVIRONMENT,
                    "The kernel source of Linux " + release + " is not available",
                    "The Rust set is regenerated from the very source the kernel was built from; rkmod looked for "
                            + host + (toolchain.rootDir().isPresent() ? " and inside " + toolchain.rootDir().get() : ""),
                    "Install the source package of the same version as the headers (Debian: apt-get install linux-source-"
                            + series + "), or pass --source SRC"));
        });
        Map<String, String> key = new LinkedHashMap<>();
        key.put("schema", SCHEMA);
        key.put("headers", fingerprint(kdir));
        key.put("source", sourceIdentity(source));
        key.put("rustc", wanted);
        key.put("cc", config.string("CC_VERSION_TEXT").orElse(""));
        key.put("toolchain", toolchain.describe());
        key.put("target", TARGET);
        return new Input(kdir, source, key.get("source"), toolchain, config, release, Optional.empty(), key);
    }

    private Toolchain explicitRustc(Path rustc, String wanted, String release, DistroKernels.Kernel k) {
        if (!Files.isRegularFile(rustc) || !Files.isExecutable(rustc)) {
            throw new RkmodException(ExitCode.USAGE, "--rustc " + rustc + " is not an executable rustc", null,
                    "Pass the path of a rustc binary");
        }
        ProcessResult r = ctx.runner().run(ProcessSpec.of(rustc.toString(), "--version").workDir(Path.of("/"))
                .env("RUSTUP_TOOLCHAIN", null).capture().quiet().noLog().allowFailure().timeout(Duration.ofSeconds(30)));
        String got = r.ok() && !r.output().isEmpty() ? r.output().get(0).strip() : null;
        if (!wanted.equals(got)) {
            if (k != null) {
                throw DistroKernels.nearMiss(k, "rustc", wanted, got, "--rustc " + rustc);
            }
            throw new RkmodException(ExitCode.ENVIRONMENT, "Linux " + release + " was built with '" + wanted + "', but --rustc "
                    + rustc + " prints " + (got == null ? "nothing" : "'" + got + "'"),
                    "The Rust set must be made by the exact rustc that built the kernel, suffix included; rkmod never"
                            + " builds with a near miss", "Pass the kernel's exact rustc");
        }
        return Toolchain.host(rustc, Optional.empty());
    }

    private static void requireRust(Path kdir, KernelConfig config, String release) {
        if (!config.value("RUST").equals("y")) {
            throw new RkmodException(ExitCode.CHECK_FAILED, "Linux " + release + " (" + kdir + ") was built without Rust"
                    + " support (CONFIG_RUST is not set)",
                    "No Rust module can load on this kernel: it has no Rust runtime (no kernel crate, no Rust symbols"
                            + " exported to modules), so there is no Rust metadata to complete",
                    "Use a Rust-enabled kernel: a distro kernel with CONFIG_RUST=y (such as --distro debian-sid), or build"
                            + " one with 'rkmod kernel build --config " + kdir.resolve(".config") + " --fix-rust'");
        }
    }

    private static KernelConfig config(Path kdir) {
        Path f = kdir.resolve(".config");
        if (!Files.isRegularFile(f)) {
            throw new RkmodException(ExitCode.USAGE, kdir + " is not a kernel headers directory", "It has no .config",
                    "Pass the directory /lib/modules/RELEASE/build points to");
        }
        try {
            return KernelConfig.read(f);
        } catch (IOException e) {
            throw new RkmodException(ExitCode.USAGE, "Cannot read " + f, e.getMessage(), null, e);
        }
    }

    private static String release(Path kdir) {
        try {
            return Files.readString(kdir.resolve("include/config/kernel.release"), StandardCharsets.UTF_8).strip();
        } catch (IOException e) {
            throw new RkmodException(ExitCode.USAGE, kdir + " is not a kernel headers directory",
                    "It has no include/config/kernel.release", "Pass the directory /lib/modules/RELEASE/build points to");
        }
    }

    // ---------------------------------------------------------------------------------------------------
    // the completed tree (cached separately from the package, so another format does not rebuild it)

    private Path completedTree(Input in, Request req, Map<String, Duration> stages) {
        CacheKey key = CacheKey.of(in.key());
        CacheEntry e = ctx.cache().getOrBuild("headers-rust", key, "the Rust set of Linux " + in.release(), ctx.events(),
                dir -> build(in, req, dir.resolve("tree"), stages));
        return e.dir().resolve("tree");
    }

    private void build(Input in, Request req, Path tree, Map<String, Duration> stages) throws IOException {
        long t0 = System.nanoTime();
        try (Stage stage = Stage.start(ctx.events(), "copy headers", in.headers() + " (links dereferenced)")) {
            copyHeaders(in.headers(), tree);
            stage.ok();
        }
        stages.put("copy headers", Duration.ofNanos(System.nanoTime() - t0));
        if (!Files.isRegularFile(tree.resolve("scripts/mod/modpost"))) {
            throw new RkmodException(ExitCode.ENVIRONMENT, in.headers() + " lacks scripts/mod/modpost",
                    "The headers' kbuild programs are missing (Debian ships them in linux-kbuild-VERSION)",
                    "Install the headers package with its dependencies");
        }
        long t1 = System.nanoTime();
        KernelSource source = KernelSource.prepare(ctx, in.source());
        stages.put("source", Duration.ofNanos(System.nanoTime() - t1));
        Map<String, byte[]> saved = new LinkedHashMap<>();
        for (String f : RESTORE) {
            Path p = tree.resolve(f);
            saved.put(f, Files.isRegularFile(p) ? Files.readAllBytes(p) : null);
        }
        Map<String, String> identity = new LinkedHashMap<>();
        for (String f : IDENTITY) {
            identity.put(f, hashOrMissing(tree.resolve(f)));
        }
        Map<String, byte[]> identityBytes = new LinkedHashMap<>();
        for (String f : List.of(".config", "include/generated/rustc_cfg")) {
            Path p = tree.resolve(f);
            identityBytes.put(f, Files.isRegularFile(p) ? Files.readAllBytes(p) : new byte[0]);
        }
        List<String> argv = new ArrayList<>(List.of("make", "-C", source.dir().toString(), "O=" + tree,
                "KERNELRELEASE=" + in.release(), "-j" + req.jobs()));
        boolean clang = in.config().value("CC_IS_CLANG").equals("y");
        if (clang) {
            argv.add("LLVM=1");
        } else if (!Files.isRegularFile(tree.resolve(".kernelvariables"))) {
            String cc = in.config().string("CC_VERSION_TEXT").map(t -> t.strip().split("\\s+")[0]).orElse("gcc");
            argv.add("CC=" + cc);
        }
        Toolchain tc = in.toolchain();
        argv.add("RUSTC=" + tc.rustc());
        argv.add("HOSTRUSTC=" + tc.rustc());
        argv.add("BINDGEN=" + tc.bindgen());
        argv.add(TARGET);
        long t2 = System.nanoTime();
        ProcessResult r;
        try (Toolchain.Shell s = tc.open(ctx, List.of(source.dir(), tree));
             Stage stage = Stage.start(ctx.events(), "make", TARGET + " of Linux " + in.release() + " with "
                     + (clang ? "clang (LLVM=1)" : "its gcc") + " and " + tc.describe())) {
            r = ctx.runner().run(s.spec(null, argv).label("make").timeout(req.timeout()).capture().allowFailure());
            if (r.ok()) {
                stage.ok();
            }
        }
        long makeSeconds = Duration.ofNanos(System.nanoTime() - t2).toSeconds();
        stages.put("make", Duration.ofNanos(System.nanoTime() - t2));
        if (!r.ok()) {
            throw new RkmodException(ExitCode.BUILD_FAILED, r.timedOut() ? "Regenerating the Rust set did not finish in time"
                    : "Regenerating the Rust set failed (make exited " + r.exitCode() + ")",
                    "make said:\n  " + String.join("\n  ", r.tail()),
                    (r.timedOut() ? "Raise --timeout. " : "") + "The full log is " + r.log());
        }
        for (Map.Entry<String, byte[]> e : saved.entrySet()) {
            Path p = tree.resolve(e.getKey());
            if (e.getValue() == null) {
                Files.deleteIfExists(p);
            } else {
                Files.write(p, e.getValue());
            }
        }
        List<String> fromSource = copyProbe(source.dir(), tree);
        try (Stage stage = Stage.start(ctx.events(), "check", "identity files and symbol hashes")) {
            List<String> changed = new ArrayList<>();
            for (Map.Entry<String, String> e : identity.entrySet()) {
                if (!e.getValue().equals(hashOrMissing(tree.resolve(e.getKey())))) {
                    changed.add(e.getKey());
                }
            }
            if (!changed.isEmpty()) {
                throw new RkmodException(ExitCode.CHECK_FAILED, "Regenerating the Rust set changed " + String.join(", ", changed),
                        "kbuild re-ran its configuration because this build environment differs from the distro's "
                                + configDiff(identityBytes.get(".config"), tree.resolve(".config"))
                                + "; a Rust set made from another configuration is not the kernel's, so nothing is published",
                        "Install what the kernel's Kconfig probes need in the toolchain (e.g. openssl for $(success,openssl …)"
                                + " probes, pahole for BTF) and run again; the make log is " + r.log());
            }
            ModuleSymvers symvers = ModuleSymvers.read(tree.resolve("Module.symvers"));
            SortedSet<String> want = RustExports.ofSymvers(symvers);
            SortedSet<String> got = RustExports.read(tree);
            if (want.isEmpty() || !want.equals(got)) {
                SortedSet<String> missing = new TreeSet<>(want);
                missing.removeAll(got);
                SortedSet<String> extra = new TreeSet<>(got);
                extra.removeAll(want);
                throw new RkmodException(ExitCode.CHECK_FAILED, "The regenerated crates do not export the kernel's Rust symbols:"
                        + " " + got.size() + " exported, " + want.size() + " in Module.symvers, " + missing.size()
                        + " missing and " + extra.size() + " unexpected" + (missing.isEmpty() ? "" : " (e.g. " + missing.first() + ")"),
                        "The crate hashes in the mangled _R names differ, so a module built against this Rust set would"
                                + " fail to load with 'Unknown symbol'. The source, config or compiler is not the one that"
                                + " built the kernel",
                        "Use the exact source package of the headers' version and the kernel's exact rustc; nothing was"
                                + " published");
            }
            ctx.events().info("all " + got.size() + " Rust symbols of the regenerated crates equal those in Module.symvers");
            stage.ok();
            Optional<DistroKernels.Kernel> k = in.distroKernel();
            HeadersManifest m = new HeadersManifest(1, k.map(x -> x.distro().id()).orElse(null), in.release(),
                    k.map(DistroKernels.Kernel::headersPackage).orElse(null), k.map(DistroKernels.Kernel::headersVersion).orElse(null),
                    k.map(DistroKernels.Kernel::sourcePackage).orElse(null), k.map(DistroKernels.Kernel::sourceVersion).orElse(null),
                    in.config().string("RUSTC_VERSION_TEXT").orElse(null), in.config().string("BINDGEN_VERSION_TEXT").orElse(null),
                    in.config().string("CC_VERSION_TEXT").orElse(null), clang, tc.rootDir().map(Path::toString).orElse(null),
                    k.map(x -> x.distro().imagePackages(x.release())).orElse(List.of()),
                    k.map(x -> x.distro().imagePaths(x.release())).orElse(List.of()), got.size(), makeSeconds, fromSource, gates(source.dir()));
            Files.writeString(tree.resolve(HeadersManifest.FILE), m.toJson(), StandardCharsets.UTF_8);
        }
        dropObjects(tree);
    }

    /**
     * The kernel's own Rust probe ({@link KernelGeneration#RUST_PROBE_GLOBS}), which distro headers leave out: copied
     * from the source into the tree where the headers lack it, so that DKMS packages that run it find Rust available.
     * Returns what was copied, relative to the tree.
     */
    static List<String> copyProbe(Path source, Path tree) throws IOException {
        List<String> copied = new ArrayList<>();
        for (String glob : KernelGeneration.RUST_PROBE_GLOBS) {
            int slash = glob.lastIndexOf('/');
            Path dir = source.resolve(glob.substring(0, slash));
            if (!Files.isDirectory(dir)) {
                continue;
            }
            List<Path> matches = new ArrayList<>();
            try (java.nio.file.DirectoryStream<Path> ds = Files.newDirectoryStream(dir, glob.substring(slash + 1))) {
                ds.forEach(matches::add);
            }
            matches.sort(null);
            for (Path from : matches) {
                String rel = source.relativize(from).toString();
                Path to = tree.resolve(rel);
                if (!Files.isRegularFile(from, LinkOption.NOFOLLOW_LINKS) || Files.exists(to, LinkOption.NOFOLLOW_LINKS)) {
                    continue;
                }
                Files.createDirectories(to.getParent());
                Files.copy(from, to, java.nio.file.StandardCopyOption.COPY_ATTRIBUTES);
                copied.add(rel);
            }
        }
        return copied;
    }

    /** The config gates of the kernel crate's modules, from the source's rust/kernel/lib.rs; null without one. */
    private static Map<String, String> gates(Path source) throws IOException {
        Path lib = source.resolve(dev.rkmod.format.KernelCrateGates.LIB_RS);
        return Files.isRegularFile(lib) ? dev.rkmod.format.KernelCrateGates.parse(Files.readString(lib, StandardCharsets.UTF_8))
                : null;
    }

    /** Copies a headers directory with links dereferenced; Debian's split -common directory is merged in first. */
    private void copyHeaders(Path headers, Path tree) throws IOException {
        Files.createDirectories(tree);
        Optional<Path> common = commonDir(headers);
        if (common.isPresent()) {
            cp(common.get(), tree);
            cp(headers, tree);
            // the flavour directory's Makefile is only a wrapper that includes the common one by absolute path:
            // the merged tree is self-contained, with the real top Makefile (which includes .kernelvariables)
            Files.copy(common.get().resolve("Makefile"), tree.resolve("Makefile"),
                    java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        } else {
            cp(headers, tree);
        }
    }

    private void cp(Path from, Path to) {
        ctx.runner().run(ProcessSpec.of("cp", "-aL", from + "/.", to.toString()).label("cp")
                .timeout(Duration.ofMinutes(10)).quiet().noLog().failureCode(ExitCode.ENVIRONMENT));
    }

    /**
     * Debian's flavour headers ({@code linux-headers-R-amd64}) hold a two-line Makefile that includes the common
     * headers' Makefile by absolute path; that directory, seen from the same root as the headers.
     */
    static Optional<Path> commonDir(Path headers) throws IOException {
        Path mk = headers.resolve("Makefile");
        if (!Files.isRegularFile(mk) || Files.size(mk) > 4096) {
            return Optional.empty();
        }
        Matcher m = INCLUDE.matcher(Files.readString(mk, StandardCharsets.UTF_8));
        if (!m.find()) {
            return Optional.empty();
        }
        String abs = m.group(1);
        // the headers may live in a root: find the prefix that makes the absolute path exist
        Path h = headers.toAbsolutePath().normalize();
        for (Path prefix = h; prefix != null; prefix = prefix.getParent()) {
            Path candidate = prefix.resolve(abs.substring(1));
            if (Files.isRegularFile(candidate.resolve("Makefile")) && candidate.startsWith(prefix)
                    && !candidate.equals(h)) {
                return Optional.of(candidate);
            }
        }
        return Optional.empty();
    }

    /** Object files and kbuild's records in rust/ are never read by M= builds; keep the cache small. */
    private static void dropObjects(Path tree) throws IOException {
        try (var s = Files.walk(tree.resolve("rust"))) {
            for (Path p : s.filter(Files::isRegularFile).toList()) {
                String n = p.getFileName().toString();
                if (n.endsWith(".o") || n.endsWith(".rlib") || n.endsWith(".a") || n.endsWith(".cmd")) {
                    Files.deleteIfExists(p);
                }
            }
        }
    }

    private static String configDiff(byte[] before, Path afterFile) throws IOException {
        if (!Files.isRegularFile(afterFile)) {
            return "";
        }
        KernelConfig a = KernelConfig.parse(new String(before, StandardCharsets.UTF_8));
        KernelConfig b = KernelConfig.read(afterFile);
        List<String> lines = new ArrayList<>();
        a.diff(b).forEach((sym, c) -> {
            if (lines.size() < 8) {
                lines.add("CONFIG_" + sym + " " + c.before() + " -> " + c.after());
            }
        });
        return lines.isEmpty() ? "" : " (.config: " + String.join(", ", lines) + ")";
    }

    // ---------------------------------------------------------------------------------------------------

    private void publish(Path cached, Path out, boolean force) throws IOException {
        Path parent = out.getParent();
        Files.createDirectories(parent);
        Path tmp = parent.resolve("." + out.getFileName() + ".rkmod-tmp-" + ProcessHandle.current().pid());
        try (Cleanup.Handle ignored = Cleanup.register(Cleanup.Phase.FILES, () -> FileOps.deleteQuietly(tmp))) {
            FileOps.deleteQuietly(tmp);
            // hard links when DEST is on the cache's file system (instant; a package is read, never written in
            // place, by module builds), else a copy
            ProcessResult linked = ctx.runner().run(ProcessSpec.of("cp", "-al", cached.toString(), tmp.toString())
                    .label("cp").timeout(Duration.ofMinutes(10)).quiet().noLog().allowFailure());
            if (!linked.ok()) {
                FileOps.deleteQuietly(tmp);
                ctx.runner().run(ProcessSpec.of("cp", "-a", "--reflink=auto", cached.toString(), tmp.toString()).label("cp")
                        .timeout(Duration.ofMinutes(10)).quiet().noLog().failureCode(ExitCode.ENVIRONMENT));
            }
            if (Files.exists(out, LinkOption.NOFOLLOW_LINKS)) {
                if (!force) {
                    throw new RkmodException(ExitCode.USAGE, out + " already exists", null, "Pass --force to replace it");
                }
                Path old = parent.resolve("." + out.getFileName() + ".rkmod-old-" + ProcessHandle.current().pid());
                FileOps.moveAtomically(out, old);
                FileOps.moveAtomically(tmp, out);
                FileOps.deleteQuietly(old);
            } else {
                FileOps.moveAtomically(tmp, out);
            }
        } finally {
            FileOps.deleteQuietly(tmp);
        }
    }

    private static PackageManifest readArchivedManifest(Path entryDir) {
        return PackageManifest.read(entryDir).orElse(null);
    }

    private static HeadersManifest readArchivedHeaders(Path entryDir) {
        return HeadersManifest.read(entryDir).orElse(null);
    }

    private static String hashOrMissing(Path p) throws IOException {
        return Files.isRegularFile(p) ? FileOps.sha256(p) : "missing";
    }

    private static Path realPath(Path p) {
        try {
            return p.toRealPath();
        } catch (IOException e) {
            return p.toAbsolutePath().normalize();
        }
    }

    private static String fingerprint(Path kdir) {
        StringBuilder sb = new StringBuilder();
        for (String f : List.of(".config", "Module.symvers", "include/config/kernel.release")) {
            try {
                sb.append(f).append('=').append(hashOrMissing(kdir.resolve(f))).append(';');
            } catch (IOException e) {
                sb.append(f).append("=missing;");
            }
        }
        return sb.toString();
    }

    private static String sourceIdentity(Path source) {
        try {
            return source.toAbsolutePath() + "|" + Files.size(source) + "|" + Files.getLastModifiedTime(source).toMillis();
        } catch (IOException e) {
            throw new RkmodException(ExitCode.USAGE, "Cannot read the kernel source " + source, e.getMessage(),
                    "Pass --source with a linux-source tarball or directory");
        }
    }

}
