package dev.rkmod.workflow.toolchain;

import dev.rkmod.infra.host.Chroot;
import dev.rkmod.infra.process.ProcessResult;
import dev.rkmod.infra.process.ProcessSpec;
import dev.rkmod.model.ExitCode;
import dev.rkmod.model.Profile;
import dev.rkmod.model.RkmodException;
import dev.rkmod.workflow.Context;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * An explicitly chosen Rust/LLVM toolchain: either programs on this host (a given rustc, never
 * "whatever is first on PATH"), or a Debian root whose programs run under chroot. Where the
 * toolchain lives is a property of the toolchain, not a special case in commands: every program runs
 * through {@link #open}.
 */
public final class Toolchain {
    private static final Duration PROBE = Duration.ofSeconds(60);
    private static final String SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
    /** The memo of toolchain version strings, in the cache's root. */
    static final String IDENTITY_MEMO = "toolchain-versions.properties";

    private final Path root;
    private final String rustc;
    private final String bindgen;
    private final Profile profile;

    private Toolchain(Path root, String rustc, String bindgen, Profile profile) {
        this.root = root;
        this.rustc = rustc;
        this.bindgen = bindgen;
        this.profile = profile;
    }

    /**
     * Programs on this host; {@code rustc} is an absolute path. bindgen is looked up beside it, then in /usr/bin.
     * {@code profile} is the profile that pins this toolchain, or empty for a rustc chosen by hand or found.
     */
    public static Toolchain host(Path rustc, Optional<Profile> profile) {
        Path abs = rustc.toAbsolutePath().normalize();
        Path beside = abs.resolveSibling("bindgen");
        String bindgen = Files.isExecutable(beside) ? beside.toString() : "/usr/bin/bindgen";
        return new Toolchain(null, abs.toString(), bindgen, profile.orElse(null));
    }

    /** The toolchain of a Debian root (/usr/bin/rustc and /usr/bin/bindgen inside it); {@code profile} as for host. */
    public static Toolchain root(Path root, Optional<Profile> profile) {
        return new Toolchain(root.toAbsolutePath().normalize(), "/usr/bin/rustc", "/usr/bin/bindgen", profile.orElse(null));
    }

    /** The Debian root, when the toolchain lives in one. */
    public Optional<Path> rootDir() {
        return Optional.ofNullable(root);
    }

    public String rustc() {
        return rustc;
    }

    public String bindgen() {
        return bindgen;
    }

    /** The profile that pins this toolchain; empty for a rustc chosen by hand or found on the machine. */
    public Optional<Profile> profile() {
        return Optional.ofNullable(profile);
    }

    /** The profile's id as manifests record it and commands take it: "6.1", "6.12", or "custom" without a profile. */
    public String profileId() {
        return profile == null ? "custom" : profile.id();
    }

    public String describe() {
        return root == null ? "host " + rustc : "Debian root " + root;
    }

    /** Make variables that pin the toolchain: LLVM=1 and the exact rustc and bindgen. */
    public List<String> makeVariables() {
        return List.of("LLVM=1", "RUSTC=" + rustc, "HOSTRUSTC=" + rustc, "BINDGEN=" + bindgen);
    }

    /** Fails with a precise message when rustc, bindgen, rust-src, clang or ld.lld is missing. */
    public void requireTools(Context ctx) {
        List<String> missing = new ArrayList<>();
        if (!exists(rustc)) {
            missing.add("rustc (" + rustc + ")");
        }
        if (!exists(bindgen)) {
            missing.add("bindgen (" + bindgen + ")");
        }
        if (!exists("/usr/bin/clang") && !(root == null && ctx.host().which("clang").isPresent())) {
            missing.add("clang");
        }
        if (!exists("/usr/bin/ld.lld") && !(root == null && ctx.host().which("ld.lld").isPresent())) {
            missing.add("ld.lld (lld)");
        }
        if (exists(rustc)) {
            String sysroot = sysroot(ctx);
            if (!hasRustSrc(sysroot)) {
                missing.add("rust-src (the Rust standard library sources under " + sysroot + "/lib/rustlib/src/rust/library)");
            }
        }
        if (!missing.isEmpty()) {
            throw new RkmodException(ExitCode.ENVIRONMENT,
                    "The toolchain (" + describe() + ") lacks " + String.join(", ", missing),
                    "A Rust-enabled kernel needs rustc, bindgen, rust-src, clang and lld at configure time; without"
                            + " them Kconfig silently drops CONFIG_RUST",
                    "Run 'rkmod deps --install --profile " + profile().orElse(Profile.LINUX_6_1).id() + "'");
        }
    }

    private boolean exists(String program) {
        Path p = root == null ? Path.of(program) : root.resolve(program.substring(1));
        return Files.isExecutable(p);
    }

    /** The rustc sysroot: asked from a host rustc; /usr for a Debian root's /usr/bin/rustc. */
    private String sysroot(Context ctx) {
        if (root != null) {
            Path bin = Path.of(rustc).getParent();
            return bin == null || bin.getParent() == null ? "/" : bin.getParent().toString();
        }
        ProcessResult r = ctx.runner().run(ProcessSpec.of(rustc, "--print", "sysroot").capture().quiet().noLog()
                .allowFailure().timeout(PROBE).env("RUSTUP_TOOLCHAIN", null));
        return r.ok() && !r.output().isEmpty() ? r.output().get(0).strip() : Path.of(rustc).getParent().getParent().toString();
    }

    private boolean hasRustSrc(String sysroot) {
        String lib = sysroot + "/lib/rustlib/src/rust/library/core/src/lib.rs";
        Path p = root == null ? Path.of(lib) : root.resolve(lib.substring(1));
        return Files.isRegularFile(p);
    }

    /** Opens a shell; {@code visible} are host directories the programs must see (bind-mounted in a root). */
    public Shell open(Context ctx, List<Path> visible) {
        if (root == null) {
            return new Shell(ctx, null);
        }
        return new Shell(ctx, Chroot.enter(root, ctx.runner(), ctx.host(), visible));
    }

    /**
     * Where the toolchain's programs run, with its clean environment: on the host, or under chroot in its root. Close
     * it to unmount what it mounted.
     */
    public final class Shell implements AutoCloseable {
        private final Context ctx;
        private final Chroot chroot;

        private Shell(Context ctx, Chroot chroot) {
            this.ctx = ctx;
            this.chroot = chroot;
        }

        public Toolchain toolchain() {
            return Toolchain.this;
        }

        /** A spec that runs {@code argv} in {@code dir} with the toolchain's clean environment. */
        public ProcessSpec spec(Path dir, List<String> argv) {
            if (chroot != null) {
                return chroot.spec(dir == null ? null : dir.toString(), List.of(), argv).label(argv.get(0));
            }
            String rustcDir = Path.of(rustc).getParent().toString();
            ProcessSpec s = ProcessSpec.of(argv).workDir(dir).label(argv.get(0))
                    .env("PATH", rustcDir + ":" + SYSTEM_PATH)
                    .env("LC_ALL", "C.UTF-8");
            for (String v : List.of("RUSTFLAGS", "RUSTUP_TOOLCHAIN", "RUSTC_WRAPPER", "RUSTC", "BINDGEN",
                    "CARGO_ENCODED_RUSTFLAGS", "ARCH", "CROSS_COMPILE", "KBUILD_OUTPUT", "MAKEFLAGS", "MFLAGS")) {
                s.env(v, null);
            }
            return s;
        }

        /** The first line a program prints for {@code --version}, or empty when it cannot run. */
        public Optional<String> version(String program, String match) {
            ProcessResult r = ctx.runner().run(spec(null, List.of(program, "--version"))
                    .capture().quiet().noLog().allowFailure().timeout(PROBE));
            if (!r.ok()) {
                return Optional.empty();
            }
            return r.output().stream().filter(l -> match == null || l.contains(match)).findFirst().map(String::strip);
        }

        /**
         * rustc, bindgen, clang, ld.lld and LLVM version strings. They are remembered (in the cache's
         * {@value #IDENTITY_MEMO}) under what the programs are: in a root, its dpkg status and the mtimes of its PATH
         * directories; on the host, each program's file (real path, size, mtime, inode) as the shell's PATH finds it. A
         * warm 'kernel build' runs no compiler then; an upgrade or another program is a new key.
         */
        public Identity identity() {
            Optional<String> key = identityKey();
            java.util.Properties memo = new java.util.Properties();
            Path memoFile = ctx.cache().root().resolve(IDENTITY_MEMO);
            if (key.isPresent()) {
                try (var in = Files.newInputStream(memoFile)) {
                    memo.load(in);
                } catch (java.io.IOException e) {
                    // no memo yet
                }
                String[] known = memo.getProperty(key.get(), "").split("\t", -1);
                if (known.length == 5) {
                    return new Identity(describe(), known[0], known[1], known[2], known[3], known[4]);
                }
            }
            Identity id = probe();
            if (key.isPresent()) {
                memo.setProperty(key.get(), String.join("\t", id.rustc(), id.bindgen(), id.clang(), id.lld(), id.llvm()));
                try {
                    java.io.ByteArrayOutputStream bos = new java.io.ByteArrayOutputStream();
                    memo.store(bos, "toolchain version strings by what the programs are");
                    dev.rkmod.infra.fs.FileOps.writeAtomically(memoFile, bos.toByteArray());
                } catch (java.io.IOException | RuntimeException e) {
                    // a memo is an optimisation only
                }
            }
            return id;
        }

        private Optional<String> identityKey() {
            StringBuilder k = new StringBuilder(describe());
            try {
                if (root != null) {
                    k.append('|').append(fileId(root.resolve("var/lib/dpkg/status")));
                    for (String d : Chroot.PATH.split(":")) {
                        Path p = root.resolve(d.substring(1));
                        if (Files.isDirectory(p)) {
                            k.append('|').append(d).append('@').append(Files.getLastModifiedTime(p).toMillis());
                        }
                    }
                } else {
                    for (String program : List.of(rustc, bindgen, "clang", "ld.lld", "llvm-ar")) {
                        Optional<Path> found = hostProgram(program);
                        k.append('|').append(found.isPresent() ? fileId(found.get()) : program + "@none");
                    }
                }
            } catch (java.io.IOException | RuntimeException e) {
                return Optional.empty();
            }
            return Optional.of(k.toString());
        }

        /** Where the host shell's PATH (rustc's directory first) finds {@code program}. */
        private Optional<Path> hostProgram(String program) {
            if (program.contains("/")) {
                return Files.isExecutable(Path.of(program)) ? Optional.of(Path.of(program)) : Optional.empty();
            }
            List<String> dirs = new ArrayList<>(List.of(Path.of(rustc).getParent().toString()));
            dirs.addAll(List.of(SYSTEM_PATH.split(":")));
            return dirs.stream().map(d -> Path.of(d, program)).filter(p -> Files.isRegularFile(p) && Files.isExecutable(p))
                    .findFirst();
        }

        private static String fileId(Path p) throws java.io.IOException {
            Path real = p.toRealPath();
            java.nio.file.attribute.BasicFileAttributes a = Files.readAttributes(real,
                    java.nio.file.attribute.BasicFileAttributes.class);
            return real + "@" + a.size() + "@" + a.lastModifiedTime().toMillis() + "@" + a.fileKey();
        }

        private Identity probe() {
            Map<String, String> v = new LinkedHashMap<>();
            v.put("rustc", version(rustc, null).orElseThrow(() -> new RkmodException(ExitCode.ENVIRONMENT,
                    "Cannot run " + rustc + " --version in " + describe(), null,
                    "Run 'rkmod deps --install --profile " + profileId() + "'")));
            v.put("bindgen", version(bindgen, null).orElse("missing"));
            v.put("clang", version("clang", "clang version").orElse("missing"));
            v.put("lld", version("ld.lld", null).orElse("missing"));
            v.put("llvm", version("llvm-ar", "LLVM version").orElse("missing"));
            return new Identity(describe(), v.get("rustc"), v.get("bindgen"), v.get("clang"), v.get("lld"), v.get("llvm"));
        }

        @Override
        public void close() {
            if (chroot != null) {
                chroot.close();
            }
        }
    }

    /** Version strings that identify a toolchain, exactly as the programs print them. */
    public record Identity(String location, String rustc, String bindgen, String clang, String lld, String llvm) { }
}
