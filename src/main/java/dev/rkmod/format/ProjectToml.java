package dev.rkmod.format;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * {@code rkmod.toml}, a module project's settings: name, generation, optional kdir, and the dmesg lines
 * vmtest expects. rkmod reads the small TOML subset it writes: string keys at the top and in
 * {@code [vmtest]}, and one string array {@code expect}.
 */
public record ProjectToml(String name, String generation, String kdir, List<String> expect) {
    public static final String FILE = "rkmod.toml";

    public String format() {
        StringBuilder sb = new StringBuilder("# rkmod module project\n");
        sb.append("name = ").append(quote(name)).append('\n');
        sb.append("generation = ").append(quote(generation)).append('\n');
        if (kdir != null) {
            sb.append("kdir = ").append(quote(kdir)).append('\n');
        }
        sb.append("\n[vmtest]\n# kernel log lines 'rkmod vmtest' expects, in order\nexpect = [\n");
        for (String e : expect) {
            sb.append("  ").append(quote(e)).append(",\n");
        }
        sb.append("]\n");
        return sb.toString();
    }

    public static Optional<ProjectToml> read(Path dir) throws IOException {
        try {
            return Optional.of(parse(new String(Files.readAllBytes(dir.resolve(FILE)), StandardCharsets.UTF_8)));
        } catch (NoSuchFileException e) {
            return Optional.empty();
        }
    }

    public static ProjectToml parse(String text) {
        String name = null;
        String generation = null;
        String kdir = null;
        List<String> expect = new ArrayList<>();
        String table = "";
        boolean inArray = false;
        for (String raw : text.split("\n")) {
            String line = raw.strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            if (inArray) {
                if (line.startsWith("]")) {
                    inArray = false;
                    continue;
                }
                String v = line.endsWith(",") ? line.substring(0, line.length() - 1).strip() : line;
                expect.add(unquote(v));
                continue;
            }
            if (line.startsWith("[") && line.endsWith("]")) {
                table = line.substring(1, line.length() - 1).strip();
                continue;
            }
            int eq = line.indexOf('=');
            if (eq < 0) {
                throw new FormatException(FormatException.Reason.CORRUPT, "rkmod.toml has a line rkmod cannot read",
                        "'" + line + "' is not key = value", "Fix the line");
            }
            String key = line.substring(0, eq).strip();
            String value = line.substring(eq + 1).strip();
            if (table.equals("vmtest") && key.equals("expect")) {
                if (value.equals("[")) {
                    inArray = true;
                } else if (value.startsWith("[") && value.endsWith("]")) {
                    for (String part : value.substring(1, value.length() - 1).split("\",")) {
                        if (!part.isBlank()) {
                            expect.add(unquote(part.strip().endsWith("\"") ? part.strip() : part.strip() + "\""));
                        }
                    }
                }
            } else if (table.isEmpty()) {
                switch (key) {
                    case "name" -> name = unquote(value);
                    case "generation" -> generation = unquote(value);
                    case "kdir" -> kdir = unquote(value);
                    default -> { }
                }
            }
        }
        return new ProjectToml(name, generation, kdir, List.copyOf(expect));
    }

    private static String quote(String s) {
        return "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
    }

    private static String unquote(String v) {
        String s = v.strip();
        if (s.length() >= 2 && s.startsWith("\"") && s.endsWith("\"")) {
            s = s.substring(1, s.length() - 1);
            StringBuilder sb = new StringBuilder();
            for (int i = 0; i < s.length(); i++) {
                char c = s.charAt(i);
                if (c == '\\' && i + 1 < s.length()) {
                    sb.append(s.charAt(++i));
                } else {
                    sb.append(c);
                }
            }
            return sb.toString();
        }
        return s;
    }
}
