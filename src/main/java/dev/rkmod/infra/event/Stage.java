package dev.rkmod.infra.event;

import java.time.Duration;

/**
 * Brackets a stage with {@link Event.StageStarted} and {@link Event.StageFinished}.
 * Use with try-with-resources and call {@link #ok()} before leaving normally.
 */
public final class Stage implements AutoCloseable {
    private final EventSink sink;
    private final String name;
    private final long startNanos = System.nanoTime();
    private boolean ok;

    private Stage(EventSink sink, String name) {
        this.sink = sink;
        this.name = name;
    }

    public static Stage start(EventSink sink, String name, String detail) {
        sink.emit(new Event.StageStarted(name, detail));
        return new Stage(sink, name);
    }

    public void ok() {
        ok = true;
    }

    public Duration elapsed() {
        return Duration.ofNanos(System.nanoTime() - startNanos);
    }

    @Override
    public void close() {
        sink.emit(new Event.StageFinished(name, elapsed(), ok));
    }
}
