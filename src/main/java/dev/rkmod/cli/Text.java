package dev.rkmod.cli;

import dev.rkmod.model.Finding;

import java.io.PrintWriter;
import java.util.List;

/** Plain-text pieces several commands print the same way. */
final class Text {
    private Text() {
    }

    /**
     * 1234 ms -> "1.2": seconds with one decimal, rounded half up as {@code %.1f} rounds millis / 1000.0, without
     * {@code String.format} (Formatter and the locale's number data cost about 10 ms in a fresh JVM).
     */
    static String tenths(long millis) {
        long t = (millis + 50) / 100;
        return t / 10 + "." + t % 10;
    }

    /** {@code s} padded with spaces to {@code width}, as {@code %-<width>s} pads. */
    static String pad(Object s, int width) {
        StringBuilder b = new StringBuilder(String.valueOf(s));
        while (b.length() < width) {
            b.append(' ');
        }
        return b.toString();
    }

    /** 1536 -> "1.5 KiB". */
    static String size(long bytes) {
        if (bytes < 1024) {
            return bytes + " B";
        }
        double v = bytes;
        String[] units = {"KiB", "MiB", "GiB", "TiB"};
        int i = -1;
        while (v >= 1024 && i < units.length - 1) {
            v /= 1024;
            i++;
        }
        // by hand, as TextRenderer.seconds: String.format costs about 10 ms in a fresh JVM (Formatter, locale data);
        // BigDecimal rounds the double's exact value half up, as %.1f does
        java.math.BigDecimal tenths = new java.math.BigDecimal(v).setScale(1, java.math.RoundingMode.HALF_UP);
        return tenths.toPlainString() + " " + units[i];
    }

    /** Doctor's findings, one block each: severity, id, what, then why and fix. */
    static void findings(PrintWriter w, List<Finding> list) {
        for (Finding f : list) {
            w.printf("  %-7s %-24s %s%n", f.severity().name(), f.id(), f.what());
            if (f.why() != null) {
                w.println("          why: " + f.why());
            }
            if (f.fix() != null) {
                w.println("          fix: " + f.fix());
            }
        }
    }
}
