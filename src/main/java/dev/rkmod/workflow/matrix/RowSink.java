package dev.rkmod.workflow.matrix;

import dev.rkmod.infra.event.Event;
import dev.rkmod.infra.event.EventSink;

import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * A row's events: each goes to the matrix's sink in the row's scope, and while a log is open also to that file as
 * text (the row's build log: doctor's check, make's output, then the explanation).
 */
final class RowSink implements EventSink, AutoCloseable {
    private final EventSink parent;
    private final String scope;
    private BufferedWriter log;

    RowSink(EventSink parent, String scope) {
        this.parent = parent;
        this.scope = scope;
    }

    @Override
    public void emit(Event event) {
        parent.emit(new Event.Scoped(scope, event));
        synchronized (this) {
            if (log != null) {
                String text = text(event);
                if (text != null) {
                    line(text);
                }
            }
        }
    }

    /** Starts writing the events to {@code file} (replacing it). */
    synchronized void openLog(Path file) throws IOException {
        close();
        Files.createDirectories(file.getParent());
        log = Files.newBufferedWriter(file, StandardCharsets.UTF_8);
    }

    /** Writes a line of the row's own to the open log. */
    synchronized void line(String text) {
        if (log == null) {
            return;
        }
        try {
            log.write(text);
            log.newLine();
        } catch (IOException e) {
            closeQuietly();
            parent.emit(new Event.Scoped(scope, Event.warn("cannot write the build log: " + e.getMessage())));
        }
    }

    @Override
    public synchronized void close() {
        if (log != null) {
            try {
                log.close();
            } catch (IOException ignored) {
                // what was written stays
            }
            log = null;
        }
    }

    private void closeQuietly() {
        try {
            log.close();
        } catch (IOException ignored) {
            // the log is given up
        }
        log = null;
    }

    /** An event as a line of the log, or null for none (progress). */
    static String text(Event e) {
        if (e instanceof Event.StageStarted s) {
            return "==> " + s.stage() + (s.detail() == null || s.detail().isBlank() ? "" : ": " + s.detail());
        }
        if (e instanceof Event.StageFinished f) {
            return String.format(Locale.ROOT, "    %s %s %.1f s", f.stage(), f.ok() ? "done in" : "FAILED after",
                    f.elapsed().toMillis() / 1000.0);
        }
        if (e instanceof Event.OutputLine o) {
            return o.line();
        }
        if (e instanceof Event.Message m) {
            return switch (m.level()) {
                case WARN -> "warning: " + m.text();
                case INFO -> "    " + m.text();
                case DEBUG -> null;
            };
        }
        return null;
    }
}
