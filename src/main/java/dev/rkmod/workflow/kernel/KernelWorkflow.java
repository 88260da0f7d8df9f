package dev.rkmod.workflow.kernel;

import dev.rkmod.format.KernelConfig;
import dev.rkmod.format.KernelManifest;
import dev.rkmod.infra.cache.CacheEntry;
import dev.rkmod.infra.cache.CacheKey;
import dev.rkmod.infra.event.Event;
import dev.rkmod.infra.event.Stage;
import dev.rkmod.infra.fs.FileOps;
import dev.rkmod.infra.process.ProcessSpec;
import dev.rkmod.model.ExitCode;
import dev.rkmod.model.KernelGeneration;
import dev.rkmod.model.Profile;
import dev.rkmod.model.RkmodException;
import dev.rkmod.workflow.Context;
import dev.rkmod.workflow.tree.KernelTree;
import dev.rkmod.workflow.toolchain.Toolchain;
import dev.rkmod.workflow.toolchain.ToolchainResolver;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Pattern;

/** `rkmod kernel config|build|list`: Rust-enabled kernels from a distro source and config, toolchain pinned. */
public final class KernelWorkflow {
    public static final String KIND = "kernel";
    /** Bump when the build recipe changes so old cache entries are not reused. */
    private static final String RECIPE = "1";
    private static final Pattern KBUILD_STEP = Pattern.compile("^  [A-Z][A-Z0-9_]*( \\[M\\]| [LPM])?\\s+\\S.*");

    private final Context ctx;

    public KernelWorkflow(Context ctx) {
        this.ctx = ctx;
    }

    /** The chosen source, toolchain and base config, resolved and checked. */
    private record Resolved(KernelSource source, Toolchain toolchain, KernelConfig baseFile, String baseIdentity) { }

    private Resolved resolve(KernelRequest req) {
        ToolchainResolver tr = new ToolchainResolver(ctx);
        Optional<Profile> profile = req.profile();
        if (profile.isPresent() && !profile.get().buildsKernels() && req.source().isEmpty()) {
            throw new RkmodException(ExitCode.USAGE, "Profile " + profile.get().id() + " is a distro's own kernel, not one"
                    + " rkmod builds from source",
                    "Its kernel comes from the distro's archive; what rkmod adds is the Rust metadata its headers lack",
                    "Run 'rkmod headers complete --distro " + profile.get().distro().map(d -> d.id()).orElse(profile.get().id())
                            + " --out DEST', or pass --source SRC to build a kernel with this profile's toolchain");
        }
        KernelSource source = null;
        if (profile.isEmpty() && req.rustc().isEmpty() && req.root().isEmpty()) {
            if (req.source().isPresent()) {
                source = KernelSource.prepare(ctx, req.source().get());
                String v = source.version();
                profile = Optional.of(Profile.forKernelVersion(v).orElseThrow(() -> new RkmodException(ExitCode.USAGE,
                        "No pinned toolchain is known for Linux " + v,
                        "rkmod pins the toolchains of profiles " + Profile.ids(),
                        "Pass --toolchain PATH_TO_RUSTC or --root DIR to choose one")));
            } else {
                profile = Optional.of(Profile.LINUX_6_1);
            }
        }
        Toolchain toolchain = tr.resolve(req.rustc(), req.root(), profile);
        toolchain.requireTools(ctx);
        // a bad config file is refused before a source tarball is extracted (that takes half a minute)
        String arch = kernelArch();
        KernelConfig earlyBase = req.base() instanceof BaseConfig.File f
                ? KernelConfigurator.readBase(ToolchainResolver.locate(f.path().toString(), toolchain), arch) : null;
        if (source == null) {
            Optional<Profile> p = profile;
            String src = req.source().map(Path::toString).orElseGet(() -> p.orElseThrow().sourceTarball());
            source = KernelSource.prepare(ctx, ToolchainResolver.locate(src, toolchain));
        }
        final KernelSource src = source;
        final Optional<Profile> prof = profile;
        KernelConfig baseFile = null;
        String baseIdentity;
        if (earlyBase != null) {
            baseFile = earlyBase;
            baseIdentity = "file:" + CacheKey.sha256(baseFile.format().getBytes(StandardCharsets.UTF_8));
        } else if (req.base() instanceof BaseConfig.Debian) {
            Profile p = prof.or(() -> Profile.forKernelVersion(src.version())).orElseThrow(() ->
                    new RkmodException(ExitCode.USAGE, "No Debian distro config is known for this kernel", null,
                            "Pass --config FILE"));
            Path file = ToolchainResolver.locate(p.distroConfig(), toolchain);
            baseFile = KernelConfigurator.readBase(file, arch);
            baseIdentity = "debian:" + CacheKey.sha256(baseFile.format().getBytes(StandardCharsets.UTF_8));
        } else {
            baseIdentity = "tiny-rust:" + CacheKey.sha256(
                    KernelConfigurator.tinyRustFragment().format().getBytes(StandardCharsets.UTF_8));
        }
        return new Resolved(source, toolchain, baseFile, baseIdentity);
    }

