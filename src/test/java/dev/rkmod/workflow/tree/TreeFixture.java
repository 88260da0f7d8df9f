package dev.rkmod.workflow.tree;

import dev.rkmod.format.KernelManifest;
import dev.rkmod.format.PackageManifest;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;

/** A small built 6.1 tree with synthetic rmeta headers, and the manifests rkmod writes about such trees. */
public final class TreeFixture {
    public static final String RELEASE = "6.1.192";
    public static final String RUSTC = "rustc 1.63.0";
    public static final List<String> CRATES = List.of("alloc", "bindings", "compiler_builtins", "core", "kernel");

    private TreeFixture() {
    }

    /** A tree that {@link KernelTree#open} accepts, every crate made by {@code rustc}; no manifest. */
    public static Path tree(Path dir, String rustc) throws IOException {
        write(dir, "Makefile", "VERSION = 6\nPATCHLEVEL = 1\n");
        write(dir, ".config", "CONFIG_RUST=y\nCONFIG_CC_IS_CLANG=y\nCONFIG_X86_64=y\nCONFIG_X86=y\nCONFIG_MODULES=y\n");
        write(dir, "include/config/auto.conf", "CONFIG_RUST=y\n");
        write(dir, "include/config/kernel.release", RELEASE + "\n");
        write(dir, "include/generated/autoconf.h", "#define CONFIG_RUST 1\n");
        write(dir, "include/generated/rustc_cfg", "--cfg=CONFIG_RUST\n");
        write(dir, "scripts/mod/modpost", "");
        write(dir, "scripts/rust_is_available.sh", "#!/bin/sh\n");
        write(dir, "Module.symvers", "0x12345678\tprintk\tvmlinux\tEXPORT_SYMBOL\t\n");
        write(dir, "rust/target.json", "{\"llvm-target\": \"x86_64-linux-gnu\"}\n");
        for (String c : CRATES) {
            Files.write(dir.resolve("rust/lib" + c + ".rmeta"), rmeta(rustc, c.length() * 10));
        }
        return dir;
    }

    /**
     * Appends to a crate's synthetic rmeta the string literal an exported macro that includes {@code path} from the
     * object tree leaves in real metadata (LEB128 length, the bytes, the sentinel 0xC1), as kernel::warn_on! does.
     */
    public static void includeFromObjtree(Path dir, String crate, String path) throws IOException {
        byte[] lit = ("/" + path).getBytes(StandardCharsets.US_ASCII);
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        b.writeBytes(Files.readAllBytes(dir.resolve("rust/lib" + crate + ".rmeta")));
        b.write(lit.length);
        b.writeBytes(lit);
        b.write(0xC1);
        Files.write(dir.resolve("rust/lib" + crate + ".rmeta"), b.toByteArray());
    }

    /** An rmeta header (12-byte layout) naming {@code rustc}, then {@code padding} bytes. */
    public static byte[] rmeta(String rustc, int padding) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        b.writeBytes(new byte[] {'r', 'u', 's', 't', 0, 0, 0, 6, 0, 0, 0, 0});
        byte[] v = rustc.getBytes(StandardCharsets.UTF_8);
        b.write(v.length);
        b.writeBytes(v);
        b.write(0xC1);
        b.writeBytes(new byte[padding]);
        return b.toByteArray();
    }

    /** The manifest 'rkmod kernel build' writes for the tree as it is now. */
    public static KernelManifest.Builder kernelManifest(Path dir) throws IOException {
        return KernelManifest.builder().release(RELEASE).version(RELEASE).arch("x86").generation("6.1").base("tiny-rust")
                .configSha256(sha256(dir.resolve(".config"))).toolchain("host /usr/bin/rustc").toolchainProfile("6.1")
                .rustcPath("/usr/bin/rustc").rustc(RUSTC).bzImage("arch/x86/boot/bzImage");
    }

    /** The manifest 'rkmod package' writes for the tree as it is now, recording {@code rustc}. */
    public static PackageManifest packageManifest(Path dir, String rustc) throws IOException {
        List<PackageManifest.Entry> entries = new ArrayList<>();
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.filter(Files::isRegularFile).sorted().toList()) {
                entries.add(new PackageManifest.Entry(dir.relativize(p).toString(), Files.size(p), sha256(p)));
            }
        }
        return new PackageManifest(1, RELEASE, "x86", true, rustc, null, "6.1", "rust/target.json", "target-1", null, entries, List.of(), null);
    }

    public static void write(Path dir, String rel, String text) throws IOException {
        Path p = dir.resolve(rel);
        Files.createDirectories(p.getParent());
        Files.writeString(p, text, StandardCharsets.UTF_8);
    }

    static String sha256(Path p) throws IOException {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(p)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
