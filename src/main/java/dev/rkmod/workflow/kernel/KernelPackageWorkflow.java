package dev.rkmod.workflow.kernel;

import dev.rkmod.format.ArchPackageWriter;
import dev.rkmod.format.DebArchiveWriter;
import dev.rkmod.format.FormatException;
import dev.rkmod.format.KernelConfig;
import dev.rkmod.format.KernelManifest;
import dev.rkmod.format.PackageFiles;
import dev.rkmod.format.PackageTree;
import dev.rkmod.infra.fs.FileOps;
import dev.rkmod.model.ExitCode;
import dev.rkmod.model.RkmodException;
import dev.rkmod.workflow.Context;
import dev.rkmod.workflow.install.Depmod;
import dev.rkmod.workflow.sign.SignWorkflow;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * `rkmod kernel package`: the image, modules, System.map and config of an rkmod-built kernel as
 * {@code linux-image-RELEASE} (.deb) or {@code linux-rust} (Arch). The modules are laid out as
 * {@code make modules_install} lays them out (kernel/PATH.ko from modules.order, the modules.order, builtin and
 * builtin.modinfo files, then depmod's index), staged by rkmod itself: that needs no toolchain, only depmod.
 */
public final class KernelPackageWorkflow {
    /** The package formats. */
    public enum Format { DEB, ARCH }

    /** What was written: the package, its name and version, the release, and how many modules it holds. */
    public record Packaged(Path file, String format, String name, String version, String release, int modules, long bytes) { }

    private static final String MAINTAINER = "rkmod <rkmod@localhost>";
    private final Context ctx;

    public KernelPackageWorkflow(Context ctx) {
        this.ctx = ctx;
    }

    public Packaged pack(Optional<Path> kdirArg, Path outDir, Format format, String rkmodVersion) {
        Path kdir = kdirArg.orElseGet(this::onlyCachedKernel).toAbsolutePath().normalize();
        KernelManifest m = KernelManifest.read(kdir).orElseThrow(() -> new RkmodException(ExitCode.USAGE,
                kdir + " is not a kernel built by rkmod", "It has no " + KernelManifest.FILE + ", which names the image and"
                + " the toolchain", "Build one with 'rkmod kernel build' and pass its tree (see 'rkmod kernel list')"));
        String release = m.release();
        Path image = kdir.resolve(m.bzImage());
        for (Path p : List.of(image, kdir.resolve("System.map"), kdir.resolve(".config"), kdir.resolve("modules.order"))) {
            if (!Files.isRegularFile(p)) {
                throw new RkmodException(ExitCode.USAGE, kdir + " is not a complete kernel build: " + p + " is missing",
                        "A kernel package holds the image, System.map, the config and the modules",
                        "Build the kernel again with 'rkmod kernel build'");
            }
        }
        Depmod depmod = Depmod.find(ctx);
        long epoch = PackageFiles.epoch(ctx.host().env().get("SOURCE_DATE_EPOCH"));
        Path staging = null;
        try {
            Files.createDirectories(outDir);
            staging = Files.createTempDirectory(outDir.toAbsolutePath(), ".rkmod-kernel-package-");
            boolean arch = format == Format.ARCH;
            String modPrefix = arch ? "usr/lib/modules/" : "lib/modules/";
            int count = stageModules(kdir, staging, release, modPrefix);
            signLikeModulesInstall(kdir, staging.resolve("lib/modules").resolve(release));
            depmod.run(staging, release, "The kernel package was not written");
            if (arch) {
                // depmod -b reads and writes ROOT/lib/modules; Arch has them in /usr/lib/modules
                Files.createDirectories(staging.resolve("usr/lib"));
                Files.move(staging.resolve("lib/modules"), staging.resolve("usr/lib/modules"));
                Files.delete(staging.resolve("lib"));
            }
            PackageTree.Builder b = PackageTree.builder().addTree(modPrefix + release, staging.resolve(modPrefix + release));
            byte[] manifest = Files.readAllBytes(kdir.resolve(KernelManifest.FILE));
            if (arch) {
                String dir = "usr/lib/modules/" + release + "/";
                b.addFile(dir + "vmlinuz", Files.readAllBytes(image), false)
                        .addFile(dir + "System.map", Files.readAllBytes(kdir.resolve("System.map")), false)
                        .addFile(dir + "config", Files.readAllBytes(kdir.resolve(".config")), false)
                        .addFile(dir + "pkgbase", "linux-rust\n".getBytes(StandardCharsets.UTF_8), false)
                        .addFile("usr/share/doc/linux-rust/" + KernelManifest.FILE, manifest, false);
                return arch(outDir, m, b.build(), epoch, rkmodVersion, count);
            }
            String pkg = "linux-image-" + release;
            b.addFile("boot/vmlinuz-" + release, Files.readAllBytes(image), false)
                    .addFile("boot/System.map-" + release, Files.readAllBytes(kdir.resolve("System.map")), false)
                    .addFile("boot/config-" + release, Files.readAllBytes(kdir.resolve(".config")), false)
                    .addFile("usr/share/doc/" + pkg + "/" + KernelManifest.FILE, manifest, false);
            return deb(outDir, m, b.build(), epoch, count);
        } catch (IOException e) {
            throw new RkmodException(ExitCode.ENVIRONMENT, "Cannot write the kernel package into " + outDir, FileOps.reason(e),
                    "Check that the directory is writable and has free space");
        } finally {
            if (staging != null) {
                FileOps.deleteTree(staging);
            }
        }
    }

    private Path onlyCachedKernel() {
        List<KernelWorkflow.Built> all = new KernelWorkflow(ctx).list();
        if (all.size() == 1) {
            return all.get(0).tree();
        }
        throw new RkmodException(ExitCode.USAGE, all.isEmpty() ? "No kernel built by rkmod is cached"
                : "Several kernels are cached: " + String.join(", ", all.stream().map(k -> k.manifest().release() + " "
                        + k.tree()).toList()), "rkmod kernel package packages one kernel build tree",
                all.isEmpty() ? "Build one with 'rkmod kernel build', or pass --kdir" : "Pass --kdir with one of them");
    }

    /**
     * What {@code make modules_install INSTALL_MOD_PATH=staging} writes before it runs depmod: each module of
     * modules.order as kernel/PATH.ko, and modules.order (with those paths), modules.builtin and
     * modules.builtin.modinfo.
     */
    private static int stageModules(Path kdir, Path staging, String release, String modPrefix) throws IOException {
        Path dir = staging.resolve("lib/modules").resolve(release);
        Files.createDirectories(dir.resolve("kernel"));
        List<String> order = new ArrayList<>();
        for (String line : Files.readAllLines(kdir.resolve("modules.order"))) {
            String rel = line.strip();
            if (rel.isEmpty()) {
                continue;
            }
            if (rel.endsWith(".o")) {
                rel = rel.substring(0, rel.length() - 2) + ".ko"; // 6.2+ lists the objects
            }
            if (rel.startsWith("/") || rel.contains("..")) {
                throw new FormatException(FormatException.Reason.CORRUPT, "modules.order names '" + line + "'",
                        "Every entry is a path inside the build tree", "Build the kernel again");
            }
            Path ko = kdir.resolve(rel);
            if (!Files.isRegularFile(ko, LinkOption.NOFOLLOW_LINKS)) {
                throw new RkmodException(ExitCode.USAGE, kdir + " lacks " + rel + ", which modules.order lists",
                        "The kernel build did not finish its modules", "Build the kernel again with 'rkmod kernel build'");
            }
            Path target = dir.resolve("kernel").resolve(rel);
            Files.createDirectories(target.getParent());
            Files.copy(ko, target);
            order.add("kernel/" + rel);
        }
        Files.writeString(dir.resolve("modules.order"), order.isEmpty() ? "" : String.join("\n", order) + "\n");
        for (String f : List.of("modules.builtin", "modules.builtin.modinfo")) {
            if (Files.isRegularFile(kdir.resolve(f))) {
                Files.copy(kdir.resolve(f), dir.resolve(f));
            }
        }
        return order.size();
    }

    /**
     * With CONFIG_MODULE_SIG_ALL, {@code make modules_install} signs every module with CONFIG_MODULE_SIG_KEY and
     * certs/signing_key.x509; so does rkmod, in-process (byte-identical to sign-file), or it refuses clearly.
     */
    private static void signLikeModulesInstall(Path kdir, Path modulesDir) throws IOException {
        KernelConfig config = KernelConfig.read(kdir.resolve(".config"));
        if (!config.isEnabled("MODULE_SIG_ALL")) {
            return;
        }
        String keyName = config.string("MODULE_SIG_KEY").orElse("certs/signing_key.pem");
        Path key = kdir.resolve(keyName);
        Path cert = kdir.resolve("certs/signing_key.x509");
        if (keyName.startsWith("pkcs11:") || !Files.isRegularFile(key) || !Files.isRegularFile(cert)) {
            throw new RkmodException(ExitCode.USAGE, "The kernel in " + kdir + " signs its modules when they are installed"
                    + " (CONFIG_MODULE_SIG_ALL), but its key " + keyName + " or certs/signing_key.x509 is not there",
                    "Unsigned modules would be refused by this kernel; rkmod signs them as 'make modules_install' does",
                    "Restore the key at CONFIG_MODULE_SIG_KEY, or build the kernel without CONFIG_MODULE_SIG_ALL");
        }
        List<Path> modules;
        try (Stream<Path> s = Files.walk(modulesDir.resolve("kernel"))) {
            modules = s.filter(p -> p.toString().endsWith(".ko")).sorted().toList();
        }
        if (!modules.isEmpty()) {
            new SignWorkflow().sign(modules, key, cert, Optional.empty(), Optional.of(kdir), Optional.empty(), false, false);
        }
    }

    private static String rustLine(KernelManifest m) {
        return "Built by rkmod with " + m.rustc() + ", " + m.bindgen() + " and " + m.clang() + " (" + m.base()
                + " config, toolchain " + m.toolchainProfile() + ").";
    }

    private Packaged deb(Path outDir, KernelManifest m, PackageTree data, long epoch, int count) throws IOException {
        String release = m.release();
        String pkg = "linux-image-" + release;
        String version = m.version() + "-1";
        String arch = ctx.host().debianArch();
        Map<String, String> control = new LinkedHashMap<>();
        control.put("Package", pkg);
        control.put("Source", "linux-rkmod");
        control.put("Version", version);
        control.put("Architecture", arch);
        control.put("Maintainer", MAINTAINER);
        control.put("Section", "kernel");
        control.put("Priority", "optional");
        control.put("Provides", "linux-image, linux-image-rust");
        control.put("Description", "Linux kernel " + release + " with Rust support, built by rkmod\n"
                + "The kernel image, System.map, config and modules of Linux " + release + ".\n" + rustLine(m));
        // the kernel's hooks, as Debian's own kernel packages and the kernel's builddeb run them
        Map<String, byte[]> scripts = new LinkedHashMap<>();
        for (String s : List.of("postinst", "postrm")) {
            String hooks = s.equals("postinst") ? "postinst.d" : "postrm.d";
            String when = s.equals("postinst") ? "\"$1\" = configure" : "\"$1\" = remove";
            scripts.put(s, ("#!/bin/sh\nset -e\nif [ " + when + " ] && [ -d /etc/kernel/" + hooks + " ]; then\n"
                    + "    run-parts --report --exit-on-error --arg=" + release + " --arg=/boot/vmlinuz-" + release
                    + " /etc/kernel/" + hooks + "\nfi\n").getBytes(StandardCharsets.UTF_8));
        }
        Path out = outDir.resolve(pkg + "_" + version + "_" + arch + ".deb");
        DebArchiveWriter.Result r = DebArchiveWriter.write(out, new DebArchiveWriter.Spec(control, scripts, List.of(), data),
                DebArchiveWriter.Options.defaults().withEpoch(epoch).withThreads(Runtime.getRuntime().availableProcessors()));
        return new Packaged(r.file(), "deb", pkg, version, release, count, r.bytes());
    }

    private Packaged arch(Path outDir, KernelManifest m, PackageTree data, long epoch, String rkmodVersion, int count)
            throws IOException {
        String pkgver = m.version().replace('-', '_') + "-1";
        Map<String, List<String>> rel = new LinkedHashMap<>();
        rel.put("license", List.of("GPL-2.0-only"));
        rel.put("provides", List.of("KSYMS"));
        rel.put("depend", List.of("coreutils", "kmod"));
        var bi = new ArchPackageWriter.BuildInfo(sha256Text(m.toJson()), "/build", "/build", "rkmod", rkmodVersion,
                List.of("!distcc", "!ccache"), List.of("!strip"), List.of());
        var spec = new ArchPackageWriter.Spec("linux-rust", "linux-rust", pkgver, "Linux " + m.release()
                + " with Rust support, built by rkmod. " + rustLine(m), "https://www.kernel.org", MAINTAINER, "x86_64",
                rel, bi, data);
        ArchPackageWriter.Result r = ArchPackageWriter.write(outDir.resolve(spec.fileName()), spec, epoch, 19,
                Runtime.getRuntime().availableProcessors());
        return new Packaged(r.file(), "arch", "linux-rust", pkgver, m.release(), count, r.bytes());
    }

    private static String sha256Text(String s) {
        try {
            return java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256")
                    .digest(s.getBytes(StandardCharsets.UTF_8)));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
