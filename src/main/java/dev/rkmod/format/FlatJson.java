package dev.rkmod.format;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A reader for the flat JSON objects rkmod writes as manifests and cache entries: string, integer, boolean and null
 * values, arrays of strings and objects of strings, nothing nested deeper. It exists so that reading a manifest on a short command (build, vmtest, doctor)
 * does not load and reflect over Gson; anything it does not know is a {@link FormatException}, and callers then fall
 * back to Gson, so it never changes what a manifest reads as.
 */
public final class FlatJson {
    private final String s;
    private int pos;

    private FlatJson(String s) {
        this.s = s;
    }

    /** The object's members in file order: String, Long, Boolean, null, List&lt;String&gt; or Map&lt;String, String&gt;. */
    public static Map<String, Object> parse(String text) {
        FlatJson p = new FlatJson(text);
        Map<String, Object> out = new LinkedHashMap<>();
        p.expect('{');
        if (!p.consume('}')) {
            do {
                String key = p.string();
                p.expect(':');
                if (out.put(key, p.value()) != null) {
                    throw bad("the key " + key + " appears twice");
                }
            } while (p.consume(','));
            p.expect('}');
        }
        p.skipSpace();
        if (p.pos != text.length()) {
            throw bad("text follows the object");
        }
        return out;
    }

    private Object value() {
        skipSpace();
        char c = peek();
        if (c == '"') {
            return string();
        }
        if (c == '{') {
            pos++;
            Map<String, String> map = new LinkedHashMap<>();
            if (!consume('}')) {
                do {
                    String key = string();
                    expect(':');
                    if (map.put(key, string()) != null) {
                        throw bad("the key " + key + " appears twice");
                    }
                } while (consume(','));
                expect('}');
            }
            return java.util.Collections.unmodifiableMap(map);
        }
        if (c == '[') {
            pos++;
            List<String> list = new ArrayList<>();
            if (!consume(']')) {
                do {
                    list.add(string());
                } while (consume(','));
                expect(']');
            }
            return List.copyOf(list);
        }
        if (s.startsWith("true", pos)) {
            pos += 4;
            return Boolean.TRUE;
        }
        if (s.startsWith("false", pos)) {
            pos += 5;
            return Boolean.FALSE;
        }
        if (s.startsWith("null", pos)) {
            pos += 4;
            return null;
        }
        int start = pos;
        if (c == '-') {
            pos++;
        }
        while (pos < s.length() && Character.isDigit(s.charAt(pos)) && s.charAt(pos) < 128) {
            pos++;
        }
        if (pos == start || pos - start > 18 || s.charAt(pos - 1) == '-') {
            throw bad("a value is neither a string, an integer, a boolean, null, a list of strings nor an object of strings");
        }
        return Long.parseLong(s.substring(start, pos));
    }

    private String string() {
        skipSpace();
        expect('"');
        StringBuilder b = new StringBuilder();
        while (true) {
            if (pos >= s.length()) {
                throw bad("a string is not closed");
            }
            char c = s.charAt(pos++);
            if (c == '"') {
                return b.toString();
            }
            if (c < 0x20) {
                throw bad("a string holds a control character");
            }
            if (c != '\\') {
                b.append(c);
                continue;
            }
            if (pos >= s.length()) {
                throw bad("a string ends in a backslash");
            }
            char e = s.charAt(pos++);
            switch (e) {
                case '"', '\\', '/' -> b.append(e);
                case 'b' -> b.append('\b');
                case 'f' -> b.append('\f');
                case 'n' -> b.append('\n');
                case 'r' -> b.append('\r');
                case 't' -> b.append('\t');
                case 'u' -> {
                    if (pos + 4 > s.length()) {
                        throw bad("a \\u escape is cut short");
                    }
                    try {
                        b.append((char) Integer.parseInt(s.substring(pos, pos + 4), 16));
                    } catch (NumberFormatException ex) {
                        throw bad("a \\u escape is not hexadecimal");
                    }
                    pos += 4;
                }
                default -> throw bad("a string holds the unknown escape \\" + e);
            }
        }
    }

    private void skipSpace() {
        while (pos < s.length() && (s.charAt(pos) == ' ' || s.charAt(pos) == '\n' || s.charAt(pos) == '\r'
                || s.charAt(pos) == '\t')) {
            pos++;
        }
    }

    private char peek() {
        if (pos >= s.length()) {
            throw bad("it ends early");
        }
        return s.charAt(pos);
    }

    private boolean consume(char c) {
        skipSpace();
        if (pos < s.length() && s.charAt(pos) == c) {
            pos++;
            return true;
        }
        return false;
    }

    private void expect(char c) {
        if (!consume(c)) {
            throw bad("'" + c + "' is expected at offset " + pos);
        }
    }

    private static FormatException bad(String why) {
        return new FormatException(FormatException.Reason.UNSUPPORTED, "Not a flat JSON object", why,
                "Read it with a general JSON reader");
    }
}
