package dev.rkmod.bench;

import dev.rkmod.format.DebArchiveWriter;
import dev.rkmod.format.PackageFiles;
import dev.rkmod.format.PackageTree;
import dev.rkmod.infra.cache.Cache;
import dev.rkmod.infra.host.Chroot;
import dev.rkmod.infra.host.Host;
import dev.rkmod.infra.host.OverlayRoot;
import dev.rkmod.model.RootSpec;
import dev.rkmod.workflow.Context;
import dev.rkmod.workflow.toolchain.DebianRoots;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * bench/deb.sh's measuring side (test scope, no CLI command): the Java .deb writer against
 * {@code dpkg-deb --build} (run in a view of the package-tools root) on the same headers tree, in the same
 * run, alternating, best of {@code rounds} each. Usage: DebBench TREE RELEASE WORKDIR [ROUNDS].
 */
public final class DebBench {
    private DebBench() {
    }

    public static void main(String[] args) throws Exception {
        Path tree = Path.of(args[0]).toAbsolutePath();
        String release = args[1];
        Path work = Path.of(args[2]).toAbsolutePath();
        int rounds = args.length > 3 ? Integer.parseInt(args[3]) : 2;
        long epoch = PackageFiles.epoch(System.getenv("SOURCE_DATE_EPOCH"));
        String pkg = "linux-headers-" + release + "-rust";
        String dir = "usr/src/" + pkg;

        Host host = Host.current();
        Context ctx = Context.create(host, new Cache(Cache.defaultRoot(host.env())), e -> { });
        Path root = new DebianRoots(ctx).ensure(RootSpec.PACKAGE_TOOLS);

        byte[] copyright = ("Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n"
                + "Upstream-Name: linux\n\nFiles: *\nCopyright: the Linux kernel authors\nLicense: GPL-2.0-only\n")
                .getBytes(StandardCharsets.UTF_8);
        PackageTree data = PackageTree.builder().addTree(dir, tree)
                .addSymlink("lib/modules/" + release + "/build", "/" + dir)
                .addFile("usr/share/doc/" + pkg + "/copyright", copyright, false)
                .build();
        Map<String, String> control = new LinkedHashMap<>();
        control.put("Package", pkg);
        control.put("Version", release + "-1");
        control.put("Architecture", "amd64");
        control.put("Maintainer", "rkmod bench <bench@example.org>");
        control.put("Section", "kernel");
        control.put("Priority", "optional");
        control.put("Description", "Rust-ready headers for Linux " + release + "\nBenchmark package.");
        DebArchiveWriter.Spec spec = new DebArchiveWriter.Spec(control, Map.of(), List.of(), data);
        DebArchiveWriter.Options options = DebArchiveWriter.Options.defaults().withEpoch(epoch);

        // dpkg-deb's input: the same files, with DEBIAN/control and the md5sums the writer computes
        Path out = Files.createDirectories(work.resolve("out"));
        Path javaDeb = out.resolve("java.deb");
        DebArchiveWriter.Result first = DebArchiveWriter.write(javaDeb, spec, options);
        Path stage = work.resolve("stage");
        Files.createDirectories(stage.resolve("DEBIAN"));
        Files.writeString(stage.resolve("DEBIAN/control"), first.control());
        Files.writeString(stage.resolve("DEBIAN/md5sums"), first.md5sums());
        Files.createDirectories(stage.resolve(dir).getParent());
        ctx.runner().run(dev.rkmod.infra.process.ProcessSpec.of("cp", "-a", tree.toString(), stage.resolve(dir).toString())
                .noLog().quiet());
        Files.createDirectories(stage.resolve("lib/modules/" + release));
        Files.createSymbolicLink(stage.resolve("lib/modules/" + release + "/build"), Path.of("/" + dir));
        Files.createDirectories(stage.resolve("usr/share/doc/" + pkg));
        Files.write(stage.resolve("usr/share/doc/" + pkg + "/copyright"), copyright);
        Path dpkgDeb = out.resolve("dpkg.deb");

        long bestJava = Long.MAX_VALUE;
        long bestDpkg = Long.MAX_VALUE;
        long bestLarge = Long.MAX_VALUE;
        DebArchiveWriter.Options large = options.withXzBlockBytes(64 << 20);
        Path largeDeb = out.resolve("java-64m.deb");
        try (OverlayRoot view = OverlayRoot.mount(root, work.resolve("view"), ctx.runner(), host);
             Chroot c = view.enter(List.of(stage, out))) {
            for (int i = 0; i < rounds; i++) {
                long t0 = System.nanoTime();
                ctx.runner().run(c.spec("/", List.of("SOURCE_DATE_EPOCH=" + epoch), List.of("dpkg-deb", "--root-owner-group",
                                "--build", stage.toString(), dpkgDeb.toString()))
                        .capture().quiet().noLog().timeout(Duration.ofMinutes(30)));
                bestDpkg = Math.min(bestDpkg, System.nanoTime() - t0);
                t0 = System.nanoTime();
                DebArchiveWriter.write(javaDeb, spec, options);
                bestJava = Math.min(bestJava, System.nanoTime() - t0);
                t0 = System.nanoTime();
                DebArchiveWriter.write(largeDeb, spec, large);
                bestLarge = Math.min(bestLarge, System.nanoTime() - t0);
            }
            String info = ctx.runner().run(c.spec("/", List.of(), List.of("dpkg-deb", "--info", javaDeb.toString()))
                    .capture().quiet().noLog()).text();
            if (!info.contains("Package: " + pkg)) {
                throw new IllegalStateException("dpkg-deb cannot read the Java package:\n" + info);
            }
        }
        long javaBytes = Files.size(javaDeb);
        long dpkgBytes = Files.size(dpkgDeb);
        System.out.printf("tree:        %s (%d entries, Installed-Size %d KiB)%n", tree, data.entries().size(),
                first.installedSizeKiB());
        System.out.printf("dpkg-deb:    %8.1f s  %,12d bytes  (xz, in the bookworm root, best of %d)%n", bestDpkg / 1e9, dpkgBytes, rounds);
        System.out.printf("Java writer: %8.1f s  %,12d bytes  (xz -6 in %d MiB blocks, %d threads, md5sums included, best of %d)%n",
                bestJava / 1e9, javaBytes, options.xzBlockBytes() >> 20, options.threads(), rounds);
        System.out.printf("ratio:       time %.2fx (goal <= 1.2), size %.4fx (goal <= 1)%n",
                (double) bestJava / bestDpkg, (double) javaBytes / dpkgBytes);
        long largeBytes = Files.size(largeDeb);
        System.out.printf("64 MiB xz blocks: %5.1f s  %,12d bytes  ratio: time %.2fx, size %.4fx%n", bestLarge / 1e9,
                largeBytes, (double) bestLarge / bestDpkg, (double) largeBytes / dpkgBytes);
    }
}
