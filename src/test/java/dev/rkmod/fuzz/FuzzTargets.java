package dev.rkmod.fuzz;

import dev.rkmod.format.AptSources;
import dev.rkmod.format.BzImage;
import dev.rkmod.format.CompressedModule;
import dev.rkmod.format.DebPackage;
import dev.rkmod.format.ModulesDep;
import dev.rkmod.format.DpkgFileLists;
import dev.rkmod.format.DpkgStatus;
import dev.rkmod.format.ElfFile;
import dev.rkmod.format.FormatException;
import dev.rkmod.format.HeadersManifest;
import dev.rkmod.format.KconfigDependencies;
import dev.rkmod.format.KernelConfig;
import dev.rkmod.format.KernelMakefile;
import dev.rkmod.format.KernelManifest;
import dev.rkmod.format.Ktap;
import dev.rkmod.format.ModInfo;
import dev.rkmod.format.ModuleSignature;
import dev.rkmod.format.ModuleSymvers;
import dev.rkmod.format.OsRelease;
import dev.rkmod.format.PackageFiles;
import dev.rkmod.format.PackageManifest;
import dev.rkmod.format.ProjectToml;
import dev.rkmod.format.RmetaHeader;
import dev.rkmod.format.RmetaObjtreePaths;
import dev.rkmod.format.RustExports;
import dev.rkmod.format.TarArchive;
import dev.rkmod.format.TargetSpec;
import dev.rkmod.model.RkmodException;
import dev.rkmod.model.RustcVersion;
import dev.rkmod.workflow.info.InfoWorkflow;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * The table of fuzzed parsers: every reader in {@code dev.rkmod.format} of bytes or text that come from outside, plus
 * the module chain of {@code rkmod info} (compression, signature trailer, CMS blob, ELF, .modinfo). Writers only
 * (CpioNewc, JunitXml, RustToolchainFile, the .PKGINFO of ArchPackageWriter, dkms.conf) have no reader to fuzz.
 */
public final class FuzzTargets {
    private static final List<Class<? extends Throwable>> FORMAT = List.of(FormatException.class);
    private static final List<String> ELF_DICT = List.of("\u007fELF", ".modinfo", ".symtab", ".strtab", ".note.gnu.build-id",
            "~Module signature appended~\n", "name=", "license=GPL");
    private static final KernelConfig CONFIG = KernelConfig.parse("CONFIG_HAVE_RUST=y\nCONFIG_RUST_IS_AVAILABLE=y\n"
            + "CONFIG_MODVERSIONS=y\n# CONFIG_LTO is not set\nCONFIG_NR=16\nCONFIG_S=\"abc\"\n");

    private FuzzTargets() {
    }

