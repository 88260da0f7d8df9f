package dev.rkmod.it;

import com.google.gson.JsonParser;
import dev.rkmod.infra.fs.FileOps;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.ExtensionContext;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * What the integration tests share: a work directory per test class ({@code @ItSetup.Work("rkmod-x") static Path work;}),
 * made before its tests and deleted after them by walking the tree in Java (never through a mount: a tree with
 * anything mounted inside is left alone and the run fails naming the mount); the cached tiny-rust kernels and
 * packages of them; running a setup program or an oracle; hiding a tree while something runs.
 */
public final class ItSetup implements BeforeAllCallback, AfterAllCallback {
    /** Programs other than rkmod run with the system's own tools only (no rustup, no pyenv). */
    static final String SYSTEM_PATH = "/usr/sbin:/usr/bin:/sbin:/bin";

    private static final ExtensionContext.Namespace NS = ExtensionContext.Namespace.create(ItSetup.class);
    private static final Map<String, Path> KERNELS = new HashMap<>();

    /** A static {@code Path} field that receives the test class's work directory, a new temporary directory. */
    @Target(ElementType.FIELD)
    @Retention(RetentionPolicy.RUNTIME)
    @ExtendWith(ItSetup.class)
    public @interface Work {
        /** The directory name's prefix, e.g. "rkmod-build". */
        String value();
    }

    @Override
    public void beforeAll(ExtensionContext context) throws Exception {
        for (Field f : workFields(context.getRequiredTestClass())) {
            Path dir = Files.createTempDirectory(f.getAnnotation(Work.class).value());
            context.getStore(NS).put(f.getName(), dir);
            f.set(null, dir);
        }
    }

    @Override
    public void afterAll(ExtensionContext context) throws Exception {
        for (Field f : workFields(context.getRequiredTestClass())) {
            Path dir = context.getStore(NS).remove(f.getName(), Path.class);
            if (dir != null) {
                FileOps.deleteTree(dir); // refuses, failing the run, when anything is mounted inside
            }
        }
    }

    private static List<Field> workFields(Class<?> testClass) {
        List<Field> out = new ArrayList<>();
        for (Field f : testClass.getDeclaredFields()) {
            if (f.isAnnotationPresent(Work.class)) {
                if (!Modifier.isStatic(f.getModifiers()) || f.getType() != Path.class) {
                    throw new IllegalStateException("@ItSetup.Work goes on a static Path field, not on " + f);
                }
                f.setAccessible(true);
                out.add(f);
            }
        }
        return out;
    }

    /** The cached tiny-rust kernel tree of a profile ({@code rkmod kernel build}: built by KernelIT, or here). */
    static synchronized Path kernel(String profile) throws Exception {
        Path tree = KERNELS.get(profile);
        if (tree == null) {
            Rkmod.Result r = Rkmod.jar(Map.of(), "kernel", "build", "--profile", profile, "--json", "-q");
            assertThat(r.exit()).as(r.err()).isZero();
            tree = Path.of(JsonParser.parseString(r.out()).getAsJsonObject().get("tree").getAsString());
            KERNELS.put(profile, tree);
        }
        return tree;
    }

    /** The tiny 6.1 kernel with MODULE_SIG_FORCE and its signing key, as {@link #sigForceKernel} makes it. */
    record SigForce(Path tree, Path keyPem, Path cert) { }

    private static SigForce sigForce;

