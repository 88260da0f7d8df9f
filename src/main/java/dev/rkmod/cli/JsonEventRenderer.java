package dev.rkmod.cli;

import dev.rkmod.infra.event.Event;
import dev.rkmod.infra.event.EventSink;

import java.io.PrintWriter;

/** With --json --debug: one JSON object per event on standard error. */
final class JsonEventRenderer implements EventSink {
    private final PrintWriter err;

    JsonEventRenderer(PrintWriter err) {
        this.err = err;
    }

    /** An event's JSON: its kind, then its values. */
    record Tagged(String event, @Json.Inline Record values) { }

    /** A finished stage, its time in milliseconds. */
    record Finished(String stage, long millis, boolean ok) { }

    /** A message, its level as the upper-case name. */
    record Note(String level, String text) { }

    /** An event of one task among several: its scope, then the event as it would be written alone. */
    record InScope(String scope, @Json.Inline Tagged tagged) { }

    @Override
    public synchronized void emit(Event event) {
        err.println(Json.fromRecord(event instanceof Event.Scoped s ? new InScope(s.scope(), tagged(s.event())) : tagged(event)));
        err.flush();
    }

    private static Tagged tagged(Event event) {
        Record values;
        if (event instanceof Event.StageFinished f) {
            values = new Finished(f.stage(), f.elapsed().toMillis(), f.ok());
        } else if (event instanceof Event.Message m) {
            values = new Note(m.level().name(), m.text());
        } else {
            values = (Record) event;
        }
        return new Tagged(event.getClass().getSimpleName(), values);
    }
}
