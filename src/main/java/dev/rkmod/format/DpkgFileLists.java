package dev.rkmod.format;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Which package owns which path, from dpkg's per-package file lists ({@code var/lib/dpkg/info/PKG.list} and
 * {@code PKG:ARCH.list}, one absolute path a line), as {@code dpkg -S PATH} answers it for an exact path.
 */
public final class DpkgFileLists {
    private final Map<String, List<String>> owners;

    private DpkgFileLists(Map<String, List<String>> owners) {
        this.owners = owners;
    }

    /** The lists of the Debian root {@code root} ("/" for this machine); empty when it has none. */
    public static DpkgFileLists read(Path root) throws IOException {
        Map<String, List<String>> owners = new HashMap<>();
        Path info = root.resolve("var/lib/dpkg/info");
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(info, "*.list")) {
            for (Path list : ds) {
                String name = list.getFileName().toString();
                String pkg = name.substring(0, name.length() - ".list".length());
                // file names are bytes: one that is not UTF-8 (a Latin-1 name) must not fail the whole read
                for (String line : (Iterable<String>) new String(Files.readAllBytes(list), StandardCharsets.UTF_8).lines()::iterator) {
                    if (!line.isEmpty()) {
                        owners.computeIfAbsent(line, k -> new ArrayList<>(1)).add(pkg);
                    }
                }
            }
        } catch (NoSuchFileException e) {
            return new DpkgFileLists(Map.of());
        }
        return new DpkgFileLists(owners);
    }

    /** The packages that own the absolute path {@code path}, if any. */
    public Optional<List<String>> owners(String path) {
        return Optional.ofNullable(owners.get(path)).map(List::copyOf);
    }

    /** The number of paths listed. */
    public int size() {
        return owners.size();
    }
}
