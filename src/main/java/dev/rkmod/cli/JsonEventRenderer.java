package dev.rkmod.cli;

import com.google.gson.JsonObject;
import dev.rkmod.infra.event.Event;
import dev.rkmod.infra.event.EventSink;

import java.io.PrintWriter;

/** With --json --debug: one JSON object per event on standard error. */
final class JsonEventRenderer implements EventSink {
    private final PrintWriter err;

    JsonEventRenderer(PrintWriter err) {
        this.err = err;
    }

    @Override
    public synchronized void emit(Event event) {
        JsonObject o = new JsonObject();
        o.addProperty("event", event.getClass().getSimpleName());
        if (event instanceof Event.StageStarted s) {
            o.addProperty("stage", s.stage());
            o.addProperty("detail", s.detail());
        } else if (event instanceof Event.StageFinished f) {
            o.addProperty("stage", f.stage());
            o.addProperty("millis", f.elapsed().toMillis());
            o.addProperty("ok", f.ok());
        } else if (event instanceof Event.Progress p) {
            o.addProperty("stage", p.stage());
            o.addProperty("done", p.done());
            o.addProperty("total", p.total());
            o.addProperty("unit", p.unit());
        } else if (event instanceof Event.OutputLine l) {
            o.addProperty("source", l.source());
            o.addProperty("line", l.line());
        } else if (event instanceof Event.Message m) {
            o.addProperty("level", m.level().name());
            o.addProperty("text", m.text());
        }
        err.println(o);
        err.flush();
    }
}