    private String kernelArch() {
        String a = ctx.host().debianArch();
        return a.equals("amd64") || a.equals("i386") ? "x86" : a;
    }

    /** `kernel config`: configure in a scratch directory; optionally write the final .config. */
    public ConfigOutcome config(KernelRequest req, Optional<Path> out) {
        Resolved r = resolve(req);
        Path work = ctx.cache().scratch("config");
        try (Toolchain.Shell session = r.toolchain().open(ctx, List.of(r.source().dir(), work))) {
            ConfigOutcome outcome = new KernelConfigurator(ctx).configure(session, r.source().dir(), work,
                    new KernelConfigurator.Request(req.base(), req.fragments(), req.fixRust()), r.baseFile());
            if (out.isPresent() && outcome.rustEnabled()) {
                FileOps.writeAtomically(out.get(), outcome.result().format().getBytes(StandardCharsets.UTF_8));
            }
            return outcome;
        } finally {
            FileOps.deleteTree(work);
        }
    }

    /** The result of `kernel build`. */
    public record Built(Path tree, KernelManifest manifest, boolean cacheHit) { }

    /** `kernel build`: a cached build tree keyed by source, config inputs and toolchain identity. */
    public Built build(KernelRequest req) {
        Resolved r = resolve(req);
        Toolchain.Identity id;
        try (Toolchain.Shell s = r.toolchain().open(ctx, List.of())) {
            id = s.identity();
        }
        Map<String, String> inputs = new LinkedHashMap<>();
        inputs.put("recipe", RECIPE);
        inputs.put("source", r.source().identity());
        inputs.put("base", r.baseIdentity());
        for (int i = 0; i < req.fragments().size(); i++) {
            Path f = req.fragments().get(i);
            try {
                inputs.put("fragment." + i, FileOps.sha256(f));
            } catch (IOException e) {
                throw new RkmodException(ExitCode.USAGE, "Cannot read the config fragment " + f, e.getMessage(),
                        "Check the path", e);
            }
        }
        inputs.put("fix-rust", String.valueOf(req.fixRust()));
        inputs.put("toolchain", r.toolchain().rootDir().map(p -> "root").orElse("host:" + r.toolchain().rustc()));
        inputs.put("rustc", id.rustc());
        inputs.put("bindgen", id.bindgen());
        inputs.put("clang", id.clang());
        inputs.put("lld", id.lld());
        CacheKey key = CacheKey.of(inputs);
        boolean[] built = {false};
        String desc = "Linux " + r.source().version() + " (" + req.base().describe() + ", " + id.rustc() + ")";
        CacheEntry entry = ctx.cache().getOrBuild(KIND, key, desc, ctx.events(), dir -> {
            built[0] = true;
            buildInto(dir, req, r, id);
        });
        KernelManifest m = KernelManifest.read(entry.dir()).orElseThrow(() -> new RkmodException(ExitCode.ENVIRONMENT,
                "The cached kernel " + entry.dir() + " has no readable " + KernelManifest.FILE, null,
                "Remove it with 'rkmod cache clear --kind kernel' and build again"));
        if (!built[0]) {
            ctx.events().info("cached: " + desc);
        }
        return new Built(entry.dir(), m, !built[0]);
    }

