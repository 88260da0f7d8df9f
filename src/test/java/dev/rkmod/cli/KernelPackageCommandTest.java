package dev.rkmod.cli;

import com.google.gson.JsonParser;
import dev.rkmod.format.DebPackage;
import dev.rkmod.infra.host.Host;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * `rkmod kernel package` in-process on a synthetic build tree (manifest, image, System.map, config, a gcc-made
 * module in modules.order) and the host's depmod.
 */
class KernelPackageCommandTest {
    static final String RELEASE = "6.1.77-rkmod-test";
    @TempDir
    Path fs;
    Path tree;
    Map<String, String> env;

    @BeforeEach
    void setUp() throws Exception {
        env = new HashMap<>(System.getenv());
        env.put("XDG_CACHE_HOME", fs.resolve("cache").toString());
        env.remove("SOURCE_DATE_EPOCH");
        tree = Files.createDirectories(fs.resolve("tree"));
        Files.writeString(tree.resolve("rkmod-kernel.json"), "{\"schema\": 1, \"release\": \"" + RELEASE + "\", \"version\": \""
                + RELEASE + "\", \"arch\": \"x86\", \"base\": \"tiny-rust\", \"toolchainProfile\": \"6.1\", \"rustc\": \"rustc 1.63.0\","
                + " \"bindgen\": \"bindgen 0.60.1\", \"clang\": \"clang 14\", \"bzImage\": \"arch/x86/boot/bzImage\"}");
        Files.createDirectories(tree.resolve("arch/x86/boot"));
        Files.write(tree.resolve("arch/x86/boot/bzImage"), new byte[] {1, 2, 3, 4});
        Files.writeString(tree.resolve("System.map"), "ffffffff81000000 T _text\n");
        Files.writeString(tree.resolve(".config"), "CONFIG_MODULES=y\n");
        Files.writeString(tree.resolve("modules.order"), "samples/rust/rust_minimal.o\n");
        Files.writeString(tree.resolve("modules.builtin"), "");
        Path dir = Files.createDirectories(tree.resolve("samples/rust"));
        Path c = dir.resolve("rust_minimal.c");
        Files.writeString(c, "__attribute__((section(\".modinfo\"), used)) static const char b[] = \"name=rust_minimal\";\n"
                + "__attribute__((section(\".modinfo\"), used)) static const char d[] = \"vermagic=" + RELEASE + " mod_unload \";\n");
        Process p = new ProcessBuilder("gcc", "-c", c.toString(), "-o", dir.resolve("rust_minimal.ko").toString()).start();
        assertThat(p.waitFor(5, TimeUnit.MINUTES)).isTrue();
        assertThat(p.exitValue()).isZero();
    }

    private CliRun run(String... args) {
        return CliRun.run(new Host(fs, 0, env), args);
    }

    @Test
    void theDebHoldsImageMapConfigAndModulesAsModulesInstallLaysThemOutAndIsReproducible() throws Exception {
        CliRun r = run("kernel", "package", "--kdir", tree.toString(), "--out", fs.resolve("a").toString(), "--format", "deb", "--json");
        assertThat(r.exit()).as(r.err()).isZero();
        Path deb = Path.of(JsonParser.parseString(r.out()).getAsJsonObject().get("file").getAsString());
        assertThat(deb.getFileName().toString()).matches("linux-image-" + RELEASE + "_" + RELEASE + "-1_[a-z0-9]+\\.deb");
        assertThat(DebPackage.dataPaths(deb)).contains("/boot/vmlinuz-" + RELEASE, "/boot/System.map-" + RELEASE,
                "/boot/config-" + RELEASE, "/lib/modules/" + RELEASE + "/kernel/samples/rust/rust_minimal.ko",
                "/lib/modules/" + RELEASE + "/modules.order", "/lib/modules/" + RELEASE + "/modules.dep",
                "/lib/modules/" + RELEASE + "/modules.builtin");
        Path order = fs.resolve("order");
        assertThat(DebPackage.extractDataFile(deb, "/lib/modules/" + RELEASE + "/modules.order", order)).isTrue();
        assertThat(order).hasContent("kernel/samples/rust/rust_minimal.ko");
        Path dep = fs.resolve("dep");
        assertThat(DebPackage.extractDataFile(deb, "/lib/modules/" + RELEASE + "/modules.dep", dep)).isTrue();
        assertThat(dep).hasContent("kernel/samples/rust/rust_minimal.ko:");
        assertThat(DebPackage.control(deb).field("Description").orElseThrow()).contains("rustc 1.63.0");

        CliRun again = run("kernel", "package", "--kdir", tree.toString(), "--out", fs.resolve("b").toString(), "--format", "deb");
        assertThat(again.exit()).isZero();
        assertThat(fs.resolve("b").resolve(deb.getFileName())).hasSameBinaryContentAs(deb);
        try (var s = Files.list(fs.resolve("b"))) {
            assertThat(s.map(p -> p.getFileName().toString()).toList()).as("no staging left behind")
                    .containsExactly(deb.getFileName().toString());
        }

        env.put("SOURCE_DATE_EPOCH", "1700000000");
        assertThat(run("kernel", "package", "--kdir", tree.toString(), "--out", fs.resolve("c").toString(), "--format", "deb")
                .exit()).isZero();
        assertThat(Files.readAllBytes(fs.resolve("c").resolve(deb.getFileName()))).isNotEqualTo(Files.readAllBytes(deb));
    }

    @Test
    void theArchPackageHasArchsLayout() throws Exception {
        CliRun r = run("kernel", "package", "--kdir", tree.toString(), "--out", fs.resolve("a").toString(), "--format", "arch");
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(r.out()).contains("linux-rust-" + RELEASE.replace('-', '_') + "-1-x86_64.pkg.tar.zst");
    }

    @Test
    void incompleteTreesAreRefused() throws Exception {
        Files.delete(tree.resolve("samples/rust/rust_minimal.ko"));
        CliRun r = run("kernel", "package", "--kdir", tree.toString(), "--out", fs.resolve("a").toString(), "--format", "deb");
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).contains("lacks samples/rust/rust_minimal.ko, which modules.order lists");
        assertThat(fs.resolve("a")).isEmptyDirectory();

        Files.delete(tree.resolve("rkmod-kernel.json"));
        CliRun none = run("kernel", "package", "--kdir", tree.toString(), "--out", fs.resolve("a").toString(), "--format", "deb");
        assertThat(none.exit()).isEqualTo(2);
        assertThat(none.err()).contains("is not a kernel built by rkmod");

        CliRun fmt = run("kernel", "package", "--kdir", tree.toString(), "--out", fs.resolve("a").toString(), "--format", "rpm");
        assertThat(fmt.exit()).isEqualTo(2);
    }
}
