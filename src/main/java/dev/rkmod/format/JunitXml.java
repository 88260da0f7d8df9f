package dev.rkmod.format;

import java.util.List;

/** A JUnit XML report (one testsuite), as CI systems read it. */
public final class JunitXml {
    /** One test case; failure is null when it passed, skipped marks a skip. */
    public record Case(String className, String name, String failure, boolean skipped) { }

    private JunitXml() {
    }

    public static String write(String suite, double seconds, List<Case> cases) {
        long failures = cases.stream().filter(c -> c.failure() != null).count();
        long skipped = cases.stream().filter(Case::skipped).count();
        StringBuilder sb = new StringBuilder("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        sb.append(String.format(java.util.Locale.ROOT, "<testsuite name=\"%s\" tests=\"%d\" failures=\"%d\" errors=\"0\" skipped=\"%d\" time=\"%.3f\">%n",
                esc(suite), cases.size(), failures, skipped, seconds));
        for (Case c : cases) {
            sb.append("  <testcase classname=\"").append(esc(c.className())).append("\" name=\"").append(esc(c.name())).append('"');
            if (c.failure() == null && !c.skipped()) {
                sb.append("/>\n");
                continue;
            }
            sb.append(">\n");
            if (c.skipped()) {
                sb.append("    <skipped/>\n");
            } else {
                sb.append("    <failure message=\"").append(esc(c.failure())).append("\"/>\n");
            }
            sb.append("  </testcase>\n");
        }
        sb.append("</testsuite>\n");
        return sb.toString();
    }

    private static String esc(String s) {
        StringBuilder sb = new StringBuilder();
        for (char ch : s.toCharArray()) {
            switch (ch) {
                case '&' -> sb.append("&amp;");
                case '<' -> sb.append("&lt;");
                case '>' -> sb.append("&gt;");
                case '"' -> sb.append("&quot;");
                default -> {
                    if (ch >= 0x20 || ch == '\t' || ch == '\n') {
                        sb.append(ch);
                    }
                }
            }
        }
        return sb.toString();
    }
}
