package dev.rkmod.workflow.vm;

import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * What the KVM probe found, as remembered until reboot: the accelerator to use and, when it is TCG, why. One line:
 * {@code kvm}, {@code tcg hang} or {@code tcg failed <QEMU's first error line>}. An old memo that says only
 * {@code tcg} is read as a hang.
 */
record ProbeMemo(Accel accel, Cause cause, String detail) {
    /** Why KVM was not used. */
    enum Cause { NONE, HANG, FAILED }

    static ProbeMemo of(boolean reachedInit, boolean timedOut, List<String> output) {
        if (reachedInit) {
            return new ProbeMemo(Accel.KVM, Cause.NONE, "");
        }
        if (timedOut) {
            return new ProbeMemo(Accel.TCG, Cause.HANG, "");
        }
        String first = output.stream().map(String::strip).filter(l -> !l.isEmpty())
                .filter(l -> l.toLowerCase(Locale.ROOT).contains("kvm") || l.toLowerCase(Locale.ROOT).contains("error"))
                .findFirst().orElse(output.stream().map(String::strip).filter(l -> !l.isEmpty()).findFirst()
                        .orElse("QEMU exited without reaching /init"));
        return new ProbeMemo(Accel.TCG, Cause.FAILED, first.replace('\n', ' '));
    }

    static Optional<ProbeMemo> parse(String text) {
        String line = text.strip();
        if (line.equals("kvm")) {
            return Optional.of(new ProbeMemo(Accel.KVM, Cause.NONE, ""));
        }
        if (line.equals("tcg") || line.equals("tcg hang")) {
            return Optional.of(new ProbeMemo(Accel.TCG, Cause.HANG, ""));
        }
        if (line.startsWith("tcg failed")) {
            return Optional.of(new ProbeMemo(Accel.TCG, Cause.FAILED, line.substring("tcg failed".length()).strip()));
        }
        return Optional.empty();
    }

    String format() {
        return switch (cause) {
            case NONE -> accel.id();
            case HANG -> "tcg hang";
            case FAILED -> "tcg failed " + detail;
        } + "\n";
    }

    /** Whether the memo can stand for a new probe: yes, unless the probe failed for a reason that may pass. */
    boolean reusable() {
        return cause != Cause.FAILED;
    }
}
