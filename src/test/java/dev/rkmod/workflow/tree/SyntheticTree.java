package dev.rkmod.workflow.tree;

import dev.rkmod.format.RustFixtures;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * A small built 6.1 tree as an external-module build sees it, made of real rmeta files: Debian's rustc 1.63 compiles
 * a no_core crate for a custom target spec, and every {@code rust/lib*.rmeta} of the 6.1 set is a copy of it. The
 * rest (Makefile, .config, Module.symvers, modpost, ...) are stand-ins of the right names.
 */
public final class SyntheticTree {
    /** The version string the rmeta files carry. */
    public static final String RUSTC = "rustc 1.63.0";
    public static final List<String> CRATES = List.of("alloc", "bindings", "compiler_builtins", "core", "kernel");

    private SyntheticTree() {
    }

    /** A target spec and a crate built for it by Debian's rustc, made once into {@code dir}. */
    public record Fixtures(Path targetSpec, Path rmeta) {
        public static Fixtures make(Path dir) throws IOException, InterruptedException {
            Files.createDirectories(dir);
            Map<String, String> env = Map.of("RUSTC_BOOTSTRAP", "1");
            String rustc = RustFixtures.DEBIAN_RUSTC.toString();
            RustFixtures.Result spec = RustFixtures.run(dir, env, rustc, "-Zunstable-options", "--print", "target-spec-json",
                    "--target", "x86_64-unknown-none");
            if (spec.exit() != 0) {
                throw new AssertionError(spec.out());
            }
            // a custom target may not claim to be built in
            String json = String.join("\n", spec.out().lines().filter(l -> !l.contains("\"is-builtin\"")).toList()) + "\n";
            Path target = Files.writeString(dir.resolve("target.json"), json);
            Files.writeString(dir.resolve("core.rs"), "#![feature(no_core)]\n#![no_core]\n");
            RustFixtures.Result r = RustFixtures.run(dir, env, rustc, "--target", "target.json", "--crate-type=lib",
                    "--emit=metadata", "--crate-name", "core", "core.rs", "-o", "libcore.rmeta");
            if (r.exit() != 0) {
                throw new AssertionError(r.out());
            }
            return new Fixtures(target, dir.resolve("libcore.rmeta"));
        }
    }

    /** Writes the tree into {@code dir}; {@code config} lines are added to .config. */
    public static Path write(Path dir, Fixtures f, String... config) throws IOException {
        Files.createDirectories(dir.resolve("rust"));
        for (String d : List.of("include/config", "include/generated", "scripts/mod")) {
            Files.createDirectories(dir.resolve(d));
        }
        StringBuilder cfg = new StringBuilder("CONFIG_64BIT=y\nCONFIG_RUST=y\nCONFIG_RUSTC_VERSION_TEXT=\"" + RUSTC + "\"\n");
        Arrays.stream(config).forEach(l -> cfg.append(l).append('\n'));
        Files.writeString(dir.resolve(".config"), cfg);
        Files.writeString(dir.resolve("Makefile"), "VERSION = 6\nPATCHLEVEL = 1\n");
        Files.writeString(dir.resolve("include/config/kernel.release"), "6.1.0-synthetic\n");
        Files.writeString(dir.resolve("include/config/auto.conf"), cfg);
        Files.writeString(dir.resolve("include/generated/autoconf.h"), "#define CONFIG_RUST 1\n");
        Files.writeString(dir.resolve("include/generated/rustc_cfg"), "--cfg=CONFIG_RUST\n");
        Files.writeString(dir.resolve("scripts/mod/modpost"), "");
        Files.writeString(dir.resolve("scripts/rust_is_available.sh"), "#!/bin/sh\n");
        Files.writeString(dir.resolve("Module.symvers"), "");
        Files.write(dir.resolve("rust/libmacros.so"), new byte[] {0x7f, 'E', 'L', 'F'});
        Files.copy(f.targetSpec(), dir.resolve("rust/target.json"));
        for (String c : CRATES) {
            Files.copy(f.rmeta(), dir.resolve("rust/lib" + c + ".rmeta"));
        }
        return dir;
    }

    /** Replaces the rustc version in an rmeta header by one of the same length ("rustc 1.61.0"). */
    public static void stamp(Path rmeta, String version) throws IOException {
        byte[] from = RUSTC.getBytes(StandardCharsets.UTF_8);
        byte[] to = version.getBytes(StandardCharsets.UTF_8);
        if (from.length != to.length) {
            throw new IllegalArgumentException(version);
        }
        byte[] data = Files.readAllBytes(rmeta);
        for (int i = 0; i + from.length <= data.length; i++) {
            if (Arrays.equals(data, i, i + from.length, from, 0, from.length)) {
                System.arraycopy(to, 0, data, i, to.length);
                Files.write(rmeta, data);
                return;
            }
        }
        throw new AssertionError(rmeta + " has no " + RUSTC);
    }
}
