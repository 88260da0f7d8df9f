package dev.rkmod.workflow.vm;

import java.util.Locale;
import java.util.Optional;

/** The accelerator the test VM ran under. */
public enum Accel {
    KVM, TCG;

    /** "kvm" or "tcg", as the JSON output and the probe's memo spell it. */
    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }

    static Optional<Accel> byId(String id) {
        for (Accel a : values()) {
            if (a.id().equals(id)) {
                return Optional.of(a);
            }
        }
        return Optional.empty();
    }
}
