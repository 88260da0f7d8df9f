package dev.rkmod.workflow.toolchain;

import dev.rkmod.infra.cache.CacheEntry;
import dev.rkmod.infra.process.ProcessResult;
import dev.rkmod.infra.process.ProcessSpec;
import dev.rkmod.workflow.Context;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Finds rustc candidates on this machine and their exact version strings: an explicit one, PATH,
 * /usr/bin/rustc, rustup toolchains, rustc-web, and the Debian roots in rkmod's cache. A module must be
 * compiled by the rustc whose {@code --version} equals the kernel's, suffix included.
 */
public final class RustcFinder {
    private static final Duration PROBE = Duration.ofSeconds(30);

    /** Where a candidate was found. */
    public enum Source {
        /** The rustc the user named (--rustc). */
        EXPLICIT,
        /** The first rustc on PATH. */
        PATH,
        /** /usr/bin/rustc. */
        SYSTEM,
        /** Debian's rustc-web. */
        RUSTC_WEB,
        /** A rustup toolchain. */
        RUSTUP,
        /** /usr/bin/rustc of a Debian root in rkmod's cache. */
        DEBIAN_ROOT
    }

    /** One candidate: where it is, the toolchain that runs it, and what it printed (null if it cannot run). */
    public record Candidate(Source source, String description, Toolchain toolchain, String version) {
        public boolean matches(String wanted) {
            return version != null && version.equals(wanted);
        }
    }

    private final Context ctx;

    public RustcFinder(Context ctx) {
        this.ctx = ctx;
    }

    /** All candidates, explicit first. Duplicates (same real file) are listed once. */
    public List<Candidate> candidates(Optional<Path> explicit) {
        Map<String, Candidate> out = new LinkedHashMap<>();
        explicit.ifPresent(p -> {
            if (!Files.isRegularFile(p) || !Files.isExecutable(p)) { // never replaced silently by another rustc
                throw new dev.rkmod.model.RkmodException(dev.rkmod.model.ExitCode.USAGE, "--rustc " + p + " is not a"
                        + " program: it " + (Files.exists(p) ? "is not an executable file" : "does not exist"),
                        "rkmod would otherwise pick another rustc than the one named", "Pass the path of a rustc"
                        + " executable (rustc --print sysroot shows where one lives), or leave --rustc out");
            }
            add(out, Source.EXPLICIT, "--rustc " + p, p);
        });
        ctx.host().which("rustc").ifPresent(p -> add(out, Source.PATH, "rustc on PATH (" + p + ")", p));
        add(out, Source.SYSTEM, "/usr/bin/rustc", Path.of("/usr/bin/rustc"));
        for (Path p : List.of(Path.of("/usr/bin/rustc-web"), Path.of("/usr/lib/rustc-web/bin/rustc"))) {
            add(out, Source.RUSTC_WEB, "rustc-web (" + p + ")", p);
        }
        String home = ctx.host().env().getOrDefault("HOME", System.getProperty("user.home"));
        Path rustupHome = Path.of(ctx.host().env().getOrDefault("RUSTUP_HOME", home + "/.rustup"));
        Path toolchains = rustupHome.resolve("toolchains");
        if (Files.isDirectory(toolchains)) {
            List<Path> dirs = new ArrayList<>();
            try (DirectoryStream<Path> ds = Files.newDirectoryStream(toolchains, Files::isDirectory)) {
                ds.forEach(dirs::add);
            } catch (IOException ignored) {
                // no rustup toolchains
            }
            dirs.sort(null);
            for (Path d : dirs) {
                add(out, Source.RUSTUP, "rustup toolchain " + d.getFileName(), d.resolve("bin/rustc"));
            }
        }
        if (ctx.host().isRoot()) {
            for (CacheEntry e : ctx.cache().list(DebianRoots.KIND)) {
                Path bin = e.dir().resolve("root/usr/bin/rustc");
                if (Files.isExecutable(bin)) {
                    Toolchain t = Toolchain.root(e.dir().resolve("root"), Optional.empty());
                    String v = remembered(bin).orElseGet(() -> {
                        try (Toolchain.Shell s = t.open(ctx, List.of())) {
                            String found = s.version("/usr/bin/rustc", null).orElse(null);
                            remember(bin, found);
                            return found;
                        }
                    });
                    out.putIfAbsent("root:" + e.dir(), new Candidate(Source.DEBIAN_ROOT, "rkmod's " + e.description(), t, v));
                }
            }
        }
        saveMemo();
        return List.copyOf(out.values());
    }