    private void buildInto(Path dir, KernelRequest req, Resolved r, Toolchain.Identity id) throws IOException {
        long start = System.nanoTime();
        try (Stage stage = Stage.start(ctx.events(), "copy source", r.source().dir().toString())) {
            linkOrCopyTree(r.source().dir(), dir);
            stage.ok();
        }
        long objects;
        try (Toolchain.Shell session = r.toolchain().open(ctx, List.of(dir))) {
            ConfigOutcome outcome = new KernelConfigurator(ctx).configure(session, dir, dir,
                    new KernelConfigurator.Request(req.base(), req.fragments(), req.fixRust()), r.baseFile());
            if (!outcome.rustEnabled()) {
                throw rustBlocked(outcome);
            }
            objects = make(session, dir, req, r);
        }
        verifyTree(dir);
        writeExtras(dir, req, r, id, Duration.ofNanos(System.nanoTime() - start), objects);
    }

    /**
     * Fills the build directory with the source tree as hard links ({@code cp -al}, about a second for the 80,000
     * files of a kernel source, against ~6-9 s for a byte copy). Safe because a kbuild in-tree build only creates and
     * replaces files, it never writes into a file of the source tarball in place (checked over a whole tiny-rust 6.1 build: none
     * of its 78,624 source files changed), so the cached source stays pristine. When the two directories are
     * on different file systems (links impossible), it falls back to a full copy.
     */
    private void linkOrCopyTree(Path source, Path dir) {
        try {
            ctx.runner().run(ProcessSpec.of("cp", "-al", source + "/.", dir.toString())
                    .label("cp").timeout(Duration.ofMinutes(20)).quiet().failureCode(ExitCode.ENVIRONMENT));
            return;
        } catch (RkmodException e) {
            ctx.events().info("cannot hard-link the kernel source into the build directory; copying it");
            FileOps.deleteTree(dir);
            try {
                Files.createDirectories(dir);
            } catch (IOException io) {
                throw new RkmodException(ExitCode.ENVIRONMENT, "Cannot create " + dir, io.getMessage(),
                        "Check the cache directory's permissions and free space", io);
            }
        }
        ctx.runner().run(ProcessSpec.of("cp", "-a", source + "/.", dir.toString())
                .label("cp").timeout(Duration.ofMinutes(20)).quiet().failureCode(ExitCode.ENVIRONMENT));
    }

    private long make(Toolchain.Shell session, Path dir, KernelRequest req, Resolved r) {
        long estimate = estimateObjects(r.source().version(), req.base().describe());
        AtomicLong done = new AtomicLong();
        List<String> argv = new ArrayList<>(List.of("make", "-C", dir.toString()));
        argv.addAll(session.toolchain().makeVariables());
        argv.add("-j" + req.jobs());
        try (Stage stage = Stage.start(ctx.events(), "make", "-j" + req.jobs() + " with " + session.toolchain().describe())) {
            ctx.runner().run(session.spec(null, argv).label("make").timeout(req.timeout())
                    .failureCode(ExitCode.BUILD_FAILED)
                    .onLine(line -> {
                        if (KBUILD_STEP.matcher(line).matches()) {
                            long n = done.incrementAndGet();
                            ctx.events().emit(new Event.Progress("make", n, Math.max(estimate, 0), "objects"));
                        }
                    }));
            stage.ok();
        }
        return done.get();
    }

    /** The object count of the newest cached build of the same source and base, or 0 (unknown). */
    private long estimateObjects(String version, String base) {
        return ctx.cache().list().stream().filter(e -> e.kind().equals(KIND))
                .map(e -> KernelManifest.read(e.dir()))
                .flatMap(Optional::stream)
                .filter(m -> version.equals(m.version()) && base.equals(m.base()))
                .map(KernelManifest::objects).findFirst().orElse(0L);
    }

