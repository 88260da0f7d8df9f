package dev.rkmod.infra.lifecycle;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Undo actions that must run when rkmod is interrupted (Ctrl-C, SIGTERM): first kill children,
 * then unmount, then remove half-built outputs. One JVM shutdown hook runs them in that order.
 */
public final class Cleanup {

    /** Order in which registered actions run at shutdown. */
    public enum Phase { PROCESSES, MOUNTS, FILES }

    private static final Map<Long, Entry> ACTIONS = new ConcurrentHashMap<>();
    private static final AtomicLong IDS = new AtomicLong();
    private static volatile boolean shuttingDown;

    private record Entry(Phase phase, Runnable action) { }

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(Cleanup::runAll, "rkmod-cleanup"));
    }

    private Cleanup() {
    }

    /** Registers an action; close the handle when the action is no longer needed. */
    public static Handle register(Phase phase, Runnable action) {
        long id = IDS.incrementAndGet();
        ACTIONS.put(id, new Entry(phase, action));
        return () -> {
            // once shutdown has begun, the hook owns the remaining actions: a thread unwinding at the same
            // time must not unregister what the hook has still to run
            if (!shuttingDown) {
                ACTIONS.remove(id);
            }
        };
    }

    /** True once the JVM is going down (Ctrl-C, SIGTERM). */
    public static boolean shuttingDown() {
        return shuttingDown;
    }

    private static void runAll() {
        shuttingDown = true;
        for (Phase phase : Phase.values()) {
            ACTIONS.entrySet().stream()
                    .filter(e -> e.getValue().phase() == phase)
                    .sorted(Map.Entry.<Long, Entry>comparingByKey().reversed())
                    .forEach(e -> {
                        try {
                            e.getValue().action().run();
                        } catch (RuntimeException ignored) {
                            // best effort while the JVM is going down
                        }
                    });
        }
    }

    /** Unregisters the action. */
    @FunctionalInterface
    public interface Handle extends AutoCloseable {
        @Override
        void close();
    }
}
