package dev.rkmod.cli;

import dev.rkmod.infra.event.Event;
import dev.rkmod.infra.event.EventSink;
import dev.rkmod.workflow.matrix.MatrixWorkflow;

import java.io.PrintWriter;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The matrix's progress on standard error: on a terminal one live line per kernel, redrawn in place, with warnings
 * (and with -v every program's output) printed above them; elsewhere one line per stage a kernel starts and one when
 * it ends. Events outside a kernel's scope are printed as the other commands print them.
 */
final class MatrixRenderer implements EventSink {
    private static final int WIDTH = 100;
    private static final long REDRAW_NANOS = 100_000_000L;

    private final PrintWriter err;
    private final boolean tty;
    private final boolean verbose;
    private final boolean debug;
    private final boolean quiet;
    private final Map<String, String> lines = new LinkedHashMap<>();
    private final int labelWidth;
    private int drawn;
    private long lastDraw;

    MatrixRenderer(PrintWriter err, boolean tty, boolean verbose, boolean debug, boolean quiet, List<String> labels) {
        this.err = err;
        this.tty = tty;
        this.verbose = verbose;
        this.debug = debug;
        this.quiet = quiet;
        labels.forEach(l -> lines.put(l, "waiting"));
        this.labelWidth = labels.stream().mapToInt(String::length).max().orElse(6);
    }

    @Override
    public synchronized void emit(Event event) {
        if (event instanceof Event.Scoped s) {
            scoped(s.scope(), s.event());
        } else if (event instanceof Event.Message m) {
            message(null, m);
        } else if (event instanceof Event.StageStarted s && !quiet) {
            above("==> " + s.stage() + (s.detail() == null || s.detail().isBlank() ? "" : ": " + s.detail()));
        }
    }

    private void scoped(String scope, Event e) {
        if (e instanceof Event.StageStarted s) {
            status(scope, s.stage().equals(MatrixWorkflow.ROW_STAGE) ? "starting"
                    : s.stage() + (s.detail() == null || s.detail().isBlank() ? "" : ": " + s.detail()), false);
        } else if (e instanceof Event.StageFinished f && f.stage().equals(MatrixWorkflow.ROW_STAGE)) {
            if (!tty && !quiet) {
                above(prefix(scope) + lines.get(scope));
            }
            draw(true);
        } else if (e instanceof Event.OutputLine o) {
            if (verbose || debug) {
                above(prefix(scope) + "[" + o.source() + "] " + o.line());
            } else if (tty) {
                status(scope, "[" + o.source() + "] " + o.line(), true);
            }
        } else if (e instanceof Event.Message m) {
            message(scope, m);
        }
    }

    private void message(String scope, Event.Message m) {
        switch (m.level()) {
            case DEBUG -> {
                if (debug) {
                    above("debug: " + (scope != null ? prefix(scope) : "") + m.text());
                }
            }
            case WARN -> above("warning: " + (scope != null ? prefix(scope) : "") + m.text());
            case INFO -> {
                if (scope != null) {
                    status(scope, m.text(), false);
                } else if (!quiet) {
                    above(m.text());
                }
            }
        }
    }

    /** A kernel's new status: its live line on a terminal, else a line of its own for a stage (not program output). */
    private void status(String scope, String text, boolean output) {
        lines.put(scope, text);
        if (tty) {
            draw(false);
        } else if (!output && !quiet && !text.startsWith("PASS") && !text.startsWith("FAIL") && !text.startsWith("SKIPPED")) {
            above(prefix(scope) + text);
        }
    }

    private String prefix(String scope) {
        return "[" + scope + "] ";
    }

    /** Prints a line above the live lines (or just a line, off a terminal). */
    private void above(String text) {
        if (tty && drawn > 0) {
            err.print("\033[" + drawn + "A\r\033[J");
            drawn = 0;
        }
        err.println(text);
        if (tty) {
            draw(true);
        }
        err.flush();
    }

    private void draw(boolean force) {
        if (!tty || quiet) {
            return;
        }
        long now = System.nanoTime();
        if (!force && drawn > 0 && now - lastDraw < REDRAW_NANOS) {
            return;
        }
        lastDraw = now;
        StringBuilder sb = new StringBuilder();
        if (drawn > 0) {
            sb.append("\033[").append(drawn).append("A");
        }
        for (Map.Entry<String, String> e : lines.entrySet()) {
            String l = String.format("%-" + labelWidth + "s  %s", e.getKey(), e.getValue());
            sb.append("\r\033[K").append(l.length() > WIDTH ? l.substring(0, WIDTH - 1) + "…" : l).append('\n');
        }
        err.print(sb);
        err.flush();
        drawn = lines.size();
    }
}
