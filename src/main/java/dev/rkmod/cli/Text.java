package dev.rkmod.cli;

import dev.rkmod.model.Finding;

import java.io.PrintWriter;
import java.util.List;

/** Plain-text pieces several commands print the same way. */
final class Text {
    private Text() {
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
