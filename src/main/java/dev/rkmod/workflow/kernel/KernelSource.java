package dev.rkmod.workflow.kernel;

import dev.rkmod.format.KernelMakefile;
import dev.rkmod.infra.cache.CacheEntry;
import dev.rkmod.infra.cache.CacheKey;
import dev.rkmod.infra.event.Stage;
import dev.rkmod.infra.process.ProcessFailedException;
import dev.rkmod.infra.process.ProcessSpec;
import dev.rkmod.model.ExitCode;
import dev.rkmod.model.RkmodException;
import dev.rkmod.workflow.Context;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A kernel source: a directory, or a {@code linux-source-*.tar.xz} that is extracted once into the
 * cache (kind "source", keyed by the tarball's SHA-256).
 *
 * @param dir      the source tree (read-only for rkmod)
 * @param version  "6.1.192"
 * @param identity the tarball's SHA-256, or a fingerprint of the directory
 * @param origin   what the user named
 */
public record KernelSource(Path dir, String version, String identity, Path origin) {
    private static final Duration EXTRACT_TIMEOUT = Duration.ofMinutes(20);

    /** Checks, and extracts when needed, the source the user named. */
    public static KernelSource prepare(Context ctx, Path src) {
        if (Files.isDirectory(src)) {
            KernelMakefile mk = validate(src, src);
            return new KernelSource(src.toAbsolutePath().normalize(), mk.kernelVersion(), fingerprint(src), src);
        }
        if (!Files.isRegularFile(src)) {
            throw notASource(src, "it does not exist");
        }
        String name = src.getFileName().toString();
        if (!name.matches(".*\\.(tar|tar\\.xz|txz|tar\\.gz|tgz|tar\\.bz2|tar\\.zst)$")) {
            throw notASource(src, "it is neither a directory nor a tar archive (.tar.xz, .tar.gz, .tar.zst)");
        }
        String sha = rememberedSha256(ctx, src);
        CacheKey key = CacheKey.of(Map.of("tarball-sha256", sha));
        CacheEntry entry = ctx.cache().getOrBuild("source", key, "kernel source " + name, ctx.events(), dir -> {
            try (Stage stage = Stage.start(ctx.events(), "extract", name)) {
                try {
                    ctx.runner().run(ProcessSpec.of("tar", "-xf", src.toAbsolutePath().toString(), "-C", dir.toString(),
                                    "--no-same-owner", "--delay-directory-restore")
                            .label("tar").timeout(EXTRACT_TIMEOUT).quiet().failureCode(ExitCode.USAGE));
                } catch (ProcessFailedException e) {
                    throw new RkmodException(ExitCode.USAGE, src + " is not a readable kernel source archive",
                            "tar could not extract it; it is corrupt or truncated:\n  "
                                    + String.join("\n  ", e.result().tail()),
                            "Reinstall the package that ships it (for Debian: apt-get install --reinstall linux-source-6.1)"
                                    + " or download it again");
                }
                Path top = topDir(dir).orElseThrow(() -> notASource(src, "the archive holds no kernel source tree"));
                validate(top, src);
                stage.ok();
            }
        });
        Path top = topDir(entry.dir()).orElseThrow(() -> notASource(src, "the extracted archive holds no kernel tree"));
        KernelMakefile mk = validate(top, src);
        return new KernelSource(top, mk.kernelVersion(), sha, src);
    }

    private static Optional<Path> topDir(Path extracted) throws RkmodException {
        if (Files.isRegularFile(extracted.resolve("Makefile"))) {
            return Optional.of(extracted);
        }
        List<Path> dirs = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(extracted, Files::isDirectory)) {
            ds.forEach(dirs::add);
        } catch (IOException e) {
            return Optional.empty();
        }
        return dirs.stream().filter(d -> Files.isRegularFile(d.resolve("Makefile"))).findFirst();
    }

    private static KernelMakefile validate(Path dir, Path named) {
        Optional<KernelMakefile> mk;
        try {
            mk = KernelMakefile.read(dir);
        } catch (IOException e) {
            mk = Optional.empty();
        }
        if (mk.isEmpty()) {
            throw notASource(named, "it has no kernel top-level Makefile (VERSION, PATCHLEVEL, SUBLEVEL)");
        }
        for (String need : List.of("Kconfig", "init/Kconfig", "arch/x86", "scripts/kconfig")) {
            if (!Files.exists(dir.resolve(need))) {
                throw notASource(named, "it lacks " + need);
            }
        }
        return mk.get();
    }

    private static RkmodException notASource(Path p, String why) {
        return new RkmodException(ExitCode.USAGE, p + " is not a Linux kernel source", "It cannot be used because " + why,
                "Pass a kernel source directory or a linux-source-*.tar.xz (Debian: /usr/src/linux-source-6.1.tar.xz"
                        + " from the linux-source-6.1 package)");
    }

    /**
     * The tarball's SHA-256, remembered by file identity (real path, size, modification time, inode) in the cache's
     * {@value #SHA_MEMO}: a warm 'kernel build' (a cache hit) reads no 140 MB archive again. A changed file has another
     * identity and is hashed again.
     */
    static String rememberedSha256(Context ctx, Path file) {
        Path memo = ctx.cache().root().resolve(SHA_MEMO);
        String id;
        try {
            Path real = file.toRealPath();
            java.nio.file.attribute.BasicFileAttributes a = Files.readAttributes(real,
                    java.nio.file.attribute.BasicFileAttributes.class);
            id = real + "|" + a.size() + "|" + a.lastModifiedTime().toMillis() + "|" + a.fileKey();
        } catch (IOException e) {
            return sha256(file);
        }
        java.util.Properties known = new java.util.Properties();
        try (var in = Files.newInputStream(memo)) {
            known.load(in);
        } catch (IOException e) {
            // no memo yet
        }
        String sha = known.getProperty(id);
        if (sha != null && sha.matches("[0-9a-f]{64}")) {
            return sha;
        }
        sha = sha256(file);
        known.setProperty(id, sha);
        try {
            java.io.ByteArrayOutputStream bos = new java.io.ByteArrayOutputStream();
            known.store(bos, "SHA-256 of kernel source tarballs by file identity (path|size|mtime|inode)");
            dev.rkmod.infra.fs.FileOps.writeAtomically(memo, bos.toByteArray());
        } catch (IOException | RuntimeException e) {
            // a memo is an optimisation only
        }
        return sha;
    }

    /** The memo of tarball hashes, in the cache's root. */
    static final String SHA_MEMO = "source-sha256.properties";

    static String sha256(Path file) {
        try {
            return dev.rkmod.infra.fs.FileOps.sha256(file);
        } catch (IOException e) {
            throw new RkmodException(ExitCode.USAGE, "Cannot read " + file, e.getMessage(), "Check the path and permissions", e);
        }
    }

    /** A fingerprint of a directory: paths, sizes and modification times of every file. */
    static String fingerprint(Path dir) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            List<String> lines = new ArrayList<>();
            Files.walkFileTree(dir, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult visitFile(Path f, BasicFileAttributes a) {
                    lines.add(dir.relativize(f) + "\t" + a.size() + "\t" + a.lastModifiedTime().toMillis());
                    return FileVisitResult.CONTINUE;
                }
            });
            lines.sort(null);
            for (String l : lines) {
                md.update((l + "\n").getBytes(java.nio.charset.StandardCharsets.UTF_8));
            }
            return "dir:" + HexFormat.of().formatHex(md.digest());
        } catch (IOException e) {
            throw new RkmodException(ExitCode.USAGE, "Cannot read the kernel source " + dir, e.getMessage(),
                    "Check permissions", e);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
