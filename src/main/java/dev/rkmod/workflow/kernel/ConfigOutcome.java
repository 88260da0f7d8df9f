package dev.rkmod.workflow.kernel;

import dev.rkmod.format.KernelConfig;

import java.util.List;
import java.util.Map;

/**
 * The result of configuring a kernel.
 *
 * @param base          the base config (after tinyconfig for tiny-rust)
 * @param result        the final .config after olddefconfig
 * @param rustEnabled   whether CONFIG_RUST=y survived
 * @param blockers      the `depends on` clauses of CONFIG_RUST that were not met (before any fix)
 * @param baseBlockers  clauses the base config itself violates that olddefconfig already resolved with this
 *                      toolchain (for example DEBUG_INFO_BTF dropped because pahole is missing)
 * @param fixed         symbols --fix-rust turned off
 * @param changes       with --fix-rust: every option the fix changed, base value to final value
 * @param notApplied    requested (fragment) options that olddefconfig did not keep
 * @param rustAvailable what `make rustavailable` said when the toolchain was the blocker
 */
public record ConfigOutcome(KernelConfig base, KernelConfig result, boolean rustEnabled, List<Blocker> blockers,
                            List<Blocker> baseBlockers,
                            List<String> fixed, Map<String, KernelConfig.Change> changes, List<String> notApplied,
                            List<String> rustAvailable) {

    /**
     * One unmet dependency of CONFIG_RUST.
     *
     * @param clause   the Kconfig expression, e.g. "!MODVERSIONS"
     * @param values   the values of the symbols it mentions, e.g. MODVERSIONS=y
     * @param fixable  the symbol --fix-rust turns off, or null when rkmod cannot fix it by config
     */
    public record Blocker(String clause, Map<String, String> values, String fixable) { }
}
