package dev.rkmod.workflow.matrix;

import dev.rkmod.format.FormatException;
import dev.rkmod.format.HeadersManifest;
import dev.rkmod.format.KernelManifest;
import dev.rkmod.format.PackageManifest;
import dev.rkmod.format.TarArchive;
import dev.rkmod.infra.cache.CacheEntry;
import dev.rkmod.infra.cache.CacheKey;
import dev.rkmod.infra.event.Stage;
import dev.rkmod.infra.fs.FileOps;
import dev.rkmod.model.Distro;
import dev.rkmod.model.ExitCode;
import dev.rkmod.model.Profile;
import dev.rkmod.model.RkmodException;
import dev.rkmod.workflow.Context;
import dev.rkmod.workflow.distro.DistroKernels;
import dev.rkmod.workflow.headers.HeadersWorkflow;
import dev.rkmod.workflow.kernel.BaseConfig;
import dev.rkmod.workflow.kernel.KernelRequest;
import dev.rkmod.workflow.kernel.KernelWorkflow;
import dev.rkmod.workflow.pack.PackageRequest;
import dev.rkmod.workflow.pack.PackageWorkflow;
import dev.rkmod.workflow.toolchain.DebianRoots;
import dev.rkmod.workflow.tree.KernelTree;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * Turns a {@link KernelSpec} into the kernel a row builds against and boots, reusing what the other commands made:
 * a profile's tiny-rust kernel from {@code kernel build} (a cache hit once built) and a verified package of it, cached
 * once per kernel (kind {@value #PACKAGE_KIND}); a distro kernel's completed headers from {@code headers complete} (a
 * cache hit, hard-linked into the row, reused while the root's kernel is the same); trees and packages as they are. Nothing is derived that a manifest records.
 */
final class KernelResolver {
    /** Cache kind of the verified packages of the profiles' kernels. */
    static final String PACKAGE_KIND = "kernel-package";
    /** Bump when the way the package is made changes. */
    private static final String PACKAGE_RECIPE = "1";

    private final Context ctx;
    private final int jobs;

    KernelResolver(Context ctx, int jobs) {
        this.ctx = ctx;
        this.jobs = jobs;
    }

    /**
     * What a row needs: where modules build ({@code facts.kdir()}), and what vmtest boots: a bzImage, or empty when
     * vmtest finds it from the kdir itself (a tree's manifest, a distro package's image).
     */
    record Resolved(MatrixRow.Kernel facts, Optional<Path> image) { }

    /** The Debian root whose toolchain a spec's preparation runs in, if any: what rows must not share at once. */
    Optional<Path> root(KernelSpec spec) {
        return spec.toolchainProfile().flatMap(Profile::root).flatMap(r -> new DebianRoots(ctx).find(r));
    }

    Resolved resolve(KernelSpec spec, Path rowDir) {
        if (spec instanceof KernelSpec.ProfileKernel p) {
            return profileKernel(p.profile());
        }
        if (spec instanceof KernelSpec.DistroKernel d) {
            return distroKernel(d.selector(), rowDir.resolve("kdir"));
        }
        if (spec instanceof KernelSpec.Tree t) {
            return new Resolved(facts(t.dir(), "kernel tree"), Optional.empty());
        }
        if (spec instanceof KernelSpec.PackageDir p) {
            return packaged(p.dir(), "package");
        }
        KernelSpec.PackageArchive a = (KernelSpec.PackageArchive) spec;
        Path out = rowDir.resolve("kdir");
        try (Stage stage = Stage.start(ctx.events(), "extract", a.file().toString())) {
            FileOps.deleteTree(out);
            Files.createDirectories(out);
            TarArchive.extract(a.file(), out);
            stage.ok();
        } catch (FormatException e) {
            FileOps.deleteTree(out); // nothing of a refused archive stays behind
            throw new RkmodException(ExitCode.USAGE, e.what(), e.why(), e.fix());
        } catch (IOException e) {
            FileOps.deleteTree(out);
            throw new RkmodException(ExitCode.ENVIRONMENT, "Cannot extract " + a.file(), e.getMessage(), null, e);
        }
        return packaged(out, "package archive");
    }

    /** The profile's tiny-rust kernel (built or cached) and a verified package of it (made once, cached). */
    private Resolved profileKernel(Profile p) {
        KernelWorkflow.Built k = new KernelWorkflow(ctx).build(new KernelRequest(Optional.empty(), Optional.of(p),
                new BaseConfig.TinyRust(), List.of(), false, Optional.empty(), Optional.empty(), jobs, Duration.ofHours(3)));
        String name = "linux-" + k.manifest().release() + "-rust";
        Map<String, String> in = new LinkedHashMap<>();
        in.put("recipe", PACKAGE_RECIPE);
        in.put("kernel", k.tree().getFileName().toString());
        in.put("config", String.valueOf(k.manifest().configSha256()));
        in.put("rustc", k.manifest().rustc());
        boolean[] made = {false};
        CacheEntry e = ctx.cache().getOrBuild(PACKAGE_KIND, CacheKey.of(in), "verified package of Linux "
                + k.manifest().release() + " (tiny-rust, profile " + p.id() + ")", ctx.events(), dir -> {
                    made[0] = true;
                    new PackageWorkflow(ctx).pack(new PackageRequest(k.tree(), dir.resolve(name), PackageRequest.Format.DIR,
                            true, false, 0));
                });
        Path image = k.tree().resolve(Objects.requireNonNullElse(k.manifest().bzImage(), "arch/x86/boot/bzImage"));
        return new Resolved(facts(e.dir().resolve(name), "tiny-rust kernel of profile " + p.id()
                + (k.cacheHit() ? ", cached" : ", built") + (made[0] ? ", package made" : ", package cached")),
                Optional.of(image));
    }

    /**
     * A distro kernel's completed headers in the row: reused as the last run published them while they are of the
     * kernel the root has now (release and Debian version of its headers package: a cheap read of the root's dpkg
     * status, as demo reuses its package), else completed again (a cache hit of 'headers complete' unless the kernel is
     * new) and published into the row.
     */
    private Resolved distroKernel(Distro.Selector sel, Path out) {
        String name = sel.distro().name() + "'s own kernel";
        DistroKernels dk = new DistroKernels(ctx);
        DistroKernels.Kernel k = dk.kernel(sel.distro(), dk.root(sel.distro()), sel.release());
        Optional<HeadersManifest> have = Files.isRegularFile(out.resolve(PackageManifest.FILE)) ? HeadersManifest.read(out)
                : Optional.empty();
        if (have.isPresent() && k.release().equals(have.get().release()) && k.headersVersion().equals(have.get().headersVersion())) {
            return new Resolved(facts(out, name + ", completed headers reused"), Optional.empty());
        }
        HeadersWorkflow.Result r = new HeadersWorkflow(ctx).complete(new HeadersWorkflow.Request(Optional.empty(),
                Optional.of(new Distro.Selector(sel.distro(), Optional.of(k.release()))), Optional.empty(), out,
                PackageRequest.Format.DIR, Optional.empty(), jobs, Duration.ofHours(1), true, 0));
        return new Resolved(facts(r.out(), name + (r.cacheHit() ? ", completed headers cached" : ", headers completed")),
                Optional.empty());
    }

    /**
     * A package: a distro kernel's (its rkmod-headers.json names the image vmtest fetches) or an rkmod-built kernel's,
     * whose image is the cached kernel of the same release and config.
     */
    private Resolved packaged(Path dir, String origin) {
        MatrixRow.Kernel facts = facts(dir, origin);
        if (HeadersManifest.read(dir).filter(h -> h.distro() != null).isPresent()) {
            return new Resolved(facts, Optional.empty());
        }
        String config;
        try {
            config = FileOps.sha256(dir.resolve(".config"));
        } catch (IOException e) {
            throw new RkmodException(ExitCode.ENVIRONMENT, "Cannot read " + dir.resolve(".config"), e.getMessage(), null, e);
        }
        for (KernelWorkflow.Built b : new KernelWorkflow(ctx).list()) {
            KernelManifest m = b.manifest();
            if (facts.release().equals(m.release()) && config.equals(m.configSha256()) && m.bzImage() != null
                    && Files.isRegularFile(b.tree().resolve(m.bzImage()))) {
                return new Resolved(new MatrixRow.Kernel(facts.kdir(), facts.release(), facts.generation(), facts.rustc(),
                        origin + ", image of cached kernel " + b.tree()), Optional.of(b.tree().resolve(m.bzImage())));
            }
        }
        throw new RkmodException(ExitCode.ENVIRONMENT, "No kernel image to boot for the package " + dir,
                "A package holds what module builds need, not the kernel's bzImage; no kernel in rkmod's cache has its release "
                        + facts.release() + " and .config",
                "Pass the kernel's build tree instead (--kernel TREE), or build the kernel with 'rkmod kernel build'");
    }

    private static MatrixRow.Kernel facts(Path kdir, String origin) {
        KernelTree tree = KernelTree.open(kdir);
        return new MatrixRow.Kernel(tree.dir(), tree.release(), tree.generation().id(), tree.rustcVersion(), origin);
    }
}
