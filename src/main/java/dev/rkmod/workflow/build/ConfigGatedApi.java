package dev.rkmod.workflow.build;

import dev.rkmod.format.KernelConfig;
import dev.rkmod.format.KernelCrateGates;
import dev.rkmod.model.FailureCatalogue;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A build that fails to resolve a module of the kernel crate ({@code unresolved import `kernel::usb`}) that the
 * kernel's config leaves out: the kernel crate declares {@code usb} under {@code #[cfg(CONFIG_USB = "y")]}, and this
 * kernel has {@code CONFIG_USB=m}. Explained from the gates the tree records ({@code KernelTree.configGates}) and
 * the tree's own .config; without recorded gates the catalogue's generic {@code api.config-gated} entry explains it.
 */
final class ConfigGatedApi {
    static final String ID = "api.config-gated";
    private static final Pattern UNRESOLVED = Pattern.compile(
            "unresolved import `kernel::([A-Za-z_][A-Za-z0-9_]*)|(?:could not find|cannot find(?: module(?: or crate)?| crate)?) `([A-Za-z_][A-Za-z0-9_]*)` in `kernel`");

    private ConfigGatedApi() {
    }

    /** One explanation per gated module the output fails to resolve, in the order the output names them. */
    static List<FailureCatalogue.Match> explain(List<String> output, Map<String, String> gates, KernelConfig config) {
        Set<String> seen = new LinkedHashSet<>();
        List<FailureCatalogue.Match> out = new ArrayList<>();
        for (String line : output) {
            Matcher m = UNRESOLVED.matcher(line);
            while (m.find()) {
                String module = m.group(1) != null ? m.group(1) : m.group(2);
                String gate = gates.get(module);
                if (gate == null || KernelCrateGates.holds(gate, config) || !seen.add(module)) {
                    continue;
                }
                out.add(new FailureCatalogue.Match(entry(module, gate, config), line.strip()));
            }
        }
        return out;
    }

    private static FailureCatalogue.Entry entry(String module, String gate, KernelConfig config) {
        int eq = gate.indexOf('=');
        String option = eq < 0 ? gate : gate.substring(0, eq);
        String needs = eq < 0 ? option + "=y or =m" : gate;
        String value = config.value(option.substring("CONFIG_".length()));
        String has = value.equals("n") ? option + " not set" : option + "=" + value;
        String title = "kernel::" + module + " exists only with " + needs + "; this kernel has " + has;
        String cause = "The kernel crate declares it under #[cfg(" + (eq < 0 ? option : option + " = \"" + gate.substring(eq + 1)
                + "\"") + ")] in " + KernelCrateGates.LIB_RS + ", so this kernel's crate has no kernel::" + module
                + " and everything the module uses from it fails to resolve.";
        String fix = "Build the module for a kernel with " + needs + " (a kernel of your own: 'rkmod kernel build"
                + " --fragment' with " + (eq < 0 ? option + "=y" : gate) + "), or leave kernel::" + module + " out of it.";
        return new FailureCatalogue.Entry(ID, "error", "build", List.of(), title, cause, fix);
    }
}
