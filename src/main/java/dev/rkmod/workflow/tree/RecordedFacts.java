package dev.rkmod.workflow.tree;

import dev.rkmod.format.FormatException;
import dev.rkmod.format.HeadersManifest;
import dev.rkmod.format.KernelConfig;
import dev.rkmod.format.KernelManifest;
import dev.rkmod.format.PackageManifest;
import dev.rkmod.format.RmetaHeader;
import dev.rkmod.infra.fs.FileOps;
import dev.rkmod.model.KernelGeneration;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * What rkmod recorded about a tree when it made it: {@code rkmod-kernel.json} ('kernel build'),
 * {@code rkmod-package.json} ('package') or {@code rkmod-headers.json} ('headers complete'), the first one
 * present in that order. The facts are trusted only after a cheap check against the tree (no rmeta is read
 * beyond one header, no large file is hashed):
 * <ul>
 *   <li>the recorded release equals {@code include/config/kernel.release};</li>
 *   <li>the recorded rustc equals {@code CONFIG_RUSTC_VERSION_TEXT} (when the config has it) and the version in
 *       the header of {@code rust/libcore.rmeta} (when the tree has it);</li>
 *   <li>kernel and package manifests: the SHA-256 of {@code .config} equals the recorded one;</li>
 *   <li>package manifests: every recorded {@code rust/} file exists with its recorded size, and every
 *       {@code rust/lib*.rmeta} of the tree is recorded.</li>
 * </ul>
 *
 * @param file          the manifest's file name
 * @param rustc         the rustc that made the Rust set, or null when the manifest does not say
 * @param generation    the module API generation, when the manifest names a known one
 * @param toolchainRoot the Debian root the toolchain lived in, or null
 * @param objtreeIncludes the object-tree files the crates' macros read, when the manifest records them
 * @param configGates   the kernel crate's config-gated modules, when the manifest records them
 */
public record RecordedFacts(String file, String release, String rustc, Optional<KernelGeneration> generation,
                            String toolchainRoot, Optional<List<String>> objtreeIncludes,
                            Optional<java.util.Map<String, String>> configGates) {

    /** The facts of a manifest that holds, or why the one present was set aside; both empty without one. */
    record Lookup(Optional<RecordedFacts> facts, Optional<String> setAside) {
        static final Lookup NONE = new Lookup(Optional.empty(), Optional.empty());
    }

    /** Facts a manifest records about the files, checked against the tree together with the ones above. */
    private record Claims(RecordedFacts facts, String configSha256, List<PackageManifest.Entry> files) { }

    /** Looks for a manifest in {@code dir} and checks it against what the tree holds. */
    static Lookup find(Path dir, KernelConfig config, String release, Set<String> crates) {
        Optional<Claims> claims;
        String file;
        if (Files.exists(dir.resolve(KernelManifest.FILE))) {
            file = KernelManifest.FILE;
            claims = KernelManifest.read(dir).map(m -> new Claims(new RecordedFacts(file, m.release(), m.rustc(),
                    generation(m.generation()), m.toolchainRoot(), Optional.empty(), Optional.empty()), m.configSha256(), null));
        } else if (Files.exists(dir.resolve(PackageManifest.FILE))) {
            file = PackageManifest.FILE;
            claims = PackageManifest.read(dir).map(m -> new Claims(new RecordedFacts(file, m.release(), m.rustc(),
                    generation(m.generation()), m.toolchainRoot(), Optional.ofNullable(m.objtreeIncludes()),
                    Optional.ofNullable(m.configGates())), configSha256(m),
                    m.files() == null ? List.of() : m.files()));
        } else if (Files.exists(dir.resolve(HeadersManifest.FILE))) {
            file = HeadersManifest.FILE;
            claims = HeadersManifest.read(dir).map(m -> new Claims(new RecordedFacts(file, m.release(), m.rustc(),
                    Optional.empty(), m.toolchainRoot(), Optional.empty(), Optional.ofNullable(m.configGates())), null, null));
        } else {
            return Lookup.NONE;
        }
        if (claims.isEmpty()) {
            return new Lookup(Optional.empty(), Optional.of(file + " in " + dir + " cannot be read; rkmod derives the"
                    + " facts from the tree's files instead"));
        }
        List<String> problems = problems(dir, config, release, crates, claims.get());
        if (!problems.isEmpty()) {
            return new Lookup(Optional.empty(), Optional.of(file + " in " + dir + " does not match the tree: "
                    + String.join("; ", problems) + "; rkmod derives the facts from the tree's files instead"));
        }
        return new Lookup(Optional.of(claims.get().facts()), Optional.empty());
    }

    private static List<String> problems(Path dir, KernelConfig config, String release, Set<String> crates, Claims c) {
        List<String> out = new ArrayList<>();
        RecordedFacts f = c.facts();
        if (!release.equals(f.release())) {
            out.add("it records Linux " + f.release() + " but include/config/kernel.release says " + release);
        }
        if (f.rustc() != null) {
            config.string("RUSTC_VERSION_TEXT").filter(t -> !t.equals(f.rustc())).ifPresent(t ->
                    out.add("it records '" + f.rustc() + "' but CONFIG_RUSTC_VERSION_TEXT is '" + t + "'"));
            if (crates.contains("core")) {
                Path core = dir.resolve("rust/libcore.rmeta");
                try {
                    String made = RmetaHeader.read(core).rustcVersion();
                    if (!made.equals(f.rustc())) {
                        out.add("it records '" + f.rustc() + "' but rust/libcore.rmeta was made by '" + made + "'");
                    }
                } catch (IOException e) {
                    out.add("rust/libcore.rmeta cannot be read (" + e.getMessage() + ")");
                } catch (FormatException e) {
                    out.add(e.what());
                }
            }
        }
        if (c.configSha256() != null) {
            try {
                if (!FileOps.sha256(dir.resolve(".config")).equals(c.configSha256())) {
                    out.add(".config changed since it was recorded");
                }
            } catch (IOException e) {
                out.add(".config cannot be read (" + e.getMessage() + ")");
            }
        }
        if (c.files() != null) {
            Set<String> recordedCrates = new TreeSet<>();
            for (PackageManifest.Entry e : c.files()) {
                if (!e.path().startsWith("rust/")) {
                    continue;
                }
                String name = e.path().substring("rust/".length());
                if (name.startsWith("lib") && name.endsWith(".rmeta") && !name.contains("/")) {
                    recordedCrates.add(name.substring(3, name.length() - ".rmeta".length()));
                }
                Path p = dir.resolve(e.path());
                try {
                    if (!Files.isRegularFile(p)) {
                        out.add(e.path() + " is missing");
                    } else if (Files.size(p) != e.size()) {
                        out.add(e.path() + " has " + Files.size(p) + " bytes, not the recorded " + e.size());
                    }
                } catch (IOException ex) {
                    out.add(e.path() + " cannot be read (" + ex.getMessage() + ")");
                }
            }
            Set<String> unrecorded = new TreeSet<>(crates);
            unrecorded.removeAll(recordedCrates);
            unrecorded.forEach(u -> out.add("rust/lib" + u + ".rmeta is not recorded"));
        }
        return out;
    }

    private static String configSha256(PackageManifest m) {
        return m.files() == null ? null : m.files().stream().filter(e -> e.path().equals(".config"))
                .map(PackageManifest.Entry::sha256).findFirst().orElse(null);
    }

    private static Optional<KernelGeneration> generation(String id) {
        return Arrays.stream(KernelGeneration.values()).filter(g -> g.id().equals(id)).findFirst();
    }
}
