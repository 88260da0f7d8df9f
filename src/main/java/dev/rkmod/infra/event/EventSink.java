package dev.rkmod.infra.event;

/** Receives events. Implementations must tolerate calls from several threads. */
@FunctionalInterface
public interface EventSink {

    EventSink NONE = event -> { };

    void emit(Event event);

    default void info(String text) {
        emit(Event.info(text));
    }

    default void warn(String text) {
        emit(Event.warn(text));
    }

    default void debug(String text) {
        emit(Event.debug(text));
    }
}
