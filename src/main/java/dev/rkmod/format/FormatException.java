package dev.rkmod.format;

import dev.rkmod.model.ExitCode;
import dev.rkmod.model.RkmodException;

/** A file is not in the format a reader expects. {@link #reason()} says how. */
public class FormatException extends RkmodException {
    private static final long serialVersionUID = 1L;

    /** How a file can be wrong. */
    public enum Reason { TRUNCATED, BAD_MAGIC, CORRUPT, UNSUPPORTED }

    private final Reason reason;

    public FormatException(Reason reason, String what, String why, String fix) {
        super(ExitCode.ENVIRONMENT, what, why, fix);
        this.reason = reason;
    }

    public Reason reason() {
        return reason;
    }
}
