package dev.rkmod.format;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** rkmod-kernel.json is the same on disk whether it is made by the builder or read and written back. */
class KernelManifestTest {
    /** Written by 'rkmod kernel build' before the builder existed (the 6.12 tiny-rust kernel, no newline at the end). */
    static final String WRITTEN = """
            {
              "schema": 1,
              "release": "6.12.117",
              "version": "6.12.117",
              "arch": "x86",
              "generation": "6.13",
              "source": "/root/.cache/rkmod/root/b3e7/root/usr/src/linux-source-6.12.tar.xz",
              "sourceIdentity": "3b8ee8eaec6ff5e1661343ff73ac04ce59d020f552f29543c02f571960d75345",
              "base": "tiny-rust",
              "fragments": [
                "/tmp/a.config",
                "/tmp/b.config"
              ],
              "fixRust": true,
              "configSha256": "cfc4191e50083feff2092e7971b1bba8d17c67b8675dc2988eff9333fd3bd331",
              "toolchain": "Debian root /root/.cache/rkmod/root/b3e7/root",
              "toolchainProfile": "6.12",
              "toolchainRoot": null,
              "rustcPath": "/usr/bin/rustc",
              "rustc": "rustc 1.85.1 (4eb161250 2025-03-15) (built from a source tarball)",
              "bindgen": "bindgen 0.71.1",
              "clang": "Debian clang version 19.1.7 (3+b1)",
              "lld": "Debian LLD 19.1.7 (compatible with GNU linkers)",
              "llvm": "Debian LLVM version 19.1.7",
              "buildSeconds": 250,
              "objects": 1232,
              "bzImage": "arch/x86/boot/bzImage",
              "builtAt": "2026-11-29T10:38:29.316363015Z"
            }""";

    static KernelManifest built() {
        return KernelManifest.builder()
                .release("6.12.117").version("6.12.117").arch("x86").generation("6.13")
                .source("/root/.cache/rkmod/root/b3e7/root/usr/src/linux-source-6.12.tar.xz")
                .sourceIdentity("3b8ee8eaec6ff5e1661343ff73ac04ce59d020f552f29543c02f571960d75345")
                .base("tiny-rust").fragments(List.of("/tmp/a.config", "/tmp/b.config")).fixRust(true)
                .configSha256("cfc4191e50083feff2092e7971b1bba8d17c67b8675dc2988eff9333fd3bd331")
                .toolchain("Debian root /root/.cache/rkmod/root/b3e7/root").toolchainProfile("6.12")
                .rustcPath("/usr/bin/rustc").rustc("rustc 1.85.1 (4eb161250 2025-03-15) (built from a source tarball)")
                .bindgen("bindgen 0.71.1").clang("Debian clang version 19.1.7 (3+b1)")
                .lld("Debian LLD 19.1.7 (compatible with GNU linkers)").llvm("Debian LLVM version 19.1.7")
                .buildSeconds(250).objects(1232).bzImage("arch/x86/boot/bzImage").builtAt("2026-11-29T10:38:29.316363015Z")
                .build();
    }

    @Test
    void theBuilderWritesTheSameJsonAsBefore() {
        assertThat(built().toJson()).isEqualTo(WRITTEN);
        assertThat(built()).isEqualTo(KernelManifest.fromJson(WRITTEN));
    }

    @Test
    void readingAndWritingBackChangesNoByte(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve(KernelManifest.FILE), WRITTEN, StandardCharsets.UTF_8);
        KernelManifest m = KernelManifest.read(dir).orElseThrow();
        assertThat(m.toJson()).isEqualTo(WRITTEN);
        assertThat(m.schema()).isEqualTo(KernelManifest.SCHEMA);
        assertThat(m.toolchainRoot()).isNull();
        assertThat(m.fragments()).containsExactly("/tmp/a.config", "/tmp/b.config");
    }

    @Test
    void unsetValuesAreNullsAndAnEmptyFragmentList() {
        KernelManifest m = KernelManifest.builder().release("6.1.192").build();
        assertThat(m.toJson()).contains("\"schema\": 1,").contains("\"fragments\": [],").contains("\"rustc\": null,")
                .contains("\"objects\": 0,");
    }

    /** The manifests of this machine's cached kernels, when there are any, round-trip byte for byte too. */
    @Test
    void cachedManifestsRoundTrip() throws Exception {
        Path kernels = Path.of(System.getProperty("user.home"), ".cache/rkmod/kernel");
        if (!Files.isDirectory(kernels)) {
            return;
        }
        try (Stream<Path> s = Files.list(kernels)) {
            for (Path dir : s.filter(d -> Files.isRegularFile(d.resolve(KernelManifest.FILE))).toList()) {
                String text = Files.readString(dir.resolve(KernelManifest.FILE), StandardCharsets.UTF_8);
                assertThat(KernelManifest.fromJson(text).toJson()).as(dir.toString()).isEqualTo(text);
            }
        }
    }
    /** What Gson alone reads (the reader before the flat one), for comparison. */
    static KernelManifest gson(String json) {
        return new com.google.gson.Gson().fromJson(json, KernelManifest.class);
    }

    @Test
    void theFlatReaderReadsWhatGsonReadsAndLeavesOddShapesToIt() {
        assertThat(KernelManifest.fromJson(WRITTEN)).isEqualTo(gson(WRITTEN)).isNotNull();
        assertThat(FlatJson.parse(WRITTEN)).containsEntry("objects", 1232L).containsEntry("toolchainRoot", null)
                .containsEntry("fragments", java.util.List.of("/tmp/a.config", "/tmp/b.config"));
        String escaped = "{\"release\": \"a\\\"b\\\\c\\u00e9\\n\", \"unknown\": 5}";
        assertThat(KernelManifest.fromJson(escaped)).isEqualTo(gson(escaped));
        assertThat(KernelManifest.fromJson(escaped).release()).isEqualTo("a\"b\\c\u00e9\n");
        // shapes the flat reader refuses: Gson's reading stands (a number as a string, a nested object, a float)
        for (String odd : java.util.List.of("{\"objects\": \"12\", \"release\": 7}", "{\"release\": \"r\", \"x\": {\"y\": 1}}",
                "{\"buildSeconds\": 250, \"schema\": 1.0}")) {
            assertThat(KernelManifest.fromJson(odd)).as(odd).isEqualTo(gson(odd));
        }
        assertThatThrownBy(() -> FlatJson.parse("{\"x\": {\"y\": 1}}")).isInstanceOf(FormatException.class);
        // an object of strings (a cache entry's inputs) is read, in order
        assertThat(FlatJson.parse("{\"inputs\": {\"b\": \"1\", \"a\": \"\\u00e9\"}, \"k\": \"v\"}").get("inputs"))
                .isEqualTo(java.util.Map.of("b", "1", "a", "\u00e9"));
        assertThatThrownBy(() -> FlatJson.parse("{\"x\": {\"y\": \"1\", \"y\": \"2\"}}")).isInstanceOf(FormatException.class);
        assertThatThrownBy(() -> FlatJson.parse("{\"schema\": 1.0}")).isInstanceOf(FormatException.class);
        assertThatThrownBy(() -> FlatJson.parse("{\"a\": \"b\"} trailing")).isInstanceOf(FormatException.class);
    }
}
