package dev.rkmod.infra.process;

import dev.rkmod.model.ExitCode;
import dev.rkmod.model.RkmodException;

/** A subprocess exited non-zero or ran out of time. Carries its exit code, last lines and log. */
public final class ProcessFailedException extends RkmodException {
    private static final long serialVersionUID = 1L;

    private final transient ProcessResult result;

    ProcessFailedException(ExitCode code, String what, String why, String fix, ProcessResult result) {
        super(code, what, why, fix);
        this.result = result;
    }

    public ProcessResult result() {
        return result;
    }
}