    public static List<FuzzTarget> all() {
        List<FuzzTarget> t = new ArrayList<>();
        t.add(new FuzzTarget("elf", false, ELF_DICT, FORMAT, (in, s) -> {
            ElfFile elf = ElfFile.parse(in, ModuleSignature.unsignedLength(in));
            for (ElfFile.Section sec : elf.sections()) {
                try {
                    elf.contents(sec);
                } catch (FormatException e) {
                    // typed: a section outside the file
                }
            }
            elf.section(".text");
            try {
                elf.symbols();
            } catch (FormatException e) {
                // typed
            }
            elf.buildId();
        }));
        t.add(new FuzzTarget("modinfo", false, ELF_DICT, FORMAT, (in, s) ->
                ModInfo.of(ElfFile.parse(in, ModuleSignature.unsignedLength(in))).get("name")));
        t.add(new FuzzTarget("module-signature", false, ELF_DICT, FORMAT, (in, s) -> {
            Optional<ModuleSignature> sig = ModuleSignature.read(in);
            if (sig.isPresent()) {
                ModuleSignature.unsignedLength(in);
                sig.get().cms();
            }
        }));
        // the whole chain 'rkmod info' runs on a module file: decompression, trailer, CMS blob, ELF, .modinfo
        t.add(new FuzzTarget("info", false, ELF_DICT, List.of(RkmodException.class), FuzzTarget.DECOMPRESSING, (in, s) -> {
            Path ko = Files.write(s.resolve("m.ko"), in);
            InfoWorkflow.Outcome o;
            try {
                o = new InfoWorkflow().infoEach(List.of(ko), Optional.empty()).get(0);
            } catch (RuntimeException e) {
                // infoEach reports a bad module in its outcome, so that a batch goes on with the next one
                throw new AssertionError("infoEach threw instead of reporting the module as unreadable: " + e, e);
            }
            if (o.error().isPresent()) {
                throw o.error().get();
            }
            o.report().ifPresent(r -> r.field("signer"));
        }));
        t.add(new FuzzTarget("compressed-module", false, List.of("\u00fd7zXZ\0", "\u0028\u00b5\u002f\u00fd", "\u001f\u008b"), FORMAT,
                FuzzTarget.DECOMPRESSING, (in, s) -> CompressedModule.decompress(in)));
        t.add(new FuzzTarget("rmeta", false, List.of("rust\0\0\0", "rustc ", "\u00c1"), FORMAT,
                (in, s) -> RmetaHeader.parse(in, "fuzz.rmeta")));
        t.add(new FuzzTarget("rmeta-objtree", false, List.of("/rust/", "\u00c1", "/../", "'"), FORMAT, (in, s) -> {
            RmetaObjtreePaths.parse(in);
            RmetaObjtreePaths.read(Files.write(s.resolve("lib.rmeta"), in));
        }));
        t.add(new FuzzTarget("target-spec", true, List.of("{", "}", "\"llvm-target\"", ":"), FORMAT, (in, s) -> {
            Path f = Files.write(s.resolve("target.json"), in);
            TargetSpec ts = TargetSpec.read(f);
            ts.rustcTriple();
            ts.text();
        }));
        t.add(new FuzzTarget("kernel-config", true, List.of("CONFIG_", "# CONFIG_", " is not set", "# Linux/x86 6.1.0 Kernel Configuration"),
                FORMAT, (in, s) -> {
                    KernelConfig c = KernelConfig.parse(text(in));
                    c.arch();
                    c.string("LOCALVERSION");
                    c.format();
                    c.diff(CONFIG);
                }));
        // KernelConfig.read reports bad xz data as an IOException "corrupt xz data in FILE: why"; nothing else is typed
        t.add(new FuzzTarget("kernel-config-xz", false, List.of("\u00fd7zXZ\0", "YZ"), List.of(FormatException.class, CorruptXz.class),
                FuzzTarget.DECOMPRESSING, (in, s) -> {
                    Path f = Files.write(s.resolve(".config.xz"), in);
                    try {
                        KernelConfig.read(f);
                    } catch (IOException e) {
                        if (e.getMessage() != null && e.getMessage().startsWith("corrupt xz data in ")) {
                            throw new CorruptXz(e);
                        }
                        throw e;
                    }
                }));
        t.add(new FuzzTarget("kconfig-depends", true, List.of("config RUST", "depends on ", "help", "!", "&&", "||", "(", ")",
                "=", "!=", "<=", "HAVE_RUST", "MODVERSIONS", "NR", "0x10"), FORMAT, (in, s) -> {
                    Path f = Files.write(s.resolve("Kconfig"), in);
                    Optional<KconfigDependencies> d = KconfigDependencies.read(f, "RUST");
                    if (d.isPresent()) {
                        d.get().unmet(CONFIG);
                        for (KconfigDependencies.Clause c : d.get().clauses()) {
                            c.symbols();
                            c.negatedHead();
                        }
                    }
                }));
        t.add(new FuzzTarget("symvers", true, List.of("\t", "EXPORT_SYMBOL_GPL", "_R", "vmlinux"), FORMAT, (in, s) -> {
            ModuleSymvers m = ModuleSymvers.read(Files.write(s.resolve("Module.symvers"), in));
            RustExports.ofSymvers(m);
            m.get("printk").ifPresent(ModuleSymvers.Export::gplOnly);
        }));
        t.add(new FuzzTarget("modules-dep", true, List.of(": ", ".ko.xz", ".ko", " kernel/", "/../", "\n"), FORMAT, (in, s) -> {
            ModulesDep d = ModulesDep.read(Files.write(s.resolve("modules.dep"), in));
            d.closure(List.of("configfs", "btrfs", "industrialio_configfs", "absent"));
        }));
        t.add(new FuzzTarget("rust-exports", true, List.of("EXPORT_SYMBOL_RUST_GPL(", ")", "_R"), FORMAT, (in, s) -> {
            Files.createDirectories(s.resolve("rust"));
            Files.write(s.resolve("rust/exports_kernel_generated.h"), in);
            RustExports.read(s);
        }));
        t.add(new FuzzTarget("class-annotations", false, List.of("\u00ca\u00fe\u00ba\u00be", "RuntimeVisibleAnnotations",
                "Lpicocli/CommandLine$Option;", "Signature"), FORMAT,
                (in, s) -> dev.rkmod.format.ClassAnnotations.read(in, "Fuzz.class").fields().size()));
        t.add(new FuzzTarget("bzimage", false, List.of("HdrS"), FORMAT, (in, s) -> BzImage.parse(in, "bzImage").release()));
        t.add(new FuzzTarget("ktap", true, List.of("KTAP version 1", "ok ", "not ok ", "# SKIP", " - ", "1..", "    "), FORMAT,
                (in, s) -> Ktap.parse(Arrays.asList(text(in).split("\n", -1)))));
        t.add(new FuzzTarget("dpkg-status", true, List.of("Package: ", "Status: install ok installed", "Version: ", "Depends: "),
                FORMAT, (in, s) -> {
                    DpkgStatus st = DpkgStatus.read(Files.write(s.resolve("status"), in));
                    st.version("adduser");
                    st.depends("adduser");
                }));
        t.add(new FuzzTarget("dpkg-file-lists", true, List.of("/usr", "/", "/."), FORMAT, (in, s) -> {
            Path info = Files.createDirectories(s.resolve("var/lib/dpkg/info"));
            Files.write(info.resolve("p.list"), in);
            DpkgFileLists.read(s).owners("/usr");
        }));
        t.add(new FuzzTarget("apt-sources-list", true, List.of("deb ", "deb-src ", "[", "]", "arch=amd64", "#"), FORMAT, (in, s) -> {
            Files.write(s.resolve("sources.list"), in);
            Files.deleteIfExists(s.resolve("sources.list.d/x.sources"));
            AptSources.read(s).debianMirror("bookworm");
        }));
        t.add(new FuzzTarget("apt-sources-deb822", true, List.of("Types: deb", "URIs: ", "Suites: ", "Components: ", "Enabled: no"),
                FORMAT, (in, s) -> {
                    Files.deleteIfExists(s.resolve("sources.list"));
                    Files.createDirectories(s.resolve("sources.list.d"));
                    Files.write(s.resolve("sources.list.d/x.sources"), in);
                    AptSources.read(s).debianMirror("bookworm");
                }));
        t.add(new FuzzTarget("os-release", true, List.of("ID=", "ID_LIKE=", "\"", "'"), FORMAT, (in, s) -> {
            Path f = Files.write(s.resolve("os-release"), in);
            OsRelease.read(f).isDebianFamily();
        }));
        t.add(new FuzzTarget("project-toml", true, List.of("name = ", "generation = ", "kdir = ", "[vmtest]", "expect = [", "]", "\","),
                FORMAT, (in, s) -> {
                    Files.write(s.resolve(ProjectToml.FILE), in);
                    ProjectToml.read(s).ifPresent(p -> p.expect().size());
                }));
        t.add(new FuzzTarget("kernel-manifest", true, List.of("{", "}", "[", "]", "\"schema\": ", "\"fragments\": ", "1e999", "-0"),
                FORMAT, (in, s) -> {
                    Files.write(s.resolve("rkmod-kernel.json"), in);
                    KernelManifest.read(s).ifPresent(KernelManifest::toJson);
                }));
        t.add(new FuzzTarget("package-manifest", true, List.of("{", "}", "[", "]", "\"files\": ", "\"size\": ", "1e999"), FORMAT,
                (in, s) -> {
                    Files.write(s.resolve(PackageManifest.FILE), in);
                    PackageManifest.read(s).ifPresent(PackageManifest::toJson);
                }));
        t.add(new FuzzTarget("headers-manifest", true, List.of("{", "}", "[", "]", "\"imagePaths\": ", "\"rustSymbols\": ", "1e999"),
                FORMAT, (in, s) -> {
                    Files.write(s.resolve(HeadersManifest.FILE), in);
                    HeadersManifest.read(s).ifPresent(HeadersManifest::toJson);
                }));
        t.add(new FuzzTarget("kernel-makefile", true, List.of("VERSION = ", "PATCHLEVEL = ", "SUBLEVEL = ", "EXTRAVERSION = "), FORMAT,
                (in, s) -> {
                    Files.write(s.resolve("Makefile"), in);
                    KernelMakefile.read(s).ifPresent(KernelMakefile::kernelVersion);
                }));
        t.add(new FuzzTarget("deb", false, List.of("!<arch>\n", "debian-binary   ", "control.tar.xz  ", "data.tar.zst    ", "2.0\n",
                "ustar", "././@LongLink"), FORMAT, FuzzTarget.DECOMPRESSING, (in, s) -> {
                    Path deb = Files.write(s.resolve("p.deb"), in);
                    try {
                        DebPackage.control(deb);
                    } catch (FormatException e) {
                        // typed; the data part is still read below
                    }
                    DebPackage.dataPaths(deb);
                    DebPackage.extractDataFile(deb, "/usr/share/doc/rkmod-fuzz/m.ko", s.resolve("out/m.ko"), 1 << 20);
                    deleteTree(s.resolve("tree"));
                    DebPackage.extractTree(deb, "/usr/share/doc", s.resolve("tree"), 1 << 20);
                }));
        t.add(new FuzzTarget("deb-control-text", true, List.of("Package: ", "Version: ", "Architecture: ", " .", "\t"), FORMAT,
                (in, s) -> DebPackage.Control.parse(text(in)).architecture()));
        t.add(new FuzzTarget("tar", false, List.of("ustar", "././@LongLink", "../", "/", "\u00fd7zXZ\0", "\u0028\u00b5\u002f\u00fd"), FORMAT,
                FuzzTarget.DECOMPRESSING, (in, s) -> {
                    Path archive = Files.write(s.resolve("a.tar"), in);
                    Path dest = s.resolve("dest");
                    deleteTree(dest);
                    Files.createDirectories(dest);
                    TarArchive.extract(archive, dest);
                }));
        t.add(new FuzzTarget("rustc-version", true, List.of("rustc ", "1.", ".", "-", " ("), FORMAT, (in, s) -> {
            RustcVersion v = RustcVersion.parse(text(in));
            v.release();
            v.compareRelease(RustcVersion.parse("rustc 1.78.0 (9b00956e5 2024-04-29)"));
        }));
        t.add(new FuzzTarget("source-date-epoch", true, List.of("1704067200", "-", " "), FORMAT,
                (in, s) -> PackageFiles.epoch(text(in))));
        return List.copyOf(t);
    }

