package dev.rkmod.format;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** Makes real rustc outputs for tests with the compilers installed on this machine. */
public final class RustFixtures {
    public static final Path DEBIAN_RUSTC = Path.of("/usr/bin/rustc");
    public static final Path RUSTUP_RUSTC = Path.of(System.getProperty("user.home"), ".cargo/bin/rustc");

    private RustFixtures() {
    }

    /** Runs a command, returning its combined output; fails the test on a timeout. */
    public static Result run(Path dir, Map<String, String> env, String... argv) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(argv).directory(dir.toFile()).redirectErrorStream(true);
        pb.environment().putAll(env);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes());
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("timeout: " + List.of(argv));
        }
        return new Result(p.exitValue(), out);
    }

    public record Result(int exit, String out) { }

    /** {@code rustc --emit=metadata --crate-type=lib x.rs}: a real .rmeta. */
    public static Path rmeta(Path rustc, Path dir) throws IOException, InterruptedException {
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("x.rs"), "pub fn answer() -> u32 { 42 }\n");
        List<String> argv = new ArrayList<>(List.of(rustc.toString(), "--emit=metadata", "--crate-type=lib",
                "--crate-name", "x", "x.rs", "-o", "libx.rmeta"));
        Result r = run(dir, Map.of(), argv.toArray(String[]::new));
        if (r.exit() != 0) {
            throw new AssertionError(r.out());
        }
        return dir.resolve("libx.rmeta");
    }

    public static String version(Path rustc) throws IOException, InterruptedException {
        return run(Path.of("/"), Map.of(), rustc.toString(), "--version").out().strip();
    }
}