    /**
     * The tiny-rust 6.1 kernel with CONFIG_MODULE_SIG_FORCE and a known signing key (under ~/.cache/rkmod-test/sigforce,
     * made once): {@code rkmod kernel build --fragment}, a cache hit after the first. Whichever test asks first makes
     * it (SignedVmIT, DkmsIT), so no test depends on another having run.
     */
    static synchronized SigForce sigForceKernel() throws Exception {
        if (sigForce != null) {
            return sigForce;
        }
        Path dir = Files.createDirectories(Path.of(System.getProperty("user.home"), ".cache", "rkmod-test", "sigforce"));
        Path keyPem = dir.resolve("signing_key.pem");
        Path cert = dir.resolve("signing_key.x509.pem");
        if (!Files.exists(keyPem)) {
            Path k = dir.resolve("k.pem");
            run(List.of("openssl", "req", "-new", "-nodes", "-utf8", "-sha256", "-days", "36500", "-batch", "-x509",
                    "-newkey", "rsa:2048", "-keyout", k.toString(), "-out", cert.toString(), "-subj", "/CN=rkmod sigforce test/"));
            Files.writeString(keyPem, Files.readString(k) + Files.readString(cert));
            Files.delete(k);
        }
        Files.setPosixFilePermissions(keyPem, java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
        Path fragment = dir.resolve("sigforce.config");
        Files.writeString(fragment, "# key sha256 " + FileOps.sha256(keyPem) + "\n"
                + "CONFIG_MODULE_SIG=y\nCONFIG_MODULE_SIG_FORCE=y\nCONFIG_MODULE_SIG_SHA256=y\n"
                + "CONFIG_MODULE_SIG_KEY=\"" + keyPem + "\"\nCONFIG_CRYPTO_RSA=y\nCONFIG_CRYPTO_SHA256=y\n");
        Rkmod.Result r = Rkmod.jar(Map.of(), "kernel", "build", "--profile", "6.1", "--fragment", fragment.toString(), "--json", "-q");
        assertThat(r.exit()).as(r.err()).isZero();
        Path tree = Path.of(JsonParser.parseString(r.out()).getAsJsonObject().get("tree").getAsString());
        assertThat(tree.resolve(".config")).content().contains("CONFIG_MODULE_SIG_FORCE=y");
        sigForce = new SigForce(tree, keyPem, cert);
        return sigForce;
    }

    /** A package of a built tree at {@code out}: {@code rkmod package --kdir KDIR --out OUT --no-verify -q}. */
    static Path pack(Path kdir, Path out) throws Exception {
        Rkmod.Result r = Rkmod.jar(Map.of(), "package", "--kdir", kdir.toString(), "--out", out.toString(), "--no-verify", "-q");
        assertThat(r.exit()).as(r.err()).isZero();
        return out;
    }

    /**
     * Files of the kernel source that a Debian root's linux-source package ships ({@code /usr/src/linux-source-*.tar.xz}),
     * extracted in one pass over the tarball: {@code patterns} are paths in the source, shell wildcards allowed
     * ("samples/rust/*"). The extraction is kept under ~/.cache/rkmod-test/kernel-source, keyed by the tarball's name,
     * size and time and the patterns (one pass over 164 MB of xz costs about 20 s), and copied into {@code dest}.
     * Returns the source's top directory under {@code dest}. Nothing of the kernel's (GPL) source is kept in this
     * repository; tests take it from the archive at test time.
     */
    static synchronized Path fromKernelSource(Path root, Path dest, String... patterns) throws Exception {
        Path tarball;
        try (java.util.stream.Stream<Path> s = Files.list(root.resolve("usr/src"))) {
            tarball = s.filter(p -> p.getFileName().toString().matches("linux-source-.*\\.tar\\.xz")).findFirst().orElseThrow();
        }
        String top = tarball.getFileName().toString().replace(".tar.xz", "");
        String key = dev.rkmod.infra.cache.CacheKey.sha256((tarball.getFileName() + " " + Files.size(tarball) + " "
                + Files.getLastModifiedTime(tarball).toMillis() + " " + String.join(" ", patterns))
                .getBytes(java.nio.charset.StandardCharsets.UTF_8)).substring(0, 16);
        Path cached = Path.of(System.getProperty("user.home"), ".cache", "rkmod-test", "kernel-source", top + "-" + key);
        if (!Files.isDirectory(cached)) {
            Path tmp = Files.createDirectories(cached.resolveSibling(cached.getFileName() + ".tmp" + ProcessHandle.current().pid()));
            List<String> argv = new ArrayList<>(List.of("tar", "-xf", tarball.toString(), "--wildcards"));
            for (String p : patterns) {
                argv.add(top + "/" + p);
            }
            run(tmp, argv);
            Files.move(tmp, cached, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        }
        Files.createDirectories(dest);
        run(List.of("cp", "-a", cached.resolve(top).toString(), dest.toString()));
        return dest.resolve(top);
    }

    /**
     * The distro's own modules of a kernel release as vmtest cached them (kind distro-modules, made by the first vmtest
     * that loaded a dependency): their {@code lib/modules/RELEASE} directory.
     */
    static Path distroModules(String release) throws Exception {
        String xdg = System.getenv("XDG_CACHE_HOME");
        Path cache = xdg != null && !xdg.isBlank() ? Path.of(xdg, "rkmod") : Path.of(System.getProperty("user.home"), ".cache", "rkmod");
        try (java.util.stream.Stream<Path> s = Files.list(cache.resolve("distro-modules"))) {
            for (Path e : s.toList()) {
                Path dir = e.resolve("lib/modules").resolve(release);
                if (Files.isDirectory(dir) && Files.isRegularFile(e.resolve("origin.properties"))) {
                    return dir;
                }
            }
        }
        throw new AssertionError("no cached modules of " + release + " under " + cache.resolve("distro-modules"));
    }

    /** Runs a program other than rkmod (a setup step or an oracle) on {@link #SYSTEM_PATH}; it must exit 0. */
    static String run(List<String> argv) throws Exception {
        return run(null, argv);
    }

    /** The same, in {@code dir} (null: the current directory); returns stdout and stderr together. */
    static String run(Path dir, List<String> argv) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(argv).redirectErrorStream(true);
        if (dir != null) {
            pb.directory(dir.toFile());
        }
        pb.environment().put("PATH", SYSTEM_PATH);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes());
        if (!p.waitFor(30, TimeUnit.MINUTES)) {
            p.destroyForcibly();
            throw new AssertionError(argv + " did not finish");
        }
        assertThat(p.exitValue()).as(argv + "\n" + out).isZero();
        return out;
    }

    interface ThrowingRunnable {
        void run() throws Exception;
    }

    /** Renames each of {@code dirs} away while {@code action} runs, and back afterwards. */
    static void hidden(List<Path> dirs, ThrowingRunnable action) throws Exception {
        List<Path[]> moved = new ArrayList<>();
        try {
            for (Path d : dirs) {
                Path away = d.resolveSibling(d.getFileName() + ".hidden");
                Files.move(d, away);
                moved.add(new Path[] {d, away});
            }
            action.run();
        } finally {
            for (Path[] m : moved) {
                Files.move(m[1], m[0]);
            }
        }
    }
}
