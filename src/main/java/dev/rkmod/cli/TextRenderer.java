package dev.rkmod.cli;

import dev.rkmod.infra.event.Event;
import dev.rkmod.infra.event.EventSink;

import java.io.PrintWriter;
import java.util.Locale;

/** Renders events as text on standard error; on a terminal, progress and output share one updating line. */
final class TextRenderer implements EventSink {
    private static final int WIDTH = 100;
    private final PrintWriter err;
    private final boolean tty;
    private final boolean verbose;
    private final boolean debug;
    private final boolean quiet;
    private boolean statusShown;
    private long lastProgressBucket = -1;

    TextRenderer(PrintWriter err, boolean tty, boolean verbose, boolean debug, boolean quiet) {
        this.err = err;
        this.tty = tty;
        this.verbose = verbose;
        this.debug = debug;
        this.quiet = quiet;
    }

    @Override
    public synchronized void emit(Event event) {
        if (event instanceof Event.StageStarted s) {
            lastProgressBucket = -1;
            if (!quiet) {
                line("==> " + s.stage() + (s.detail() == null || s.detail().isBlank() ? "" : ": " + s.detail()));
            }
        } else if (event instanceof Event.StageFinished f) {
            if (!quiet || !f.ok()) {
                line("    " + f.stage() + (f.ok() ? " done in " : " FAILED after ") + seconds(f.elapsed().toMillis()));
            }
        } else if (event instanceof Event.Progress p) {
            progress(p);
        } else if (event instanceof Event.OutputLine o) {
            if (verbose || debug) {
                line("    [" + o.source() + "] " + o.line());
            } else if (tty && !quiet) {
                status("    [" + o.source() + "] " + o.line());
            }
        } else if (event instanceof Event.Message m) {
            switch (m.level()) {
                case DEBUG -> {
                    if (debug) {
                        line("debug: " + m.text());
                    }
                }
                case INFO -> {
                    if (!quiet) {
                        line("    " + m.text());
                    }
                }
                default -> line("warning: " + m.text());
            }
        }
    }

    private void progress(Event.Progress p) {
        if (quiet) {
            return;
        }
        String text = p.total() > 0
                ? String.format(Locale.ROOT, "    %s: %d/%d %s (%d%%)", p.stage(), p.done(), p.total(), p.unit(),
                Math.min(100, p.done() * 100 / p.total()))
                : String.format(Locale.ROOT, "    %s: %d %s", p.stage(), p.done(), p.unit());
        if (tty) {
            status(text);
            return;
        }
        long bucket = p.total() > 0 ? Math.min(10, p.done() * 10 / p.total()) : p.done() / 1000;
        if (bucket != lastProgressBucket) {
            lastProgressBucket = bucket;
            line(text);
        }
    }

    private void status(String text) {
        String t = text.length() > WIDTH ? text.substring(0, WIDTH - 1) + "…" : text;
        err.print("\r\033[K" + t);
        err.flush();
        statusShown = true;
    }

    private void line(String text) {
        if (statusShown) {
            err.print("\r\033[K");
            statusShown = false;
        }
        err.println(text);
        err.flush();
    }

    static String seconds(long millis) {
        // by hand: String.format loads Formatter and the locale's number data, about 10 ms in a fresh JVM
        if (millis < 60_000) {
            return Text.tenths(millis) + " s";
        }
        long s = (millis / 1000) % 60;
        return millis / 60_000 + " min " + (s < 10 ? "0" : "") + s + " s";
    }
}
