package dev.rkmod.workflow.matrix;

import dev.rkmod.format.JunitXml;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The matrix as a JUnit XML report: one test case per kernel, failed with the explanation, its system-out holding the
 * build log and the VM's console log: each named by a {@code [[ATTACHMENT|path]]} line (the convention GitLab and
 * Jenkins show as attachments) and then inlined, so that a CI page shows them without the files.
 */
final class MatrixJunit {
    static final String SUITE = "rkmod.matrix";
    /** How much of a log is inlined; a longer one keeps its end, where failures are. */
    static final int LOG_LIMIT = 64 * 1024;

    private MatrixJunit() {
    }

    static String of(MatrixWorkflow.Result r) {
        List<JunitXml.Case> cases = new ArrayList<>();
        for (MatrixRow row : r.rows()) {
            String name = row.spec().label() + row.kernel().map(k -> " (Linux " + k.release() + ")").orElse("");
            String failure = null;
            String detail = null;
            if (row.status() == MatrixRow.Status.FAIL) {
                failure = MatrixWorkflow.summary(row);
                detail = detail(row);
            }
            cases.add(new JunitXml.Case(SUITE + "." + r.module(), name, failure, row.status() == MatrixRow.Status.SKIPPED,
                    detail, systemOut(row), row.took().toMillis() / 1000.0));
        }
        return JunitXml.write(SUITE, r.took().toMillis() / 1000.0, cases);
    }

    /** Every reason with the catalogue's cause and fix, then the build's own error lines. */
    private static String detail(MatrixRow row) {
        StringBuilder sb = new StringBuilder();
        for (MatrixRow.Explanation e : row.explanations()) {
            sb.append(e.phase().name().toLowerCase(java.util.Locale.ROOT)).append(": ").append(e.title());
            if (e.id() != null) {
                sb.append(" [").append(e.id()).append(']');
            }
            sb.append('\n');
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
        row.build().map(MatrixRow.Build::errorLines).filter(l -> !l.isEmpty()).ifPresent(lines -> {
            sb.append("the build's own errors:\n");
            lines.forEach(l -> sb.append("  ").append(l).append('\n'));
        });
        return sb.toString();
    }

    private static String systemOut(MatrixRow row) {
        Optional<Path> console = row.load().flatMap(MatrixRow.Load::verdict).map(v -> v.consoleLog());
        if (row.buildLog().isEmpty() && console.isEmpty()) {
            return null;
        }
        StringBuilder sb = new StringBuilder();
        row.buildLog().ifPresent(p -> sb.append("[[ATTACHMENT|").append(p).append("]]\n"));
        console.ifPresent(p -> sb.append("[[ATTACHMENT|").append(p).append("]]\n"));
        row.buildLog().ifPresent(p -> inline(sb, "build log", p));
        console.ifPresent(p -> inline(sb, "console log", p));
        return sb.toString();
    }

    private static void inline(StringBuilder sb, String what, Path p) {
        sb.append("\n----- ").append(what).append(": ").append(p).append(" -----\n");
        try (InputStream in = Files.newInputStream(p)) {
            long size = Files.size(p);
            if (size > LOG_LIMIT) {
                in.skipNBytes(size - LOG_LIMIT);
                sb.append("[... the first ").append(size - LOG_LIMIT).append(" bytes are in the file ...]\n");
            }
            String text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            sb.append(text);
            if (!text.endsWith("\n")) {
                sb.append('\n');
            }
        } catch (IOException e) {
            sb.append("(cannot read it: ").append(e.getMessage()).append(")\n");
        }
    }
}
