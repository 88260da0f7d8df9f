package dev.rkmod.format;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A kernel {@code .config} or {@code include/config/auto.conf}: {@code CONFIG_X=value} lines and
 * {@code # CONFIG_X is not set} lines. Values keep their text (y, m, "string", 123, 0x10). Symbols are
 * stored without the CONFIG_ prefix. An unset symbol is reported as "n".
 */
public final class KernelConfig {
    private static final Pattern SET = Pattern.compile("^CONFIG_([A-Za-z0-9_]+)=(.*)$");
    private static final Pattern UNSET = Pattern.compile("^# CONFIG_([A-Za-z0-9_]+) is not set$");
    private static final Pattern HEADER = Pattern.compile("^# Linux/(\\S+) (\\S+) Kernel Configuration");

    /** A .config is some 300 KiB; a compressed one expanding beyond this is refused. */
    private static final int MAX_XZ_TEXT = 64 << 20;

    private final Map<String, String> values;
    private final String headerArch;
    private final String headerVersion;

    private KernelConfig(Map<String, String> values, String headerArch, String headerVersion) {
        this.values = values;
        this.headerArch = headerArch;
        this.headerVersion = headerVersion;
    }

    public static KernelConfig empty() {
        return new KernelConfig(new LinkedHashMap<>(), null, null);
    }

    /** Reads a config file; files ending in .xz are decompressed. */
    public static KernelConfig read(Path file) throws IOException {
        try {
            byte[] data;
            if (file.getFileName().toString().endsWith(".xz")) {
                try (InputStream in = new org.tukaani.xz.XZInputStream(Files.newInputStream(file),
                        CompressedModule.XZ_MEMORY_LIMIT_KIB)) {
                    data = in.readNBytes(MAX_XZ_TEXT + 1);
                }
                if (data.length > MAX_XZ_TEXT) {
                    throw new IOException("corrupt xz data in " + file + ": it expands to more than " + (MAX_XZ_TEXT >> 20)
                            + " MiB, far more than any kernel configuration");
                }
            } else {
                data = Files.readAllBytes(file);
            }
            int nul = Bytes.indexOf(data, (byte) 0, 0, data.length);
            if (nul >= 0) {
                int line = 1;
                for (int i = 0; i < nul; i++) {
                    line += data[i] == '\n' ? 1 : 0;
                }
                throw new IOException(file + " has a NUL byte on line " + line + ": it is binary or corrupt, not a"
                        + " kernel config, and the options on that line would be lost silently");
            }
            return parse(new String(data, StandardCharsets.UTF_8));
        } catch (NoSuchFileException e) {
            throw e;
        } catch (org.tukaani.xz.XZIOException e) {
            throw new IOException("corrupt xz data in " + file + ": " + e.getMessage(), e);
        } catch (java.io.EOFException e) {
            throw new IOException("corrupt xz data in " + file + ": it ends before the end of its xz stream", e);
        }
    }

    public static KernelConfig parse(String text) {
        Map<String, String> values = new LinkedHashMap<>();
        String arch = null;
        String version = null;
        for (String raw : text.split("\n")) {
            String line = raw.strip();
            // the common lines without a regular expression (a cold JVM runs them thousands of times per command)
            if (line.startsWith("CONFIG_")) {
                int eq = line.indexOf('=');
                if (eq > 7 && isSymbol(line, 7, eq) && isLine(line, eq + 1)) {
                    values.put(line.substring(7, eq), line.substring(eq + 1));
                    continue;
                }
            } else if (line.startsWith("# CONFIG_") && line.endsWith(NOT_SET) && line.length() > 9 + NOT_SET.length()
                    && isSymbol(line, 9, line.length() - NOT_SET.length())) {
                values.put(line.substring(9, line.length() - NOT_SET.length()), "n");
                continue;
            }
            Matcher m = SET.matcher(line);
            if (m.matches()) {
                values.put(m.group(1), m.group(2));
                continue;
            }
            m = UNSET.matcher(line);
            if (m.matches()) {
                values.put(m.group(1), "n");
                continue;
            }
            if (line.startsWith("# Linux/")) {
                m = HEADER.matcher(line);
                if (m.find() && arch == null) {
                    arch = m.group(1);
                    version = m.group(2);
                }
            }
        }
        return new KernelConfig(values, arch, version);
    }

    private static final String NOT_SET = " is not set";

    /** Whether {@code s[from, to)} is a symbol name ([A-Za-z0-9_]+). */
    private static boolean isSymbol(String s, int from, int to) {
        for (int i = from; i < to; i++) {
            char c = s.charAt(i);
            if (!(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_')) {
                return false;
            }
        }
        return to > from;
    }

    /** Whether {@code s} from {@code from} has no character a regular expression's '.' would refuse. */
    private static boolean isLine(String s, int from) {
        for (int i = from; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\n' || c == '\r' || c == '\u0085' || c == '\u2028' || c == '\u2029') {
                return false;
            }
        }
        return true;
    }

    /** The raw value, "n" for "is not set", empty when the symbol is absent. */
    public Optional<String> raw(String symbol) {
        return Optional.ofNullable(values.get(strip(symbol)));
    }

    /** The value with "n" for absent symbols. */
    public String value(String symbol) {
        return values.getOrDefault(strip(symbol), "n");
    }

    public boolean isEnabled(String symbol) {
        String v = value(symbol);
        return v.equals("y") || v.equals("m");
    }

    /** A string value without its quotes. */
    public Optional<String> string(String symbol) {
        String v = values.get(strip(symbol));
        if (v == null || v.equals("n")) {
            return Optional.empty();
        }
        if (v.length() >= 2 && v.startsWith("\"") && v.endsWith("\"")) {
            return Optional.of(v.substring(1, v.length() - 1).replace("\\\"", "\"").replace("\\\\", "\\"));
        }
        return Optional.of(v);
    }

    public Map<String, String> values() {
        return Collections.unmodifiableMap(values);
    }

    /** The architecture named in the "# Linux/ARCH VERSION Kernel Configuration" header, if any. */
    public Optional<String> headerArch() {
        return Optional.ofNullable(headerArch);
    }

    public Optional<String> headerVersion() {
        return Optional.ofNullable(headerVersion);
    }

    /**
     * The architecture the config is for, from its header or its arch symbols (X86_64, ARM64, ...):
     * a kernel ARCH name such as "x86", "arm64", "riscv".
     */
    public Optional<String> arch() {
        if (isEnabled("X86")) {
            return Optional.of("x86");
        }
        for (String[] a : new String[][] {{"ARM64", "arm64"}, {"ARM", "arm"}, {"RISCV", "riscv"}, {"PPC", "powerpc"},
                {"S390", "s390"}, {"MIPS", "mips"}, {"LOONGARCH", "loongarch"}, {"UML", "um"}}) {
            if (isEnabled(a[0])) {
                return Optional.of(a[1]);
            }
        }
        if (headerArch != null) {
            return Optional.of(headerArch.equals("x86_64") || headerArch.equals("i386") ? "x86" : headerArch);
        }
        return Optional.empty();
    }

    /** A copy with the given symbols set ("n" means not set). */
    public KernelConfig with(Map<String, String> changes) {
        Map<String, String> copy = new LinkedHashMap<>(values);
        changes.forEach((k, v) -> copy.put(strip(k), v));
        return new KernelConfig(copy, headerArch, headerVersion);
    }

    /** Serialises in .config syntax. */
    public String format() {
        StringBuilder sb = new StringBuilder();
        values.forEach((k, v) -> {
            if (v.equals("n")) {
                sb.append("# CONFIG_").append(k).append(" is not set\n");
            } else {
                sb.append("CONFIG_").append(k).append('=').append(v).append('\n');
            }
        });
        return sb.toString();
    }

    /** One changed symbol: values as {@link #value(String)} reports them. */
    public record Change(String symbol, String before, String after) { }

    /** Every symbol whose value differs between this config and {@code after}, sorted by name. */
    public Map<String, Change> diff(KernelConfig after) {
        Map<String, Change> out = new LinkedHashMap<>();
        TreeSet<String> all = new TreeSet<>(values.keySet());
        all.addAll(after.values.keySet());
        for (String s : all) {
            String a = value(s);
            String b = after.value(s);
            if (!a.equals(b)) {
                out.put(s, new Change(s, a, b));
            }
        }
        return out;
    }

    private static String strip(String symbol) {
        return symbol.startsWith("CONFIG_") ? symbol.substring(7) : symbol;
    }
}
