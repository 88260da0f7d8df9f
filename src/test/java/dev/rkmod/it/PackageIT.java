package dev.rkmod.it;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Packages the real 6.1 and 6.12 builds, extracts them elsewhere and builds a C and a Rust module
 * there while the original build tree is hidden (renamed).
 */
class PackageIT {
    @ItSetup.Work("rkmod-pkg")
    static Path work;
    static Path kdir61;
    static Path kdir612;

    @BeforeAll
    static void kernels() throws Exception {
        kdir61 = ItSetup.kernel("6.1");
        kdir612 = ItSetup.kernel("6.12");
    }

    static JsonObject pack(Path kdir, Path out, String format) throws Exception {
        Rkmod.Result r = Rkmod.jar(Map.of("SOURCE_DATE_EPOCH", "1700000000"), "package", "--kdir", kdir.toString(),
                "--out", out.toString(), "--format", format, "--json");
        assertThat(r.exit()).as(r.err()).isZero();
        return JsonParser.parseString(r.out()).getAsJsonObject();
    }

    static void extract(Path archive, Path dest) throws Exception {
        Files.createDirectories(dest);
        ItSetup.run(List.of("tar", "-xf", archive.toString(), "-C", dest.toString(), "--zstd"));
    }

    private static void buildsThere(Path kdir, Path archive, String rustc, String moduleSource, boolean inRoot)
            throws Exception {
        Path pkg = work.resolve("elsewhere-" + kdir.getFileName()).resolve("linux");
        extract(archive, pkg);
        assertThat(pkg.resolve("rkmod-package.json")).exists();
        try (Stream<Path> s = Files.walk(pkg)) {
            assertThat(s.filter(p -> p.toString().endsWith(".o"))).as("no object files").isEmpty();
        }
        Path c = Files.createDirectories(work.resolve("c-" + kdir.getFileName()));
        Files.writeString(c.resolve("hello_c.c"), """
                #include <linux/module.h>
                static int __init hello_init(void) { pr_info("hello\\n"); return 0; }
                static void __exit hello_exit(void) { }
                module_init(hello_init);
                module_exit(hello_exit);
                MODULE_LICENSE("GPL");
                """);
        Files.writeString(c.resolve("Kbuild"), "obj-m := hello_c.o\n");
        Path rs = Files.createDirectories(work.resolve("rs-" + kdir.getFileName()));
        Files.writeString(rs.resolve("hello_rs.rs"), moduleSource);
        Files.writeString(rs.resolve("Kbuild"), "obj-m := hello_rs.o\n");
        // the original build tree is hidden (renamed) meanwhile
        ItSetup.hidden(List.of(kdir), () -> {
            for (Path m : List.of(c, rs)) {
                make(pkg, m, rustc, inRoot);
            }
        });
        assertThat(c.resolve("hello_c.ko")).isRegularFile();
        assertThat(rs.resolve("hello_rs.ko")).isRegularFile();
    }

    /** A real make M= build; for the 6.12 package the toolchain is the trixie root's, so make runs there. */
    private static void make(Path pkg, Path module, String rustc, boolean inRoot) throws Exception {
        List<String> make = List.of("make", "-C", pkg.toString(), "M=" + module, "LLVM=1", "RUSTC=" + rustc, "modules");
        List<String> argv = make;
        Path root = null;
        if (inRoot) {
            root = Path.of(JsonParser.parseString(Rkmod.jar(Map.of(), "deps", "--profile", "6.12", "--json").out())
                    .getAsJsonObject().getAsJsonArray("profiles").get(0).getAsJsonObject().getAsJsonObject("root")
                    .get("path").getAsString());
            for (Path p : List.of(pkg.getParent(), module, Path.of("/proc"))) {
                Path target = root.resolve(p.toString().substring(1));
                Files.createDirectories(target);
                ItSetup.run(List.of("mount", "--bind", p.toString(), target.toString()));
            }
            argv = new java.util.ArrayList<>(List.of("chroot", root.toString()));
            argv.addAll(make);
        }
        try {
            ItSetup.run(argv);
        } finally {
            if (inRoot) {
                for (Path p : List.of(pkg.getParent(), module, Path.of("/proc"))) {
                    ItSetup.run(List.of("umount", root.resolve(p.toString().substring(1)).toString()));
                }
            }
        }
    }

    static final String MODULE_61 = """
            use kernel::prelude::*;
            module! { type: Hello, name: b"hello_rs", author: b"it", description: b"it", license: b"GPL", }
            struct Hello;
            impl kernel::Module for Hello {
                fn init(_module: &'static ThisModule) -> Result<Self> { pr_info!("hi\\n"); Ok(Hello) }
            }
            """;

    static final String MODULE_612 = """
            use kernel::prelude::*;
            module! { type: Hello, name: "hello_rs", author: "it", description: "it", license: "GPL", }
            struct Hello { v: KVec<u8> }
            impl kernel::Module for Hello {
                fn init(_module: &'static ThisModule) -> Result<Self> {
                    let mut v = KVec::new();
                    v.push(1, GFP_KERNEL)?;
                    Ok(Hello { v })
                }
            }
            """;

    @Test
    void package61BuildsCAndRustModulesElsewhereWithoutTheBuildTree() throws Exception {
        Path archive = work.resolve("linux-6.1.tar.zst");
        JsonObject j = pack(kdir61, archive, "tar.zst");
        assertThat(j.get("rustc").getAsString()).isEqualTo("rustc 1.63.0");
        assertThat(j.getAsJsonObject("verification").getAsJsonArray("modules")).hasSize(2);
        buildsThere(kdir61, archive, "/usr/bin/rustc", MODULE_61, false);
    }

