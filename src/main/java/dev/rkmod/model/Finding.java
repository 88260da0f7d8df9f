package dev.rkmod.model;

/**
 * One thing doctor (or the failure catalogue) has to say.
 *
 * @param id       stable identifier, such as "rustc.mismatch"
 * @param severity error, warning or info
 * @param what     what is wrong (or what was found)
 * @param why      why it breaks the build
 * @param fix      what to do, as a command where one exists; may be null
 */
public record Finding(String id, Severity severity, String what, String why, String fix) {

    /** How bad a finding is. Any error makes doctor exit 1. */
    public enum Severity { ERROR, WARNING, INFO }

    public static Finding error(String id, String what, String why, String fix) {
        return new Finding(id, Severity.ERROR, what, why, fix);
    }

    public static Finding warning(String id, String what, String why, String fix) {
        return new Finding(id, Severity.WARNING, what, why, fix);
    }

    public static Finding info(String id, String what, String why, String fix) {
        return new Finding(id, Severity.INFO, what, why, fix);
    }
}
