package dev.rkmod.it;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** Black-box runner for integration tests: runs the real launcher or jar as a user would. */
public final class Rkmod {

    /** What a run printed and returned. */
    public record Result(int exit, String out, String err, long millis) { }

    private Rkmod() {
    }

    public static Path repo() {
        return Path.of(System.getProperty("rkmod.repo", System.getProperty("user.dir")));
    }

    public static Path jar() {
        return Path.of(System.getProperty("rkmod.jar", repo().resolve("target/rkmod.jar").toString()));
    }

    /** Runs {@code java -jar rkmod.jar args}. */
    public static Result jar(Map<String, String> env, String... args) throws IOException, InterruptedException {
        String java = ProcessHandle.current().info().command().orElse("java");
        List<String> argv = new ArrayList<>(List.of(java, "-jar", jar().toString()));
        argv.addAll(List.of(args));
        return exec(argv, env, 3600);
    }

    /** Runs the {@code ./rkmod} launcher at the repository root. */
    public static Result launcher(String... args) throws IOException, InterruptedException {
        List<String> argv = new ArrayList<>(List.of("bash", repo().resolve("rkmod").toString()));
        argv.addAll(List.of(args));
        return exec(argv, Map.of(), 600);
    }

    /** What a {@code --json} run printed. */
    static JsonObject json(Result r) {
        return JsonParser.parseString(r.out()).getAsJsonObject();
    }

    /** One finding of a doctor report, by id. */
    static JsonObject finding(JsonObject report, String id) {
        for (JsonElement e : report.getAsJsonArray("findings")) {
            if (e.getAsJsonObject().get("id").getAsString().equals(id)) {
                return e.getAsJsonObject();
            }
        }
        throw new AssertionError("no finding " + id + " in " + report);
    }

    static Result exec(List<String> argv, Map<String, String> env, long timeoutSeconds)
            throws IOException, InterruptedException {
        Path out = Files.createTempFile("rkmod-it", ".out");
        Path err = Files.createTempFile("rkmod-it", ".err");
        try {
            ProcessBuilder pb = new ProcessBuilder(argv).redirectOutput(out.toFile()).redirectError(err.toFile());
            pb.environment().putAll(env);
            long start = System.nanoTime();
            Process p = pb.start();
            if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                p.descendants().forEach(ProcessHandle::destroyForcibly);
                p.destroyForcibly();
                throw new AssertionError("rkmod " + argv + " did not finish in " + timeoutSeconds + " s");
            }
            long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            return new Result(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8),
                    Files.readString(err, StandardCharsets.UTF_8), ms);
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }
}
