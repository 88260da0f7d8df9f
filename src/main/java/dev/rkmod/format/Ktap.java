package dev.rkmod.format;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * KTAP (KUnit) results in a console log. The printk prefix before "KTAP version" is cut from the lines
 * that follow; "ok N name" / "not ok N name" with an optional "# SKIP reason"; subtests are indented.
 */
public final class Ktap {
    /** One test result; depth 0 for suites. */
    public record Result(int depth, int number, String name, Status status, String directive) { }

    /** Outcome of a test. */
    public enum Status { PASS, FAIL, SKIP }

    /**
     * Possessive quantifiers and DOTALL: the name and the directive are taken whole and stripped in code, so that no
     * line (a long run of blanks before a character '.' does not match) makes the matcher backtrack quadratically.
     */
    private static final Pattern RESULT = Pattern.compile("^( *+)(not ok|ok) (\\d{1,9})(?!\\d)(?: -)? ?([^#]*+)(?:#(.*+))?$",
            Pattern.DOTALL);

    private Ktap() {
    }

    public static List<Result> parse(List<String> lines) {
        List<Result> out = new ArrayList<>();
        int prefix = -1;
        for (String line : lines) {
            int k = line.indexOf("KTAP version");
            if (k >= 0) {
                if (prefix < 0 || k < prefix) {
                    prefix = k;
                }
                continue;
            }
            if (prefix < 0 || line.length() < prefix) {
                continue;
            }
            String body = line.substring(prefix);
            Matcher m = RESULT.matcher(body);
            if (!m.matches()) {
                continue;
            }
            String directive = m.group(5) == null ? "" : m.group(5).strip();
            Status s = directive.toUpperCase().startsWith("SKIP") ? Status.SKIP
                    : m.group(2).equals("ok") ? Status.PASS : Status.FAIL;
            out.add(new Result(m.group(1).length() / 4, Integer.parseInt(m.group(3)), m.group(4).strip(), s, directive));
        }
        return out;
    }
}
