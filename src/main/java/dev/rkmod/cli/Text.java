package dev.rkmod.cli;

import dev.rkmod.model.Finding;

import java.io.PrintWriter;
import java.util.List;
import java.util.Locale;

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
        return String.format(Locale.ROOT, "%.1f %s", v, units[i]);
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
