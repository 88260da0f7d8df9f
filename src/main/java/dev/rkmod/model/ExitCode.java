package dev.rkmod.model;

/** The documented process exit codes of rkmod. README lists the same table. */
public enum ExitCode {
    OK(0, "success"),
    CHECK_FAILED(1, "the checked thing failed (doctor findings, a failed vmtest, an invalid signature)"),
    USAGE(2, "usage error"),
    ENVIRONMENT(3, "environment or toolchain missing"),
    BUILD_FAILED(4, "the build failed"),
    INTERNAL(5, "internal error in rkmod (a bug; rerun with --debug and report it)");

    private final int code;
    private final String meaning;

    ExitCode(int code, String meaning) {
        this.code = code;
        this.meaning = meaning;
    }

    public int code() {
        return code;
    }

    public String meaning() {
        return meaning;
    }
}