    /** The first candidate whose version equals {@code wanted} exactly. */
    public Optional<Candidate> find(String wanted, Optional<Path> explicit) {
        return candidates(explicit).stream().filter(c -> c.matches(wanted)).findFirst();
    }

    private void add(Map<String, Candidate> out, Source source, String description, Path rustc) {
        if (!Files.isRegularFile(rustc) || !Files.isExecutable(rustc)) {
            return;
        }
        String key;
        try {
            key = rustc.toRealPath().toString();
        } catch (IOException e) {
            return;
        }
        // rustup's proxies (~/.cargo/bin/rustc) resolve to rustup itself: key by the path then
        if (key.endsWith("/rustup")) {
            key = rustc.toAbsolutePath().toString();
        }
        if (out.containsKey(key)) {
            return;
        }
        boolean proxy = realPathEndsWithRustup(rustc);
        Optional<String> known = proxy ? Optional.empty() : remembered(rustc);
        String version = known.orElseGet(() -> {
            ProcessResult r = ctx.runner().run(ProcessSpec.of(rustc.toString(), "--version").workDir(Path.of("/"))
                    .env("RUSTUP_TOOLCHAIN", null).capture().quiet().noLog().allowFailure().timeout(PROBE));
            String v = r.ok() && !r.output().isEmpty() ? r.output().get(0).strip() : null;
            if (!proxy) {
                remember(rustc, v);
            }
            return v;
        });
        out.put(key, new Candidate(source, description, Toolchain.host(rustc, Optional.empty()), version));
    }

    // --- a memo of version strings by file identity, so that doctor runs no compiler on a warm machine ---

    private java.util.Properties memo;
    private boolean memoDirty;

    private static boolean realPathEndsWithRustup(Path p) {
        try {
            return p.toRealPath().getFileName().toString().equals("rustup");
        } catch (IOException e) {
            return true;
        }
    }

    private Path memoFile() {
        return ctx.cache().root().resolve("rustc-versions.properties");
    }

    private static String identity(Path file) {
        try {
            Path real = file.toRealPath();
            return real + "|" + Files.size(real) + "|" + Files.getLastModifiedTime(real).toMillis();
        } catch (IOException e) {
            return null;
        }
    }

    private Optional<String> remembered(Path file) {
        if (memo == null) {
            memo = new java.util.Properties();
            try (var in = Files.newInputStream(memoFile())) {
                memo.load(in);
            } catch (IOException ignored) {
                // no memo yet
            }
        }
        String id = identity(file);
        return id == null ? Optional.empty() : Optional.ofNullable(memo.getProperty(id));
    }

    private void remember(Path file, String version) {
        String id = identity(file);
        if (id != null && version != null && memo != null) {
            memo.setProperty(id, version);
            memoDirty = true;
        }
    }

    private void saveMemo() {
        if (!memoDirty) {
            return;
        }
        try {
            java.io.ByteArrayOutputStream bos = new java.io.ByteArrayOutputStream();
            memo.store(bos, "rustc --version by file identity (path|size|mtime)");
            dev.rkmod.infra.fs.FileOps.writeAtomically(memoFile(), bos.toByteArray());
            memoDirty = false;
        } catch (IOException | RuntimeException ignored) {
            // a memo is an optimisation only
        }
    }
}
