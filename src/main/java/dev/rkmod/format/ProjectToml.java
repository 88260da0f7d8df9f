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
 * {@code rkmod.toml}, a module project's settings: name, generation, optional kdir, and in {@code [vmtest]} the dmesg
 * lines vmtest expects ({@code expect}), the QEMU devices it adds ({@code devices}) and the programs it runs in the VM
 * ({@code run}, paths relative to the project's directory). rkmod reads the small TOML subset it writes: string keys
 * at the top, and string arrays (on one line or over several) in {@code [vmtest]}.
 *
 * @param ignored the keys of {@code [vmtest]} rkmod does not know, as written (a misspelt key is otherwise silent)
 */
public record ProjectToml(String name, String generation, String kdir, List<String> expect, List<String> devices,
                          List<String> run, List<String> ignored) {
    public static final String FILE = "rkmod.toml";
    /** The keys of [vmtest]. */
    public static final List<String> VMTEST_KEYS = List.of("expect", "devices", "run");

    /** A project without devices and programs, as {@code rkmod new} writes it. */
    public ProjectToml(String name, String generation, String kdir, List<String> expect) {
        this(name, generation, kdir, expect, List.of(), List.of(), List.of());
    }

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
        if (!devices.isEmpty()) {
            sb.append("# QEMU devices of the test VM (-device)\ndevices = ").append(inline(devices)).append('\n');
        }
        if (!run.isEmpty()) {
            sb.append("# programs run in the VM once the modules are loaded (relative to this directory)\nrun = ")
                    .append(inline(run)).append('\n');
        }
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
        List<String> devices = new ArrayList<>();
        List<String> run = new ArrayList<>();
        List<String> ignored = new ArrayList<>();
        String table = "";
        String[] lines = text.split("\n");
        for (int n = 0; n < lines.length; n++) {
            String line = lines[n].strip();
            if (line.isEmpty() || line.startsWith("#")) {
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
            if (table.equals("vmtest")) {
                // an array: its text up to the closing bracket, over as many lines as it takes
                StringBuilder array = new StringBuilder(value);
                while (value.startsWith("[") && !closed(array) && n + 1 < lines.length) {
                    String next = lines[++n].strip();
                    if (!next.startsWith("#")) {
                        array.append('\n').append(next);
                    }
                }
                List<String> target = switch (key) {
                    case "expect" -> expect;
                    case "devices" -> devices;
                    case "run" -> run;
                    default -> null;
                };
                if (target == null) {
                    ignored.add(key);
                } else if (value.startsWith("[")) {
                    target.addAll(strings(array.toString(), key));
                } else {
                    throw new FormatException(FormatException.Reason.CORRUPT, "rkmod.toml's " + key + " is not an array",
                            "'" + line + "': [vmtest] " + key + " takes a list of strings", "Write " + key + " = [\"...\"]");
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
        return new ProjectToml(name, generation, kdir, List.copyOf(expect), List.copyOf(devices), List.copyOf(run),
                List.copyOf(ignored));
    }

    /** Whether an array's text has its closing bracket (outside a string). */
    private static boolean closed(CharSequence array) {
        boolean inString = false;
        for (int i = 1; i < array.length(); i++) {
            char c = array.charAt(i);
            if (inString && c == '\\') {
                i++;
            } else if (c == '"') {
                inString = !inString;
            } else if (!inString && c == ']') {
                return true;
            }
        }
        return false;
    }

    /**
     * The items of an array's text {@code [a, "b", ...]}: double-quoted strings with backslash escapes, or bare words
     * (up to a comma or the end of their line), separated by commas and line breaks.
     */
    private static List<String> strings(String array, String key) {
        List<String> out = new ArrayList<>();
        int i = 1;
        int end = array.length();
        while (i < end) {
            char c = array.charAt(i);
            if (c == ']') {
                return out;
            }
            if (c == ',' || Character.isWhitespace(c)) {
                i++;
            } else if (c == '"') {
                StringBuilder sb = new StringBuilder();
                int j = i + 1;
                for (; j < end && array.charAt(j) != '"'; j++) {
                    if (array.charAt(j) == '\\' && j + 1 < end) {
                        j++;
                    }
                    sb.append(array.charAt(j));
                }
                if (j >= end) {
                    break;
                }
                out.add(sb.toString());
                i = j + 1;
            } else {
                int j = i;
                while (j < end && array.charAt(j) != ',' && array.charAt(j) != '\n' && array.charAt(j) != ']') {
                    j++;
                }
                out.add(array.substring(i, j).strip());
                i = j;
            }
        }
        throw new FormatException(FormatException.Reason.CORRUPT, "rkmod.toml's " + key + " array does not end",
                "A string or the array has no closing '\"' or ']'", "Close it: " + key + " = [\"...\"]");
    }

    private static String inline(List<String> items) {
        StringBuilder sb = new StringBuilder("[");
        for (String s : items) {
            sb.append(sb.length() > 1 ? ", " : "").append(quote(s));
        }
        return sb.append(']').toString();
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
