package dev.rkmod.infra.lifecycle;

/**
 * Start-up work done beside the command instead of before it: one daemon thread per task, never waited for. A task
 * only initialises classes or JIT-compiles code that the command uses next, so the command waits for it (through class
 * initialisation) only when it gets there first, and nothing changes when it is slow or fails.
 */
public final class Background {
    private Background() {
    }

    /** Runs {@code task} on a daemon thread named {@code name}. */
    public static void start(String name, Runnable task) {
        Thread t = new Thread(task, name);
        t.setDaemon(true);
        t.start();
    }
}
