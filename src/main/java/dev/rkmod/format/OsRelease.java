package dev.rkmod.format;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/** {@code /etc/os-release}: shell-style KEY=value lines, values optionally quoted. */
public final class OsRelease {
    private final Map<String, String> fields;

    private OsRelease(Map<String, String> fields) {
        this.fields = Map.copyOf(fields);
    }

    public static OsRelease read(Path file) throws IOException {
        try {
            return parse(new String(Files.readAllBytes(file), StandardCharsets.UTF_8));
        } catch (NoSuchFileException e) {
            return new OsRelease(Map.of());
        }
    }

    public static OsRelease parse(String text) {
        Map<String, String> out = new HashMap<>();
        for (String raw : text.split("\n")) {
            String line = raw.strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            int eq = line.indexOf('=');
            if (eq <= 0) {
                continue;
            }
            String v = line.substring(eq + 1).strip();
            if (v.length() >= 2 && (v.startsWith("\"") && v.endsWith("\"") || v.startsWith("'") && v.endsWith("'"))) {
                v = v.substring(1, v.length() - 1);
            }
            out.put(line.substring(0, eq).strip(), v);
        }
        return new OsRelease(out);
    }

    public Optional<String> get(String key) {
        return Optional.ofNullable(fields.get(key));
    }

    /** True for Debian and Debian derivatives. */
    public boolean isDebianFamily() {
        return "debian".equals(fields.get("ID")) || fields.getOrDefault("ID_LIKE", "").contains("debian");
    }
}
