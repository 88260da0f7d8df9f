package dev.rkmod.infra.event;

import java.time.Duration;

/**
 * What core code reports while it works. Core code never prints: it emits these, and the CLI
 * renders them as text, a progress line or JSON.
 */
public sealed interface Event {

    enum Level { DEBUG, INFO, WARN }

    /** A named stage of a workflow begins. */
    record StageStarted(String stage, String detail) implements Event { }

    /** A named stage ends, successfully or not. */
    record StageFinished(String stage, Duration elapsed, boolean ok) implements Event { }

    /** Progress inside a stage; total is 0 when unknown. */
    record Progress(String stage, long done, long total, String unit) implements Event { }

    /** One line a subprocess printed. */
    record OutputLine(String source, String line) implements Event { }

    /** A human-readable note. */
    record Message(Level level, String text) implements Event { }

    /**
     * An event of one of several tasks running side by side (a kernel of `rkmod matrix`): {@code scope} names the
     * task, {@code event} is what it reported.
     */
    record Scoped(String scope, Event event) implements Event { }

    static Event info(String text) {
        return new Message(Level.INFO, text);
    }

    static Event warn(String text) {
        return new Message(Level.WARN, text);
    }

    static Event debug(String text) {
        return new Message(Level.DEBUG, text);
    }
}
