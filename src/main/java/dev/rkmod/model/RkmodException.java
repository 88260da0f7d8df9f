package dev.rkmod.model;

import java.util.Objects;

/**
 * An error a user can act on. It carries what went wrong, why, and how to fix it, plus the exit
 * code the CLI returns. The CLI prints the three parts as one paragraph and never a stack trace
 * (unless --debug).
 */
public class RkmodException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** What went wrong, for callers that react to one error in particular; most errors are {@link #GENERAL}. */
    public enum Kind {
        GENERAL,
        /** A kernel tree was built without CONFIG_RUST. */
        RUST_DISABLED
    }

    private final Kind kind;
    private final ExitCode exitCode;
    private final String why;
    private final String fix;

    public RkmodException(ExitCode exitCode, String what, String why, String fix) {
        this(exitCode, what, why, fix, null);
    }

    public RkmodException(ExitCode exitCode, String what, String why, String fix, Throwable cause) {
        this(Kind.GENERAL, exitCode, what, why, fix, cause);
    }

    public RkmodException(Kind kind, ExitCode exitCode, String what, String why, String fix) {
        this(kind, exitCode, what, why, fix, null);
    }

    public RkmodException(Kind kind, ExitCode exitCode, String what, String why, String fix, Throwable cause) {
        super(Objects.requireNonNull(what), cause);
        this.kind = Objects.requireNonNull(kind);
        this.exitCode = Objects.requireNonNull(exitCode);
        this.why = why;
        this.fix = fix;
    }

    public Kind kind() {
        return kind;
    }

    public ExitCode exitCode() {
        return exitCode;
    }

    public String what() {
        return getMessage();
    }

    /** Why it matters; may be null. */
    public String why() {
        return why;
    }

    /** How to fix it; may be null. */
    public String fix() {
        return fix;
    }

    /** One paragraph: what. why. fix. */
    public String paragraph() {
        StringBuilder sb = new StringBuilder(sentence(what()));
        if (why != null && !why.isBlank()) {
            sb.append(' ').append(sentence(why));
        }
        if (fix != null && !fix.isBlank()) {
            sb.append(' ').append(sentence(fix));
        }
        return sb.toString();
    }

    private static String sentence(String s) {
        String t = s.strip();
        if (t.isEmpty() || t.contains("\n") || t.endsWith(".") || t.endsWith("!") || t.endsWith("?") || t.endsWith(":")) {
            return t;
        }
        return t + ".";
    }
}
