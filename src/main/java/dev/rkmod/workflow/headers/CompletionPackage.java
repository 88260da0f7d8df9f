package dev.rkmod.workflow.headers;

import dev.rkmod.format.DebArchiveWriter;
import dev.rkmod.format.DpkgFileLists;
import dev.rkmod.format.DpkgStatus;
import dev.rkmod.format.HeadersManifest;
import dev.rkmod.format.KernelConfig;
import dev.rkmod.format.PackageManifest;
import dev.rkmod.format.PackageTree;
import dev.rkmod.model.Distro;
import dev.rkmod.model.ExitCode;
import dev.rkmod.model.RkmodException;
import dev.rkmod.workflow.pack.DistroPackage;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The completion package of a distro kernel's headers: {@code linux-rust-meta-RELEASE}, holding only the Rust set
 * that {@code headers complete} added (rust/*.rmeta, the proc macros, the files the kernel crate's macros include, the
 * target spec, and the kernel's Rust probe {@code scripts/rust_is_available.sh} with what it reads), installed into the distro's
 * headers directory, with {@code Depends: linux-headers-RELEASE (= VERSION)} on the exact headers it completes.
 *
 * <p>Each file goes to its real path in the distro's layout: a directory of the headers that is a symbolic link
 * (Debian's {@code scripts -> ../../lib/linux-kbuild-V/scripts}) is followed, so that dpkg records the path it
 * writes and no two packages name one file by different paths. Before anything is written, every path is looked
 * up in the root's dpkg file lists; a path another package owns, or a file that exists, is refused.
 */
public final class CompletionPackage {
    private static final String DEFAULT_LAYOUT = "/usr/src/linux-headers-%s";

    private CompletionPackage() {
    }

    /** What was written. */
    public record Made(Path file, String name, String version, String depends, Map<String, String> files, long bytes) { }

    /** The package name: linux-rust-meta-RELEASE. */
    public static String name(String release) {
        return "linux-rust-meta-" + release;
    }

    /** The version: the headers' exact version with "+rkmod1" appended, so it sorts right after it. */
    public static String version(String headersVersion) {
        return headersVersion + "+rkmod1";
    }

    /**
     * Writes the completion .deb of the completed tree {@code tree} into {@code outDir}.
     *
     * @param root the Debian root the headers are installed in ("/" for this machine)
     */
    static Made write(Path tree, HeadersManifest h, PackageManifest m, Path root, Path outDir, long sourceDateEpoch,
                      boolean force) throws IOException {
        if (h == null || h.headersPackage() == null || h.headersVersion() == null) {
            throw new RkmodException(ExitCode.USAGE, "No completion package for headers that no dpkg package installed",
                    "linux-rust-meta-RELEASE depends on the exact headers package it completes, and these headers came"
                            + " from a directory whose package rkmod could not find",
                    "Complete a distro's installed headers (--distro debian-sid, or --kdir /usr/src/linux-headers-RELEASE of"
                            + " an installed package), or use --format dir or tar.zst");
        }
        String release = h.release();
        String layout = h.distro() == null ? DEFAULT_LAYOUT : Distro.byId(h.distro()).map(Distro::headersDir)
                .orElse(DEFAULT_LAYOUT);
        String headersDir = String.format(layout, release);
        // the Rust set, placed at real paths of the root
        Map<String, String> files = new TreeMap<>();
        java.util.Set<String> fromSource = new java.util.HashSet<>(h.fromSource() == null ? List.of() : h.fromSource());
        for (PackageManifest.Entry e : m.files()) {
            if (e.path().startsWith("rust/") || e.path().equals(m.targetSpec()) || fromSource.contains(e.path())) {
                files.put(e.path(), realPath(root, headersDir + "/" + e.path()));
            }
        }
        if (files.isEmpty()) {
            throw new RkmodException(ExitCode.CHECK_FAILED, "The completed headers of Linux " + release + " have no Rust set",
                    "rkmod-package.json lists no rust/ file", "Run 'rkmod headers complete' again with --force");
        }
        refuseOwned(root, headersDir, files);
        String name = name(release);
        String version = version(h.headersVersion());
        String maintainer = DistroPackage.maintainer(null);
        long epoch = sourceDateEpoch > 0 ? sourceDateEpoch : dev.rkmod.format.PackageFiles.DEFAULT_EPOCH;
        PackageTree.Builder b = PackageTree.builder();
        for (Map.Entry<String, String> f : files.entrySet()) {
            // the Rust probe and its helper scripts keep their execute bit (lintian: script-not-executable)
            Path src = tree.resolve(f.getKey());
            b.addFile(f.getValue(), Files.readAllBytes(src), f.getKey().endsWith(".sh") && Files.isExecutable(src));
        }
        docs(b, name, version, maintainer, epoch, release);
        PackageTree data = b.build();
        List<String> deps = new ArrayList<>();
        deps.add(h.headersPackage() + " (= " + h.headersVersion() + ")");
        // the proc macros are shared objects linked against the C library
        deps.add("libc6");
        DistroPackage.rustcDebVersion(h.toolchainRoot() == null ? root : Path.of(h.toolchainRoot()), h.rustc())
                .ifPresent(v -> deps.add("rustc (= " + v + ")"));
        String arch = debianArch(tree, m);
        Map<String, String> control = new LinkedHashMap<>();
        control.put("Package", name);
        control.put("Source", "linux-rust-meta");
        control.put("Version", version);
        control.put("Architecture", arch);
        control.put("Maintainer", maintainer);
        control.put("Depends", String.join(", ", deps));
        control.put("Section", "kernel");
        control.put("Priority", "optional");
        control.put("Homepage", "https://www.kernel.org/");
        control.put("Description", DistroPackage.description("Rust set completing the headers of Linux " + release,
                "The Rust metadata that " + h.headersPackage() + " leaves out (rust/*.rmeta, the proc macros and the"
                        + " target spec), regenerated by rkmod from the kernel's own source with " + h.rustc() + ".",
                "The regenerated crates export exactly the " + h.rustSymbols() + " Rust symbols of the kernel's"
                        + " Module.symvers. With this package, Rust modules build with plain make in /lib/modules/"
                        + release + "/build."));
        Path file = outDir.resolve(name + "_" + version + "_" + arch + ".deb");
        if (Files.exists(file, LinkOption.NOFOLLOW_LINKS) && !force) {
            throw new RkmodException(ExitCode.USAGE, file + " already exists", "rkmod does not overwrite an existing package",
                    "Pass --force to replace it, or choose another --out");
        }
        Files.createDirectories(outDir);
        DebArchiveWriter.Result r = DebArchiveWriter.write(file, new DebArchiveWriter.Spec(control, Map.of(), List.of(), data),
                DebArchiveWriter.Options.defaults().withEpoch(epoch));
        Map<String, String> installed = new TreeMap<>();
        files.forEach((k, v) -> installed.put(k, "/" + v));
        return new Made(file, name, version, String.join(", ", deps), installed, r.bytes());
    }

    private static String debianArch(Path tree, PackageManifest m) throws IOException {
        KernelConfig c = KernelConfig.read(tree.resolve(".config"));
        if ("x86".equals(m.arch()) && c.isEnabled("64BIT")) {
            return "amd64";
        }
        if ("arm64".equals(m.arch())) {
            return "arm64";
        }
        throw new RkmodException(ExitCode.USAGE, "No completion package for a " + m.arch() + " kernel",
                "Only amd64 and arm64 packages are named", "Use --format dir or tar.zst");
    }

    /**
     * The path (relative, without a leading '/') that writing {@code abs} inside {@code root} really writes: every
     * existing directory component that is a symbolic link is followed (an absolute target is taken inside the root).
     */
    static String realPath(Path root, String abs) throws IOException {
        List<String> done = new ArrayList<>();
        List<String> todo = new ArrayList<>(List.of(abs.substring(1).split("/")));
        int hops = 0;
        while (!todo.isEmpty()) {
            String part = todo.remove(0);
            if (part.isEmpty() || part.equals(".")) {
                continue;
            }
            if (part.equals("..")) {
                if (!done.isEmpty()) {
                    done.remove(done.size() - 1);
                }
                continue;
            }
            Path here = root.resolve(String.join("/", done)).resolve(part);
            if (!todo.isEmpty() && Files.isSymbolicLink(here)) {
                if (++hops > 40) {
                    throw new RkmodException(ExitCode.ENVIRONMENT, "Too many symbolic links under " + abs, null, null);
                }
                String target = Files.readSymbolicLink(here).toString();
                List<String> rest = new ArrayList<>(List.of(target.split("/")));
                if (target.startsWith("/")) {
                    done.clear();
                }
                rest.addAll(todo);
                todo = rest;
                continue;
            }
            done.add(part);
        }
        return String.join("/", done);
    }

    /** dpkg's names of a path on a merged-/usr system: the path, and /lib, /bin, /sbin aliases of /usr/… and back. */
    static List<String> aliases(String abs) {
        List<String> out = new ArrayList<>(List.of(abs));
        for (String top : List.of("/lib/", "/lib64/", "/bin/", "/sbin/")) {
            if (abs.startsWith(top)) {
                out.add("/usr" + abs);
            } else if (abs.startsWith("/usr" + top)) {
                out.add(abs.substring(4));
            }
        }
        return out;
    }

    private static void refuseOwned(Path root, String headersDir, Map<String, String> files) throws IOException {
        DpkgFileLists lists = DpkgFileLists.read(root);
        DpkgStatus status = DpkgStatus.read(root.resolve("var/lib/dpkg/status"));
        if (status.size() == 0) {
            throw new RkmodException(ExitCode.ENVIRONMENT, "No dpkg database in " + root,
                    "The completion package must not overwrite a file another package owns, and without dpkg's file lists"
                            + " that cannot be checked", "Complete headers installed by dpkg");
        }
        List<String> conflicts = new ArrayList<>();
        for (Map.Entry<String, String> f : files.entrySet()) {
            String real = "/" + f.getValue();
            List<String> names = new ArrayList<>(aliases(real));
            names.addAll(aliases(headersDir + "/" + f.getKey()));
            for (String n : names) {
                lists.owners(n).ifPresent(o -> conflicts.add(n + " (owned by " + String.join(", ", o) + ")"));
            }
            if (Files.exists(root.resolve(f.getValue()), LinkOption.NOFOLLOW_LINKS) && lists.owners(real).isEmpty()) {
                conflicts.add(real + " (an existing file no package owns)");
            }
        }
        if (!conflicts.isEmpty()) {
            throw new RkmodException(ExitCode.CHECK_FAILED, "The completion package would overwrite "
                    + conflicts.size() + " file" + (conflicts.size() == 1 ? "" : "s") + ": " + String.join("; ",
                    conflicts.stream().distinct().limit(5).toList()) + (conflicts.size() > 5 ? "; …" : ""),
                    "A completion package adds only the Rust files the distro's headers lack; a file another package (or"
                            + " the administrator) put there would be replaced, and removing the completion would delete it",
                    "Remove the package that ships these files (dpkg -S PATH names it), or use --format dir or tar.zst and"
                            + " point your builds at that tree");
        }
    }

    private static void docs(PackageTree.Builder b, String name, String version, String maintainer, long epoch,
                             String release) throws IOException {
        DistroPackage.docs(b, name, version, maintainer, epoch, "Rust set completing the headers of Linux " + release
                + ", made by rkmod.");
    }
}
