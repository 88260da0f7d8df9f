package dev.rkmod.workflow.vm;

import dev.rkmod.model.FailureCatalogue;

/**
 * Why a vmtest verdict failed. Each reason keeps its facts as fields (for JUnit and the renderers) and
 * says them in one line with {@link #text()}, the text the user sees.
 */
public sealed interface Reason {

    /** The line the user sees. */
    String text();

    /** QEMU was stopped by the timeout; {@code open} is the step that had begun and not ended, or null. */
    record Timeout(VmTestWorkflow.Step open, boolean booted) implements Reason {
        @Override
        public String text() {
            return "timed out " + (open != null ? "in " + open.action() + " " + open.shown() + " (it did not return)"
                    : booted ? "after /init started" : "before /init started (the kernel did not boot)")
                    + "; QEMU was stopped";
        }
    }

    /** The console never showed /init's first marker. */
    record NotBooted() implements Reason {
        @Override
        public String text() {
            return "the kernel did not reach /init";
        }
    }

    /** /init started but never printed its last marker; {@code last} is the step that had begun, or null. */
    record Unfinished(VmTestWorkflow.Step last) implements Reason {
        @Override
        public String text() {
            return "/init did not finish" + (last != null ? " (last step: " + last.action() + " " + last.shown() + ")" : "");
        }
    }

    /** An insmod or rmmod exited non-zero, or its status is unknown (null) because its marker line was garbled. */
    record StepFailed(VmTestWorkflow.Step step) implements Reason {
        /** Whether the step's exit status is known. */
        public boolean exited() {
            return step.status() != null;
        }

        @Override
        public String text() {
            return step.action() + " " + step.shown() + (exited() ? " exited with status " + step.status()
                    : ": status unknown (its marker line was garbled)");
        }
    }

    /** A kernel log line (printk prefix cut) that matches {@code entry}, a load entry of the failure catalogue. */
    record KernelLog(FailureCatalogue.Entry entry, String line) implements Reason {
        @Override
        public String text() {
            return "kernel log: " + line;
        }
    }

    /** An expected line (a regular expression) did not appear after the previous one. */
    record ExpectMissing(String pattern) implements Reason {
        @Override
        public String text() {
            return "expected line not found (in order): " + pattern;
        }
    }

    /** A KTAP result "not ok". */
    record KunitFailed(String test) implements Reason {
        @Override
        public String text() {
            return "KUnit test failed: " + test;
        }
    }
}
