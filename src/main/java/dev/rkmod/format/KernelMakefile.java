package dev.rkmod.format;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/** The version lines at the top of a kernel source's {@code Makefile}. */
public record KernelMakefile(int version, int patchlevel, int sublevel, String extraversion) {

    /** Reads {@code dir/Makefile}; empty when it is not a kernel top-level Makefile. */
    public static Optional<KernelMakefile> read(Path dir) throws IOException {
        Path mk = dir.resolve("Makefile");
        if (!Files.isRegularFile(mk)) {
            return Optional.empty();
        }
        String head;
        try (var in = Files.newInputStream(mk)) {
            head = new String(in.readNBytes(4096), StandardCharsets.UTF_8);
        }
        return parse(head);
    }

    public static Optional<KernelMakefile> parse(String head) {
        Map<String, String> v = new HashMap<>();
        for (String line : head.split("\n")) {
            int eq = line.indexOf('=');
            if (eq > 0) {
                v.putIfAbsent(line.substring(0, eq).strip(), line.substring(eq + 1).strip());
            }
        }
        try {
            return Optional.of(new KernelMakefile(Integer.parseInt(v.get("VERSION")), Integer.parseInt(v.get("PATCHLEVEL")),
                    Integer.parseInt(v.getOrDefault("SUBLEVEL", "0").isEmpty() ? "0" : v.getOrDefault("SUBLEVEL", "0")),
                    v.getOrDefault("EXTRAVERSION", "")));
        } catch (RuntimeException e) {
            return Optional.empty();
        }
    }

    /** "6.1.192" (with EXTRAVERSION appended when set). */
    public String kernelVersion() {
        return version + "." + patchlevel + "." + sublevel + extraversion;
    }
}
