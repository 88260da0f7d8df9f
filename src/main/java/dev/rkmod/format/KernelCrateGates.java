package dev.rkmod.format;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The config gates of the kernel crate's modules, read from {@code rust/kernel/lib.rs}: a module the kernel crate
 * declares under {@code #[cfg(CONFIG_USB = "y")] pub mod usb;} exists only in kernels with that option, so a module
 * that imports {@code kernel::usb} fails with a bare "unresolved import" elsewhere. Only attributes of the forms
 * {@code #[cfg(CONFIG_X)]} and {@code #[cfg(CONFIG_X = "v")]} directly above a {@code pub mod NAME;} (other attributes
 * and doc comments may sit between) are gates; anything else (all(), any(), not()) is left out.
 */
public final class KernelCrateGates {
    /** The path of the kernel crate's root, relative to a source tree. */
    public static final String LIB_RS = "rust/kernel/lib.rs";
    private static final int MAX_TEXT = 4 << 20;
    private static final Pattern CFG = Pattern.compile("^\\s*#\\[cfg\\((CONFIG_[A-Za-z0-9_]+)(?:\\s*=\\s*\"([^\"]*)\")?\\)\\]\\s*$");
    private static final Pattern MOD = Pattern.compile("^\\s*pub\\s+mod\\s+([A-Za-z_][A-Za-z0-9_]*)\\s*;");
    private static final Pattern OTHER_ATTRIBUTE = Pattern.compile("^\\s*(#\\[[^\\]]*\\]|//.*)\\s*$");

    private KernelCrateGates() {
    }

    /**
     * Module name to its gate, as {@code CONFIG_USB=y} (an option that must have that value) or {@code CONFIG_SOC_BUS}
     * (an option that must be set, to y or m), in the order lib.rs declares them.
     */
    public static Map<String, String> parse(String libRs) {
        if (libRs.length() > MAX_TEXT) {
            throw new FormatException(FormatException.Reason.UNSUPPORTED, LIB_RS + " is " + libRs.length() + " characters long",
                    "The kernel crate's root is a few hundred lines", "Check the kernel source");
        }
        Map<String, String> out = new LinkedHashMap<>();
        String gate = null;
        for (String line : libRs.split("\n", -1)) {
            Matcher c = CFG.matcher(line);
            Matcher m = MOD.matcher(line);
            if (c.matches()) {
                gate = c.group(2) == null ? c.group(1) : c.group(1) + "=" + c.group(2);
            } else if (m.find()) {
                if (gate != null) {
                    out.putIfAbsent(m.group(1), gate);
                }
                gate = null;
            } else if (!OTHER_ATTRIBUTE.matcher(line).matches()) {
                gate = null;
            }
        }
        return Collections.unmodifiableMap(out);
    }

    /**
     * Whether {@code gate} holds for a config: {@code CONFIG_X=v} needs that value, {@code CONFIG_X} any value but "n"
     * or unset.
     */
    public static boolean holds(String gate, KernelConfig config) {
        int eq = gate.indexOf('=');
        String option = (eq < 0 ? gate : gate.substring(0, eq)).substring("CONFIG_".length());
        String value = config.value(option);
        return eq < 0 ? !value.equals("n") : value.equals(gate.substring(eq + 1));
    }
}
