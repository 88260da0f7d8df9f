package dev.rkmod.fuzz;

import java.nio.file.Path;
import java.util.List;

/**
 * One parser under fuzzing: its name (also the directory of its seeds, {@code src/test/resources/fuzz/NAME}, and of its
 * regression inputs, {@code fuzz/regressions/NAME}), whether its input is text, its dictionary, and the call. The
 * contract: the call returns, or throws one of {@link #allowed()}; anything else (a RuntimeException, an Error, an
 * IOException from a readable file), a hang or an allocation far beyond the input's size is a finding.
 */
public record FuzzTarget(String name, boolean text, List<String> dictionary, List<Class<? extends Throwable>> allowed,
                         long allocBase, Body body) {
    /** What any parser may allocate for one input besides 64 times its size. */
    public static final long ALLOC_BASE = 64L << 20;
    /**
     * The same for a decompressing parser: the 64 MiB dictionary of {@code xz -9} and a bounded output (32 MiB plus
     * 32 times the input), which the reader copies once.
     */
    public static final long DECOMPRESSING = 192L << 20;

    public FuzzTarget(String name, boolean text, List<String> dictionary, List<Class<? extends Throwable>> allowed, Body body) {
        this(name, text, dictionary, allowed, ALLOC_BASE, body);
    }

    /** Runs the parser on one input; {@code scratch} is a directory private to the calling thread. */
    @FunctionalInterface
    public interface Body {
        void run(byte[] input, Path scratch) throws Exception;
    }

    public boolean isAllowed(Throwable t) {
        return allowed.stream().anyMatch(c -> c.isInstance(t));
    }
}
