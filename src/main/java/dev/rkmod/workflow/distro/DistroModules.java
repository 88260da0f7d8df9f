package dev.rkmod.workflow.distro;

import dev.rkmod.format.DebPackage;
import dev.rkmod.format.FormatException;
import dev.rkmod.format.HeadersManifest;
import dev.rkmod.format.ModulesDep;
import dev.rkmod.infra.cache.CacheEntry;
import dev.rkmod.infra.cache.CacheKey;
import dev.rkmod.infra.event.Stage;
import dev.rkmod.infra.fs.FileOps;
import dev.rkmod.infra.host.Chroot;
import dev.rkmod.model.Distro;
import dev.rkmod.model.ExitCode;
import dev.rkmod.model.RkmodException;
import dev.rkmod.workflow.Context;
import dev.rkmod.workflow.install.Depmod;

import java.io.IOException;
import java.io.Reader;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;

/**
 * The distro's own modules of a completed package's kernel, for the dependencies vmtest loads: the modules package of
 * the same release and Debian version as the headers (Debian sid: {@code linux-modules-<release>}; the {@link Distro}
 * row names the candidates and their directories), downloaded once with the profile root's apt-get, its modules
 * directory unpacked by rkmod (nothing is installed) and cached (kind "distro-modules") as
 * {@code lib/modules/RELEASE}, with a modules.dep: the package's, or the host's {@code depmod -b} where the package
 * has none (Debian's do not: their postinst runs depmod).
 */
public final class DistroModules {
    /** The cache kind. */
    public static final String KIND = "distro-modules";
    /** The bound on what a modules directory may unpack to. */
    private static final long MAX_BYTES = 4L << 30;
    private static final String ORIGIN = "origin.properties";
    /** Bumped when the entry's layout changes. */
    private static final String LAYOUT = "1";

    private final Context ctx;

    public DistroModules(Context ctx) {
        this.ctx = ctx;
    }

    /**
     * A kernel's modules: {@code dir} is its {@code lib/modules/RELEASE} (holding modules.dep), {@code source} says
     * where they came from ("linux-modules-R 7.2.13-1"), {@code depmod} whether rkmod ran depmod for the index.
     */
    public record Modules(Path dir, String release, String source, String pathInPackage, int count, boolean depmod,
                          boolean cacheHit) { }

    /** The cached modules of the kernel {@code h} describes, downloaded on first use. */
    public Modules modules(HeadersManifest h) {
        Distro d = Distro.byId(h.distro()).orElseThrow(() -> new RkmodException(ExitCode.USAGE,
                "The package names an unknown distro '" + h.distro() + "'", "Known: " + Distro.ids(),
                "Pass the dependencies as modules before the module that needs them"));
        List<String> packages = d.modulesPackages(h.release());
        List<String> dirs = d.modulesDirs(h.release());
        Map<String, String> in = new LinkedHashMap<>();
        in.put("layout", LAYOUT);
        in.put("distro", d.id());
        in.put("release", h.release());
        in.put("version", h.headersVersion());
        in.put("packages", String.join(",", packages));
        in.put("dirs", String.join(",", dirs));
        boolean[] made = {false};
        CacheEntry e = ctx.cache().getOrBuild(KIND, CacheKey.of(in), d.name() + "'s modules of Linux " + h.release(),
                ctx.events(), dir -> {
                    made[0] = true;
                    fetch(d, h, packages, dirs, dir);
                });
        Properties p = new Properties();
        try (Reader r = Files.newBufferedReader(e.dir().resolve(ORIGIN), StandardCharsets.UTF_8)) {
            p.load(r);
        } catch (IOException ex) {
            throw new RkmodException(ExitCode.ENVIRONMENT, "The cached modules in " + e.dir() + " are damaged",
                    ex.getMessage(), "Remove them with 'rkmod cache clear --kind " + KIND + "'", ex);
        }
        return new Modules(e.dir().resolve("lib/modules").resolve(h.release()), h.release(),
                p.getProperty("package") + " " + p.getProperty("version"), p.getProperty("path"),
                Integer.parseInt(p.getProperty("modules", "0")), Boolean.parseBoolean(p.getProperty("depmod")), !made[0]);
    }

