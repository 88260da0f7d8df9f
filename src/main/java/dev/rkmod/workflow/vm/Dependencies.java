package dev.rkmod.workflow.vm;

import dev.rkmod.format.ModulesDep;
import dev.rkmod.model.ExitCode;
import dev.rkmod.model.RkmodException;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * The modules the tested ones depend on ({@code depends=} in their .modinfo), taken from the kernel's own modules and
 * resolved with its modules.dep: each dependency with everything it needs, each once, in an order that loads (the
 * reverse unloads). Decided before booting: a dependency the kernel's modules do not have is named then.
 */
final class Dependencies {
    private Dependencies() {
    }

    /**
     * A kernel's own modules: {@code dir} is their {@code lib/modules/RELEASE}, {@code index} its modules.dep,
     * {@code source} where they came from, for the verdict ("Debian sid's linux-modules-R 7.2.13-1").
     */
    record KernelModules(Path dir, String source, ModulesDep index) { }

    /**
     * The dependencies of {@code tested}, in load order. {@code modules} is asked (with the names wanted) only when a
     * tested module depends on a module that is not itself tested, so a module without dependencies never costs a
     * download.
     */
    static List<VmTestWorkflow.Dependency> resolve(List<LoadedModule> tested, Function<List<String>, KernelModules> modules) {
        Set<String> testedNames = new LinkedHashSet<>();
        tested.forEach(m -> testedNames.add(ModulesDep.normalName(m.name())));
        // each tested module's own dependencies that are not tested themselves
        Map<LoadedModule, List<String>> wanted = new LinkedHashMap<>();
        for (LoadedModule m : tested) {
            List<String> own = m.depends().stream().filter(d -> !testedNames.contains(ModulesDep.normalName(d))).toList();
            if (!own.isEmpty()) {
                wanted.put(m, own);
            }
        }
        if (wanted.isEmpty()) {
            return List.of();
        }
        List<String> all = wanted.values().stream().flatMap(List::stream).distinct().toList();
        KernelModules km = modules.apply(all);
        ModulesDep.Closure closure = km.index().closure(all);
        if (!closure.missing().isEmpty()) {
            throw missing(closure.missing(), wanted, km);
        }
        // who needs what, for the verdict: a tested module needs the closure of its own dependencies
        Map<String, List<String>> neededBy = new LinkedHashMap<>();
        for (Map.Entry<LoadedModule, List<String>> w : wanted.entrySet()) {
            for (ModulesDep.Entry e : km.index().closure(w.getValue()).order()) {
                neededBy.computeIfAbsent(e.path(), k -> new ArrayList<>()).add(w.getKey().name());
            }
        }
        List<VmTestWorkflow.Dependency> out = new ArrayList<>();
        for (ModulesDep.Entry e : closure.order()) {
            if (testedNames.contains(e.name())) {
                continue; // a tested module that another dependency needs is loaded as the user ordered it
            }
            out.add(new VmTestWorkflow.Dependency(e.name(), e.path(), km.dir().resolve(e.path()), km.source(),
                    List.copyOf(neededBy.getOrDefault(e.path(), List.of()))));
        }
        return List.copyOf(out);
    }

    private static RkmodException missing(List<String> names, Map<LoadedModule, List<String>> wanted, KernelModules km) {
        List<String> parts = new ArrayList<>();
        for (String n : names) {
            List<String> by = wanted.entrySet().stream().filter(w -> w.getValue().contains(n))
                    .map(w -> w.getKey().spec().ko().getFileName().toString()).toList();
            parts.add((by.isEmpty() ? "a dependency" : String.join(" and ", by)) + (by.size() > 1 ? " depend on " : " depends on ")
                    + n);
        }
        String names1 = String.join(", ", names);
        return new RkmodException(ExitCode.CHECK_FAILED, String.join("; ", parts) + ", which this kernel's own modules do"
                + " not include (checked before booting)",
                "vmtest loads a module's dependencies from the kernel's own modules (" + km.source() + ", "
                        + (km.index().size() == 1 ? "1 module" : km.index().size() + " modules") + " in its modules.dep), and the kernel would refuse the module with"
                        + " 'Unknown symbol' without " + (names.size() == 1 ? "it" : "them"),
                "Build " + names1 + " against this kernel and pass it before the module (rkmod vmtest " + names.get(0)
                        + ".ko MODULE.ko), or test on a kernel that has " + names1 + " as a module");
    }
}
