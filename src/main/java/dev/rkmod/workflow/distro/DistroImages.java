package dev.rkmod.workflow.distro;

import dev.rkmod.format.DebPackage;
import dev.rkmod.format.HeadersManifest;
import dev.rkmod.infra.cache.CacheEntry;
import dev.rkmod.infra.cache.CacheKey;
import dev.rkmod.infra.event.Stage;
import dev.rkmod.infra.host.Chroot;
import dev.rkmod.model.Distro;
import dev.rkmod.model.ExitCode;
import dev.rkmod.model.RkmodException;
import dev.rkmod.workflow.Context;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The distro's own kernel image for a completed package: the image package of the same release and
 * Debian version as the headers, downloaded with the profile root's apt-get, and its bzImage cached
 * (kind "distro-image"). rkmod reads the .deb itself; nothing is installed.
 */
public final class DistroImages {
    private final Context ctx;

    public DistroImages(Context ctx) {
        this.ctx = ctx;
    }

    /** The cached bzImage of the kernel {@code h} describes. */
    public Path image(HeadersManifest h) {
        Distro d = Distro.byId(h.distro()).orElseThrow(() -> new RkmodException(ExitCode.USAGE,
                "The package names an unknown distro '" + h.distro() + "'", "Known: " + Distro.ids(),
                "Pass the kernel image with --kernel"));
        CacheKey key = CacheKey.of(Map.of("distro", d.id(), "release", h.release(), "version", h.headersVersion(),
                "packages", String.join(",", h.imagePackages()), "paths", String.join(",", h.imagePaths())));
        CacheEntry e = ctx.cache().getOrBuild("distro-image", key, d.name() + "'s image of Linux " + h.release(), ctx.events(),
                dir -> fetch(d, h, dir));
        return e.dir().resolve("vmlinuz");
    }

    private void fetch(Distro d, HeadersManifest h, Path dir) throws IOException {
        Path root = new DistroKernels(ctx).root(d);
        Path download = Files.createDirectories(dir.resolve("download"));
        List<String> tried = new ArrayList<>();
        try (Chroot c = Chroot.enter(root, ctx.runner(), ctx.host(), List.of(download));
             Stage stage = Stage.start(ctx.events(), "image", "downloading " + d.name() + "'s kernel image " + h.release()
                     + " " + h.headersVersion())) {
            for (String pkg : h.imagePackages()) {
                Path deb = ArchiveDownload.fetch(ctx, c, download, pkg, h.headersVersion());
                tried.add(pkg + "=" + h.headersVersion());
                if (deb != null) {
                    for (String path : h.imagePaths()) {
                        if (extract(deb, path, dir.resolve("vmlinuz"))) {
                            Files.delete(deb);
                            Files.writeString(dir.resolve("origin"), pkg + " " + h.headersVersion() + " " + path + "\n");
                            stage.ok();
                            return;
                        }
                    }
                    Files.delete(deb);
                }
            }
        } finally {
            dev.rkmod.infra.fs.FileOps.deleteTree(download);
        }
        throw new RkmodException(ExitCode.ENVIRONMENT, "Cannot get " + d.name() + "'s kernel image of Linux " + h.release()
                + " " + h.headersVersion(),
                "apt-get in the " + d.suite() + " root could not download any of " + String.join(", ", tried)
                        + " with an image at " + String.join(" or ", h.imagePaths())
                        + " (the archive keeps only current kernels)",
                "Pass the image with --kernel (for the running kernel: /boot/vmlinuz-$(uname -r)), or complete the archive's"
                        + " current kernel");
    }

    /** One path out of the package; a link that leaves the package is not followed (the next path is tried). */
    private boolean extract(Path deb, String path, Path dest) throws IOException {
        try {
            return DebPackage.extractDataFile(deb, path, dest);
        } catch (dev.rkmod.format.FormatException e) {
            ctx.events().debug(deb.getFileName() + ": " + path + ": " + e.what());
            return false;
        }
    }
}
