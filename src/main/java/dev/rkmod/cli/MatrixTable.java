package dev.rkmod.cli;

import dev.rkmod.model.RustcVersion;
import dev.rkmod.workflow.matrix.MatrixRow;
import dev.rkmod.workflow.matrix.MatrixWorkflow;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The matrix as text: a table (kernel, release, generation, rustc, build result and time, load verdict and time, the
 * module's first kernel log line), then each failed kernel's explanation, then the count.
 */
final class MatrixTable {
    static final List<String> HEADER = List.of("kernel", "release", "gen", "rustc", "build", "load", "first kernel log line");

    private MatrixTable() {
    }

    static String render(MatrixWorkflow.Result r) {
        List<List<String>> cells = new ArrayList<>();
        cells.add(HEADER);
        for (MatrixRow row : r.rows()) {
            cells.add(cells(row));
        }
        int[] width = new int[HEADER.size()];
        for (List<String> line : cells) {
            for (int i = 0; i < width.length; i++) {
                width[i] = Math.max(width[i], line.get(i).length());
            }
        }
        StringBuilder sb = new StringBuilder();
        for (List<String> line : cells) {
            StringBuilder l = new StringBuilder();
            for (int i = 0; i < width.length; i++) {
                l.append(i == width.length - 1 ? line.get(i) : pad(line.get(i), width[i] + 2));
            }
            sb.append(l.toString().stripTrailing()).append('\n');
        }
        for (MatrixRow row : r.rows()) {
            if (row.status() == MatrixRow.Status.FAIL) {
                explanation(sb, row);
            }
        }
        long passed = r.rows().stream().filter(x -> x.status() == MatrixRow.Status.PASS).count();
        sb.append(String.format(Locale.ROOT, "%d of %d kernels passed in %s (%d at a time)%n", passed, r.rows().size(),
                TextRenderer.seconds(r.took().toMillis()), r.jobs()));
        return sb.toString();
    }

    static List<String> cells(MatrixRow row) {
        String release = row.kernel().map(MatrixRow.Kernel::release).orElse("-");
        String gen = row.kernel().map(MatrixRow.Kernel::generation).orElse("-");
        String rustc = row.kernel().map(k -> RustcVersion.parse(k.rustc()).release()).orElse("-");
        String build = row.status() == MatrixRow.Status.SKIPPED ? "skipped"
                : row.build().map(b -> (b.ok() ? "ok   " : "FAIL ") + secs(b.took().toMillis())).orElse("-");
        String load = row.load().map(l -> (l.pass() ? "PASS " : "FAIL ") + secs(l.took().toMillis())).orElse("-");
        String first = row.load().flatMap(MatrixRow.Load::firstLine).orElse("");
        return List.of(row.spec().label(), release, gen, rustc, build, load, first);
    }

    private static void explanation(StringBuilder sb, MatrixRow row) {
        List<MatrixRow.Explanation> why = row.explanations();
        sb.append('\n');
        if (why.isEmpty()) {
            sb.append(row.spec().label()).append(": failed\n");
        }
        for (int i = 0; i < why.size(); i++) {
            MatrixRow.Explanation e = why.get(i);
            if (i == 0) {
                sb.append(row.spec().label()).append(": ").append(e.phase().name().toLowerCase(Locale.ROOT))
                        .append(" failed: ").append(e.title()).append(e.id() != null ? " [" + e.id() + "]" : "").append('\n');
            } else {
                sb.append("  also:  ").append(e.title()).append(e.id() != null ? " [" + e.id() + "]" : "").append('\n');
            }
            if (e.seen() != null) {
                sb.append("  seen:  ").append(e.seen()).append('\n');
            }
            if (e.cause() != null) {
                sb.append("  cause: ").append(e.cause()).append('\n');
            }
            if (e.fix() != null) {
                sb.append("  fix:   ").append(e.fix()).append('\n');
            }
        }
        row.buildLog().ifPresent(p -> sb.append("  build log:   ").append(p).append('\n'));
        row.load().flatMap(MatrixRow.Load::verdict).map(v -> v.consoleLog()).ifPresent(p ->
                sb.append("  console log: ").append(p).append('\n'));
    }

    private static String secs(long millis) {
        return String.format(Locale.ROOT, "%5.1f s", millis / 1000.0);
    }

    private static String pad(String s, int n) {
        return s.length() >= n ? s : s + " ".repeat(n - s.length());
    }
}
