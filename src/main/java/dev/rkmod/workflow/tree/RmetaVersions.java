package dev.rkmod.workflow.tree;

import dev.rkmod.format.FormatException;
import dev.rkmod.format.KernelConfig;
import dev.rkmod.format.RmetaHeader;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.function.Function;

/**
 * What a tree says about the rustc that built it: the version string in each {@code rust/lib*.rmeta} header, and
 * CONFIG_RUSTC_VERSION_TEXT. They must all agree. Read once; {@link KernelTree#rustcVersion} throws on the first
 * problem, doctor turns each one into a finding.
 *
 * @param cratesByVersion the crates whose header could be read, by the version they carry
 * @param unreadable      the crates whose header could not be read, and why
 * @param configText      CONFIG_RUSTC_VERSION_TEXT
 */
public record RmetaVersions(SortedMap<String, List<String>> cratesByVersion, List<Unreadable> unreadable,
                            Optional<String> configText) {

    /** An rmeta file that cannot be read ({@link IOException}) or is no rmeta ({@link FormatException}). */
    public record Unreadable(String crate, Path file, Exception error) { }

    public static RmetaVersions read(Path dir, Iterable<String> crates, KernelConfig config) {
        SortedMap<String, List<String>> byVersion = new TreeMap<>();
        List<Unreadable> unreadable = new ArrayList<>();
        for (String c : crates) {
            Path f = dir.resolve("rust/lib" + c + ".rmeta");
            try {
                byVersion.computeIfAbsent(RmetaHeader.read(f).rustcVersion(), k -> new ArrayList<>()).add(c);
            } catch (FormatException | IOException e) {
                unreadable.add(new Unreadable(c, f, e));
            }
        }
        return new RmetaVersions(Collections.unmodifiableSortedMap(byVersion), List.copyOf(unreadable),
                config.string("RUSTC_VERSION_TEXT"));
    }

    /** The rmeta files name more than one compiler. */
    public boolean mixed() {
        return cratesByVersion.size() > 1;
    }

    /** The one version all readable rmeta headers carry; empty when there are none, or they disagree. */
    public Optional<String> rmeta() {
        return cratesByVersion.size() == 1 ? Optional.of(cratesByVersion.firstKey()) : Optional.empty();
    }

    /** CONFIG_RUSTC_VERSION_TEXT names another compiler than the rmeta headers do. */
    public boolean configDisagrees() {
        return rmeta().isPresent() && configText.isPresent() && !configText.get().equals(rmeta().get());
    }

    /** The versions with each crate named as {@code name} says ("lib" + crate, say), for messages. */
    public Map<String, List<String>> describe(Function<String, String> name) {
        Map<String, List<String>> out = new TreeMap<>();
        cratesByVersion.forEach((v, crates) -> out.put(v, crates.stream().map(name).toList()));
        return out;
    }
}
