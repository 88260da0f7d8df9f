package dev.rkmod.workflow.pack;

import dev.rkmod.workflow.tree.KernelTree;
import dev.rkmod.model.ExitCode;
import dev.rkmod.model.KernelGeneration;
import dev.rkmod.model.RkmodException;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.FileSystems;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.PathMatcher;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;

/**
 * Which files of a built tree an external-module build reads: the C set (as the kernel's own
 * packaging selects it) plus the Rust set by the generation table's globs. Object files, kbuild's
 * .cmd files and private keys are left out; symbolic links must stay inside the tree.
 */
public final class PackageFileSet {
    /** Files rkmod writes itself into every package. */
    public static final List<String> GENERATED = List.of("rkmod-package.json", "rust-toolchain");

    private PackageFileSet() {
    }

    /** Relative paths, sorted. */
    public static List<String> select(KernelTree tree, String arch) {
        Path kdir = tree.dir();
        TreeSet<String> out = new TreeSet<>();
        topLevel(kdir, kdir, "Makefile*", out);
        // .kernelvariables: Debian's headers pin CC, CROSS_COMPILE and KERNELRELEASE there (the Makefile includes it);
        // rkmod-headers.json: what 'rkmod headers complete' recorded about a distro kernel
        for (String f : List.of(".config", "Module.symvers", ".kernelvariables", "rkmod-headers.json")) {
            out.add(f);
        }
        Path archDir = kdir.resolve("arch").resolve(arch);
        topLevel(kdir, archDir, "Makefile*", out);
        // the module linker script: scripts/module.lds until 6.x, arch/<arch>/module.lds in 7.x
        topLevel(kdir, archDir, "*.lds", out);
        walk(kdir, archDir, (rel, name) -> name.equals("Kbuild.platforms") || name.equals("Platform")
                || rel.contains("/include/") || rel.contains("/scripts/"), out);
        walk(kdir, kdir.resolve("include"), (rel, name) -> true, out);
        walk(kdir, kdir.resolve("scripts"), (rel, name) -> true, out);
        if (tree.config().isEnabled("OBJTOOL") && Files.isRegularFile(kdir.resolve("tools/objtool/objtool"))) {
            out.add("tools/objtool/objtool");
        }
        for (String glob : KernelGeneration.RUST_GLOBS) {
            int slash = glob.lastIndexOf('/');
            topLevel(kdir, kdir.resolve(glob.substring(0, slash)), glob.substring(slash + 1), out);
        }
        // what the crates' exported macros include! from the object tree (warn_on!, static branches), read from the
        // crates themselves: a missing one is caught by the verification of the relocated package
        for (String rel : tree.objtreeIncludes()) {
            if (Files.isRegularFile(kdir.resolve(rel), LinkOption.NOFOLLOW_LINKS)) {
                out.add(rel);
            }
        }
        if (Files.isRegularFile(kdir.resolve(tree.generation().targetSpec()))) {
            out.add(tree.generation().targetSpec());
        }
        out.removeAll(GENERATED);
        List<String> result = new ArrayList<>();
        for (String rel : out) {
            Path p = kdir.resolve(rel);
            if (!Files.exists(p, LinkOption.NOFOLLOW_LINKS) || excluded(rel) || isPrivateKey(p)) {
                continue;
            }
            if (Files.isSymbolicLink(p)) {
                checkLink(kdir, rel, p);
            }
            result.add(rel);
        }
        return result;
    }

    interface Filter {
        boolean accept(String rel, String name);
    }

    private static void topLevel(Path kdir, Path dir, String glob, TreeSet<String> out) {
        if (!Files.isDirectory(dir)) {
            return;
        }
        PathMatcher m = FileSystems.getDefault().getPathMatcher("glob:" + glob);
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
            for (Path p : ds) {
                if (m.matches(p.getFileName()) && !Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
                    out.add(kdir.relativize(p).toString());
                }
            }
        } catch (IOException e) {
            throw unreadable(dir, e);
        }
    }

    private static void walk(Path kdir, Path dir, Filter filter, TreeSet<String> out) {
        if (!Files.isDirectory(dir)) {
            return;
        }
        try {
            Files.walkFileTree(dir, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) {
                    String rel = kdir.relativize(file).toString();
                    if (filter.accept("/" + rel, file.getFileName().toString())) {
                        out.add(rel);
                    }
                    return FileVisitResult.CONTINUE;
                }
            });
        } catch (IOException e) {
            throw unreadable(dir, e);
        }
    }

    /** Build by-products an external module build never reads. */
    static boolean excluded(String rel) {
        String name = rel.substring(rel.lastIndexOf('/') + 1);
        return name.endsWith(".o") || (name.startsWith(".") && (name.endsWith(".cmd") || name.endsWith(".d")))
                || name.endsWith(".tmp") || name.equals("signing_key.pem") || name.equals("signing_key.x509");
    }

    /** A PEM file holding a private key is never packaged. */
    static boolean isPrivateKey(Path p) {
        String n = p.getFileName().toString();
        if (!(n.endsWith(".pem") || n.endsWith(".key") || n.endsWith(".priv")) || Files.isSymbolicLink(p)) {
            return false;
        }
        try (InputStream in = Files.newInputStream(p)) {
            String head = new String(in.readNBytes(1 << 16), StandardCharsets.ISO_8859_1);
            return head.contains("PRIVATE KEY");
        } catch (IOException e) {
            return true;
        }
    }

    private static void checkLink(Path kdir, String rel, Path link) {
        try {
            Path target = Files.readSymbolicLink(link);
            Path resolved = link.getParent().resolve(target).normalize();
            if (target.isAbsolute() || !resolved.startsWith(kdir.normalize())) {
                throw new RkmodException(ExitCode.ENVIRONMENT, "The symbolic link " + rel + " points outside the tree, to "
                        + target, "A relocatable package cannot depend on files of the build machine",
                        "Replace the link with the file it points to, or remove it");
            }
        } catch (IOException e) {
            throw unreadable(link, e);
        }
    }

    private static RkmodException unreadable(Path p, IOException e) {
        return new RkmodException(ExitCode.ENVIRONMENT, "Cannot read " + p, e.getMessage(), "Check permissions", e);
    }
}
