package dev.rkmod.format;

import java.util.List;
import java.util.Locale;

/** A JUnit XML report (one testsuite), as CI systems read it. */
public final class JunitXml {
    /**
     * One test case; failure is null when it passed, skipped marks a skip. The optional parts (null: left out):
     * {@code detail} is the failure element's text, {@code systemOut} the case's standard output (where CI systems show
     * logs, and find {@code [[ATTACHMENT|path]]} lines), {@code seconds} its time.
     */
    public record Case(String className, String name, String failure, boolean skipped, String detail, String systemOut,
                       Double seconds) {
        public Case(String className, String name, String failure, boolean skipped) {
            this(className, name, failure, skipped, null, null, null);
        }
    }

    private JunitXml() {
    }

    public static String write(String suite, double seconds, List<Case> cases) {
        long failures = cases.stream().filter(c -> c.failure() != null).count();
        long skipped = cases.stream().filter(Case::skipped).count();
        StringBuilder sb = new StringBuilder("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        sb.append(String.format(Locale.ROOT, "<testsuite name=\"%s\" tests=\"%d\" failures=\"%d\" errors=\"0\" skipped=\"%d\" time=\"%.3f\">%n",
                esc(suite), cases.size(), failures, skipped, seconds));
        for (Case c : cases) {
            sb.append("  <testcase classname=\"").append(esc(c.className())).append("\" name=\"").append(esc(c.name())).append('"');
            if (c.seconds() != null) {
                sb.append(String.format(Locale.ROOT, " time=\"%.3f\"", c.seconds()));
            }
            if (c.failure() == null && !c.skipped() && c.systemOut() == null) {
                sb.append("/>\n");
                continue;
            }
            sb.append(">\n");
            if (c.skipped()) {
                sb.append("    <skipped/>\n");
            } else if (c.failure() != null) {
                sb.append("    <failure message=\"").append(esc(c.failure())).append('"');
                sb.append(c.detail() == null ? "/>\n" : ">" + esc(c.detail()) + "</failure>\n");
            }
            if (c.systemOut() != null) {
                sb.append("    <system-out>").append(esc(c.systemOut())).append("</system-out>\n");
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