    public static FuzzTarget byName(String name) {
        return all().stream().filter(x -> x.name().equals(name)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("no fuzz target " + name));
    }

    /** The seeds of a target: every file under {@code fuzz/NAME} on the test class path (modinfo and info share those of elf). */
    public static List<byte[]> seeds(String name) {
        String dir = switch (name) {
            case "modinfo", "info" -> "elf";
            default -> name;
        };
        List<byte[]> out = new ArrayList<>(files(Path.of("src/test/resources/fuzz", dir)));
        if (name.equals("info")) {
            out.addAll(files(Path.of("src/test/resources/fuzz/compressed-module")));
        }
        if (out.isEmpty()) {
            throw new IllegalStateException("no seeds for fuzz target " + name + " under src/test/resources/fuzz/" + dir);
        }
        return out;
    }

    /** The regular files of a directory, sorted by name; none when it is absent. */
    public static List<byte[]> files(Path dir) {
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(Files::isRegularFile).sorted(Comparator.comparing(Path::toString)).map(p -> {
                try {
                    return Files.readAllBytes(p);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }).toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The typed error of KernelConfig.read for bad .xz data. */
    static final class CorruptXz extends Exception {
        private static final long serialVersionUID = 1L;

        CorruptXz(IOException e) {
            super(e.getMessage(), e);
        }
    }

    private static String text(byte[] in) {
        return new String(in, StandardCharsets.UTF_8);
    }

    static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }
}