    @Test
    void package612BuildsCAndRustModulesElsewhereWithTheTrixieRustc() throws Exception {
        Path archive = work.resolve("linux-6.12.tar.zst");
        JsonObject j = pack(kdir612, archive, "tar.zst");
        assertThat(j.get("rustc").getAsString()).endsWith("(built from a source tarball)");
        assertThat(j.get("generation").getAsString()).isEqualTo("6.13");
        buildsThere(kdir612, archive, "/usr/bin/rustc", MODULE_612, true);
    }

    @Test
    void theRustSetIsCompleteAndProcMacrosAreStripped() throws Exception {
        Path dir = work.resolve("dir-6.1");
        pack(kdir61, dir, "dir");
        try (Stream<Path> s = Files.list(kdir61.resolve("rust"))) {
            for (Path p : s.filter(p -> p.toString().endsWith(".rmeta")).toList()) {
                assertThat(dir.resolve("rust").resolve(p.getFileName())).hasSameBinaryContentAs(p);
            }
        }
        assertThat(dir.resolve("rust/target.json")).hasSameBinaryContentAs(kdir61.resolve("rust/target.json"));
        assertThat(Files.size(dir.resolve("rust/libmacros.so"))).isLessThan(Files.size(kdir61.resolve("rust/libmacros.so")) / 3);
        assertThat(dir.resolve("rust-toolchain")).content().contains("1.63.0");
        assertThat(dir.resolve("include/generated/rustc_cfg")).exists();
        assertThat(dir.resolve("certs/signing_key.pem")).doesNotExist();
        JsonObject m = JsonParser.parseString(Files.readString(dir.resolve("rkmod-package.json"))).getAsJsonObject();
        assertThat(m.get("targetTriple").getAsString()).matches("target-\\d+");
        assertThat(m.get("llvm").getAsBoolean()).isTrue();
        // re-packaging a package works
        JsonObject again = pack(dir, work.resolve("again.tar.xz"), "tar.xz");
        assertThat(again.get("files").getAsInt()).isEqualTo(m.getAsJsonArray("files").size());
    }

    @Test
    void twoPackagingsAreByteIdentical() throws Exception {
        Path a = work.resolve("a.tar.zst");
        Path b = work.resolve("b.tar.zst");
        Rkmod.Result ra = Rkmod.jar(Map.of("SOURCE_DATE_EPOCH", "0"), "package", "--kdir", kdir61.toString(), "--out",
                a.toString(), "--format", "tar.zst", "--no-verify");
        Rkmod.Result rb = Rkmod.jar(Map.of("SOURCE_DATE_EPOCH", "0"), "package", "--kdir", kdir61.toString(), "--out",
                b.toString(), "--format", "tar.zst", "--no-verify");
        assertThat(ra.exit()).as(ra.err()).isZero();
        assertThat(rb.exit()).as(rb.err()).isZero();
        assertThat(a).hasSameBinaryContentAs(b);
    }

    @Test
    void aTreeWithoutLibcoreFailsVerificationNamingIt() throws Exception {
        Path copy = work.resolve("no-core");
        Rkmod.Result p = Rkmod.jar(Map.of(), "package", "--kdir", kdir61.toString(), "--out", copy.toString(), "--no-verify");
        assertThat(p.exit()).as(p.err()).isZero();
        Files.delete(copy.resolve("rust/libcore.rmeta"));
        Path out = work.resolve("no-core.tar.zst");
        Rkmod.Result r = Rkmod.jar(Map.of(), "package", "--kdir", copy.toString(), "--out", out.toString(), "--format", "tar.zst");
        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.err()).contains("Verification failed: the package lacks rust/libcore.rmeta");
        assertThat(out).doesNotExist();
    }

    @Test
    void anExistingDestinationIsRefusedWithoutForce() throws Exception {
        Path out = Files.createDirectories(work.resolve("exists"));
        Rkmod.Result r = Rkmod.jar(Map.of(), "package", "--kdir", kdir61.toString(), "--out", out.toString());
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).contains("already exists").contains("--force");
        Rkmod.Result overlap = Rkmod.jar(Map.of(), "package", "--kdir", kdir61.toString(), "--out",
                kdir61.getParent().toString(), "--force");
        assertThat(overlap.exit()).isEqualTo(2);
        assertThat(overlap.err()).contains("overlap");
        assertThat(kdir61.resolve("Makefile")).exists();
    }

    @Test
    void notABuiltTreeOrNoRustIsExit3() throws Exception {
        Path notTree = Files.createDirectories(work.resolve("empty"));
        Rkmod.Result r = Rkmod.jar(Map.of(), "package", "--kdir", notTree.toString(), "--out", work.resolve("x").toString());
        assertThat(r.exit()).isEqualTo(3);
        assertThat(r.err()).contains("is not a built kernel tree");

        Path noRust = work.resolve("no-rust");
        assertThat(Rkmod.jar(Map.of(), "package", "--kdir", kdir61.toString(), "--out", noRust.toString(), "--no-verify").exit())
                .isZero();
        Path config = noRust.resolve(".config");
        Files.writeString(config, Files.readString(config).replace("CONFIG_RUST=y", "# CONFIG_RUST is not set"));
        Rkmod.Result r2 = Rkmod.jar(Map.of(), "package", "--kdir", noRust.toString(), "--out", work.resolve("y").toString());
        assertThat(r2.exit()).isEqualTo(3);
        assertThat(r2.err()).contains("was built without CONFIG_RUST");
    }
}