    private void fetch(Distro d, HeadersManifest h, List<String> packages, List<String> dirs, Path entry) throws IOException {
        Path root = new DistroKernels(ctx).root(d);
        Path download = Files.createDirectories(entry.resolve("download"));
        Path modules = entry.resolve("lib/modules").resolve(h.release());
        List<String> tried = new ArrayList<>();
        try (Chroot c = Chroot.enter(root, ctx.runner(), ctx.host(), List.of(download));
             Stage stage = Stage.start(ctx.events(), "modules", "downloading " + d.name() + "'s modules of Linux "
                     + h.release() + " " + h.headersVersion() + " (once; cached)")) {
            for (String pkg : packages) {
                tried.add(pkg + "=" + h.headersVersion());
                Path deb = ArchiveDownload.fetch(ctx, c, download, pkg, h.headersVersion());
                if (deb == null) {
                    continue;
                }
                try {
                    for (String dir : dirs) {
                        int n = unpack(deb, dir, modules);
                        if (n > 0) {
                            boolean depmod = !Files.isRegularFile(modules.resolve(ModulesDep.FILE));
                            if (depmod) {
                                ctx.events().info("depmod of " + n + " modules (the package has no modules.dep)");
                                Files.createDirectories(entry.resolve("lib/modules"));
                                Depmod.find(ctx).run(entry, h.release(), "rkmod indexes the modules of " + pkg
                                        + " to find a module's dependencies");
                            }
                            ModulesDep.read(modules.resolve(ModulesDep.FILE));
                            writeOrigin(entry, pkg, h.headersVersion(), dir, n, depmod);
                            stage.ok();
                            return;
                        }
                        FileOps.deleteTree(modules);
                    }
                } catch (FormatException ex) {
                    ctx.events().warn(deb.getFileName() + ": " + ex.what() + ": " + ex.why());
                    FileOps.deleteTree(modules);
                } finally {
                    Files.deleteIfExists(deb);
                }
            }
        } finally {
            FileOps.deleteTree(download);
        }
        throw new RkmodException(ExitCode.ENVIRONMENT, "Cannot get " + d.name() + "'s modules of Linux " + h.release()
                + " " + h.headersVersion(),
                "apt-get in the " + d.suite() + " root could not download any of " + String.join(", ", tried)
                        + " with modules in " + String.join(" or ", dirs) + " (the archive keeps only current kernels)",
                "Pass the dependencies as modules before the module that needs them (rkmod vmtest DEP.ko MODULE.ko), or"
                        + " complete the archive's current kernel");
    }

    /** The package's modules directory {@code dir} into {@code modules}; how many module files it held. */
    private static int unpack(Path deb, String dir, Path modules) throws IOException {
        DebPackage.TreeCount t = DebPackage.extractTree(deb, dir, modules, MAX_BYTES);
        if (t.files() == 0) {
            return 0;
        }
        int n = 0;
        try (var s = Files.walk(modules)) {
            n = (int) s.filter(p -> p.getFileName().toString().matches(".*\\.ko(\\.xz|\\.zst|\\.gz)?")).count();
        }
        return n;
    }

    private static void writeOrigin(Path entry, String pkg, String version, String dir, int n, boolean depmod)
            throws IOException {
        Properties p = new Properties();
        p.setProperty("package", pkg);
        p.setProperty("version", version);
        p.setProperty("path", dir);
        p.setProperty("modules", String.valueOf(n));
        p.setProperty("depmod", String.valueOf(depmod));
        StringWriter w = new StringWriter();
        p.store(w, "where rkmod took these modules from");
        Files.writeString(entry.resolve(ORIGIN), w.toString());
    }
}
