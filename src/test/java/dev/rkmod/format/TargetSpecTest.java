package dev.rkmod.format;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class TargetSpecTest {
    @TempDir
    Path tmp;

    private static final String SPEC = """
            {
                "arch": "x86_64",
                "data-layout": "e-m:e-p270:32:32-p271:32:32-p272:64:64-i64:64-i128:128-f80:128-n8:16:32:64-S128",
                "features": "-3dnow,-3dnowa,-mmx,+soft-float",
                "llvm-target": "x86_64-linux-gnu",
                "target-pointer-width": "64"
            }
            """;

    /** The hash equals what Rust's own DefaultHasher gives the same string (computed by a program rustc builds here). */
    @Test
    void hashMatchesRustsDefaultHasher() throws Exception {
        Files.writeString(tmp.resolve("h.rs"), """
                use std::hash::{Hash, Hasher};
                use std::collections::hash_map::DefaultHasher;
                fn main() {
                    let s = std::fs::read_to_string(std::env::args().nth(1).unwrap()).unwrap();
                    let mut h = DefaultHasher::new();
                    s.hash(&mut h);
                    println!("{}", h.finish());
                }
                """);
        RustFixtures.Result c = RustFixtures.run(tmp, Map.of(), RustFixtures.RUSTUP_RUSTC.toString(), "h.rs", "-o", "h");
        assertThat(c.exit()).as(c.out()).isZero();
        for (String content : new String[] {SPEC, "", "x", "12345678", "123456789abcdefgh"}) {
            Path f = tmp.resolve("target.json");
            Files.writeString(f, content);
            String expected = RustFixtures.run(tmp, Map.of(), tmp.resolve("h").toString(), f.toString()).out().strip();
            assertThat(Long.toUnsignedString(TargetSpec.read(f).hash())).as("contents %s", content).isEqualTo(expected);
        }
        assertThat(TargetSpec.read(tmp.resolve("target.json")).rustcTriple()).startsWith("target-");
    }

    /**
     * A real E0461 from rustup's rustc: a crate is built for a custom target, the target file then
     * changes, and a dependent crate fails. rustc prints the old file's triple; ours must be the same.
     */
    @Test
    void reproducesTheTripleRustcPrintsInE0461() throws Exception {
        Map<String, String> env = Map.of("RUSTC_BOOTSTRAP", "1");
        String rustc = RustFixtures.RUSTUP_RUSTC.toString();
        RustFixtures.Result spec = RustFixtures.run(tmp, env, rustc, "-Zunstable-options", "--print", "target-spec-json",
                "--target", "x86_64-unknown-none");
        assertThat(spec.exit()).as(spec.out()).isZero();
        Path target = tmp.resolve("target.json");
        Files.writeString(target, spec.out());
        TargetSpec original = TargetSpec.read(target);
        Files.writeString(tmp.resolve("a.rs"), "#![feature(no_core)]\n#![no_core]\n");
        Files.writeString(tmp.resolve("b.rs"), "#![feature(no_core)]\n#![no_core]\nextern crate a;\n");
        RustFixtures.Result a = RustFixtures.run(tmp, env, rustc, "-Zunstable-options", "--target", "target.json",
                "--crate-type=lib", "--emit=metadata", "a.rs", "-o", "liba.rmeta");
        assertThat(a.exit()).as(a.out()).isZero();
        Files.writeString(target, spec.out().replace("\"arch\": \"x86_64\"", "\"arch\": \"x86_64\" "));
        RustFixtures.Result b = RustFixtures.run(tmp, env, rustc, "-Zunstable-options", "--target", "target.json",
                "--crate-type=lib", "--emit=metadata", "b.rs", "-L", ".");
        assertThat(b.exit()).isNotZero();
        assertThat(b.out()).contains("error[E0461]");
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("target triple (target-\\d+)").matcher(b.out());
        assertThat(m.find()).as(b.out()).isTrue();
        assertThat(original.rustcTriple()).isEqualTo(m.group(1));
        assertThat(TargetSpec.read(target).rustcTriple()).isNotEqualTo(m.group(1));
    }
}