    private static RkmodException rustBlocked(ConfigOutcome o) {
        StringBuilder why = new StringBuilder("olddefconfig dropped it because these dependencies are unmet:");
        for (ConfigOutcome.Blocker b : o.blockers()) {
            why.append(" 'depends on ").append(b.clause()).append("' (");
            List<String> vals = new ArrayList<>();
            b.values().forEach((k, v) -> vals.add(k + "=" + v));
            why.append(String.join(", ", vals)).append(");");
        }
        if (!o.rustAvailable().isEmpty()) {
            why.append(" make rustavailable says: ").append(String.join(" ", o.rustAvailable()));
        }
        boolean fixable = o.blockers().stream().anyMatch(b -> b.fixable() != null);
        return new RkmodException(ExitCode.CHECK_FAILED, "CONFIG_RUST=y did not survive the kernel configuration",
                why.toString(), fixable ? "Run again with --fix-rust to turn the blocking options off"
                : "Install the missing tools with 'rkmod deps --install' or use a config without these options");
    }

    private void verifyTree(Path dir) {
        List<String> missing = new ArrayList<>();
        if (!Files.isRegularFile(dir.resolve("arch/x86/boot/bzImage"))) {
            missing.add("arch/x86/boot/bzImage");
        }
        Set<String> crates = KernelTree.crates(dir);
        if (crates.isEmpty()) {
            missing.add("rust/*.rmeta");
        }
        if (!Files.isRegularFile(dir.resolve("rust/libmacros.so"))) {
            missing.add("rust/libmacros.so");
        }
        Optional<KernelGeneration> gen = KernelTree.generation(dir, null);
        if (gen.isPresent() && !Files.isRegularFile(dir.resolve(gen.get().targetSpec()))) {
            missing.add(gen.get().targetSpec());
        }
        List<String> needed = new ArrayList<>(List.of("Module.symvers", "include/config/kernel.release"));
        needed.addAll(KernelGeneration.RUST_GENERATED);
        for (String f : needed) {
            if (!Files.isRegularFile(dir.resolve(f))) {
                missing.add(f);
            }
        }
        if (!missing.isEmpty()) {
            throw new RkmodException(ExitCode.BUILD_FAILED, "The kernel build finished but lacks " + String.join(", ", missing),
                    "An out-of-tree Rust module build needs these files", "See the build log in " + ctx.cache().logDir());
        }
    }

    private void writeExtras(Path dir, KernelRequest req, Resolved r, Toolchain.Identity id, Duration took, long objects)
            throws IOException {
        String release = Files.readString(dir.resolve("include/config/kernel.release")).strip();
        KernelConfig config = KernelConfig.read(dir.resolve(".config"));
        Optional<KernelGeneration> gen = KernelTree.generation(dir, r.source().version());
        List<String> fragments = req.fragments().stream().map(p -> p.toAbsolutePath().toString()).toList();
        KernelManifest m = KernelManifest.builder()
                .release(release).version(r.source().version()).arch(config.arch().orElse(kernelArch()))
                .generation(gen.map(KernelGeneration::id).orElse("unknown"))
                .source(r.source().origin().toAbsolutePath().toString()).sourceIdentity(r.source().identity())
                .base(req.base().describe()).fragments(fragments).fixRust(req.fixRust())
                .configSha256(FileOps.sha256(dir.resolve(".config")))
                .toolchain(id.location()).toolchainProfile(r.toolchain().profileId())
                .toolchainRoot(r.toolchain().rootDir().map(Path::toString).orElse(null)).rustcPath(r.toolchain().rustc())
                .rustc(id.rustc()).bindgen(id.bindgen()).clang(id.clang()).lld(id.lld()).llvm(id.llvm())
                .buildSeconds(took.toSeconds()).objects(objects).bzImage("arch/x86/boot/bzImage")
                .builtAt(Instant.now().toString())
                .build();
        FileOps.writeAtomically(dir.resolve(KernelManifest.FILE), m.toJson().getBytes(StandardCharsets.UTF_8));
        FileOps.writeAtomically(dir.resolve("rust-toolchain"), dev.rkmod.format.RustToolchainFile.format(id.rustc()).getBytes(StandardCharsets.UTF_8));
    }

    /** Cached kernels, newest first. */
    public List<Built> list() {
        List<Built> out = new ArrayList<>();
        for (CacheEntry e : ctx.cache().list()) {
            if (e.kind().equals(KIND)) {
                KernelManifest.read(e.dir()).ifPresent(m -> out.add(new Built(e.dir(), m, true)));
            }
        }
        out.sort(Comparator.comparing((Built b) -> b.manifest().builtAt()).reversed());
        return out;
    }
}
