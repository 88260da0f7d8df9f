package dev.rkmod.format;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * {@code modules.dep}, depmod's text index of a kernel's modules: one line per module,
 * {@code PATH: DEPENDENCY DEPENDENCY ...}, every path relative to {@code lib/modules/RELEASE}
 * ({@code kernel/fs/configfs/configfs.ko.xz}), the dependencies being every module PATH needs, directly or not, listed
 * so that loading them from right to left works (as modprobe does). A module is known by its name: the file name
 * without {@code .ko} and a compression suffix, with '-' read as '_' (as the kernel compares module names).
 *
 * <p>Bounds-checked: at most {@link #MAX_BYTES} bytes and {@link #MAX_LINES} lines; a line that is not
 * {@code PATH:} followed by paths, or a path that is absolute, climbs with {@code ..} or is not a module file, is a
 * {@link FormatException} (CORRUPT).
 */
public final class ModulesDep {
    public static final String FILE = "modules.dep";
    /** Far above a distro's (sid's 7.2: about 0.5 MB for 4,216 modules). */
    public static final long MAX_BYTES = 64L << 20;
    public static final int MAX_LINES = 1_000_000;
    private static final List<String> SUFFIXES = List.of(".ko", ".ko.xz", ".ko.zst", ".ko.gz");
    private static final String FIX = "Run depmod again for this kernel (depmod -b ROOT RELEASE), or fetch its modules again";

    /** One module: its name, its path, and the paths of every module it needs, as modules.dep lists them. */
    public record Entry(String name, String path, List<String> needs) { }

    /**
     * What a set of module names needs: the modules to load, each after everything it needs ({@code order}), and the
     * names modules.dep does not have ({@code missing}), in the order they were asked for.
     */
    public record Closure(List<Entry> order, List<String> missing) { }

    private final Map<String, Entry> byName;
    private final Map<String, Entry> byPath;

    private ModulesDep(Map<String, Entry> byName, Map<String, Entry> byPath) {
        this.byName = byName;
        this.byPath = byPath;
    }

    /** Reads {@code file}; an IOException if it cannot be read, a FormatException if it is not a modules.dep. */
    public static ModulesDep read(Path file) throws IOException {
        byte[] data;
        try (InputStream in = Files.newInputStream(file)) {
            data = in.readNBytes((int) MAX_BYTES + 1);
        }
        if (data.length > MAX_BYTES) {
            throw corrupt(file.toString(), "it is larger than " + (MAX_BYTES >> 20) + " MiB");
        }
        return parse(new String(data, StandardCharsets.UTF_8), file.toString());
    }

    /** Parses modules.dep text; {@code source} names it in messages. */
    public static ModulesDep parse(String text, String source) {
        if (text.length() > MAX_BYTES) {
            throw corrupt(source, "it is larger than " + (MAX_BYTES >> 20) + " MiB");
        }
        Map<String, Entry> byName = new HashMap<>();
        Map<String, Entry> byPath = new LinkedHashMap<>();
        int lineNo = 0;
        int start = 0;
        while (start <= text.length()) {
            int end = text.indexOf('\n', start);
            if (end < 0) {
                end = text.length();
            }
            String line = text.substring(start, end);
            start = end + 1;
            lineNo++;
            if (lineNo > MAX_LINES) {
                throw corrupt(source, "it has more than " + MAX_LINES + " lines");
            }
            String l = line.strip();
            if (l.isEmpty() || l.startsWith("#")) {
                continue;
            }
            int colon = l.indexOf(':');
            if (colon <= 0) {
                throw corrupt(source, "line " + lineNo + " is not 'PATH: DEPENDENCIES' (" + shorten(l) + ")");
            }
            String path = checkPath(source, lineNo, l.substring(0, colon).strip());
            List<String> needs = new ArrayList<>();
            int i = colon + 1;
            int n = l.length();
            while (i < n) {
                while (i < n && (l.charAt(i) == ' ' || l.charAt(i) == '\t')) {
                    i++;
                }
                int j = i;
                while (j < n && l.charAt(j) != ' ' && l.charAt(j) != '\t') {
                    j++;
                }
                if (j > i) {
                    needs.add(checkPath(source, lineNo, l.substring(i, j)));
                }
                i = j;
            }
            Entry e = new Entry(moduleName(path), path, List.copyOf(needs));
            if (byPath.putIfAbsent(path, e) == null) {
                byName.putIfAbsent(e.name(), e); // the first of two modules of one name, as depmod's priority keeps it
            }
        }
        return new ModulesDep(byName, byPath);
    }

    /** A module's name from its path: {@code kernel/lib/lz4/lz4hc_compress.ko.xz} is lz4hc_compress; '-' is '_'. */
    public static String moduleName(String path) {
        String file = path.substring(path.lastIndexOf('/') + 1);
        for (String s : List.of(".ko.xz", ".ko.zst", ".ko.gz", ".ko")) {
            if (file.endsWith(s)) {
                file = file.substring(0, file.length() - s.length());
                break;
            }
        }
        return normalName(file);
    }

    /** How the kernel compares module names: '-' and '_' are the same. */
    public static String normalName(String name) {
        return name.replace('-', '_');
    }

    /** The module called {@code name} ('-' or '_'). */
    public Optional<Entry> byName(String name) {
        return Optional.ofNullable(byName.get(normalName(name)));
    }

    public Optional<Entry> byPath(String path) {
        return Optional.ofNullable(byPath.get(path));
    }

    /** How many modules it lists. */
    public int size() {
        return byPath.size();
    }

    /**
     * The modules {@code names} need, themselves included, each after every module it needs, with each module once:
     * the order to load them in (and the reverse, to unload them). A dependency path without a line of its own
     * is taken as needing nothing. Names modules.dep lacks are returned as missing.
     */
    public Closure closure(List<String> names) {
        List<Entry> order = new ArrayList<>();
        List<String> missing = new ArrayList<>();
        Set<String> done = new HashSet<>();
        for (String n : names) {
            Entry top = byName.get(normalName(n));
            if (top == null) {
                if (!missing.contains(n)) {
                    missing.add(n);
                }
                continue;
            }
            // depth first, iteratively: a module is placed once all it needs (its line, right to left) is placed
            Deque<Object[]> stack = new ArrayDeque<>();
            if (done.add(top.path())) {
                stack.push(new Object[] {top, Integer.valueOf(top.needs().size() - 1)});
            }
            while (!stack.isEmpty()) {
                Object[] frame = stack.peek();
                Entry e = (Entry) frame[0];
                int i = (Integer) frame[1];
                if (i < 0) {
                    stack.pop();
                    order.add(e);
                    continue;
                }
                frame[1] = Integer.valueOf(i - 1);
                String dep = e.needs().get(i);
                if (done.add(dep)) {
                    Entry d = byPath.getOrDefault(dep, new Entry(moduleName(dep), dep, List.of()));
                    stack.push(new Object[] {d, Integer.valueOf(d.needs().size() - 1)});
                }
            }
        }
        return new Closure(List.copyOf(order), List.copyOf(missing));
    }

    private static String checkPath(String source, int lineNo, String p) {
        if (p.startsWith("/") || p.equals("..") || p.startsWith("../") || p.contains("/../") || p.endsWith("/..")
                || suffixLength(p) == 0) {
            throw corrupt(source, "line " + lineNo + " names '" + shorten(p) + "', not a module path inside the kernel's"
                    + " module directory");
        }
        int end = p.length() - suffixLength(p);
        int start = p.lastIndexOf('/', end - 1) + 1;
        if (start >= end) {
            throw corrupt(source, "line " + lineNo + " names '" + shorten(p) + "', not a module path inside the kernel's"
                    + " module directory");
        }
        for (int k = start; k < end; k++) {
            char c = p.charAt(k);
            if (!(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-')) {
                throw corrupt(source, "line " + lineNo + " names '" + shorten(p) + "', whose file name is not a module"
                        + " name (letters, digits, '_' and '-')");
            }
        }
        return p;
    }

    /** The length of a module file's suffix (".ko", ".ko.xz", ...), or 0 for another file. */
    private static int suffixLength(String p) {
        for (String s : SUFFIXES) {
            if (p.endsWith(s)) {
                return s.length();
            }
        }
        return 0;
    }

    private static String shorten(String s) {
        return s.length() > 80 ? s.substring(0, 80) + "..." : s;
    }

    private static FormatException corrupt(String source, String why) {
        return new FormatException(FormatException.Reason.CORRUPT, source + " is not a valid " + FILE
                .toLowerCase(Locale.ROOT), why, FIX);
    }
}
