package dev.rkmod.format;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/**
 * dpkg's database of installed packages ({@code /var/lib/dpkg/status}): RFC-822 style stanzas
 * separated by blank lines. Only "install ok installed" counts as installed.
 */
public final class DpkgStatus {
    private final Map<String, String> installed;
    private final Map<String, String> depends;

    private DpkgStatus(Map<String, String> installed, Map<String, String> depends) {
        this.installed = installed;
        this.depends = depends;
    }

    /** An empty database, as on a machine without dpkg. */
    public static DpkgStatus empty() {
        return new DpkgStatus(Map.of(), Map.of());
    }

    public static DpkgStatus read(Path file) throws IOException {
        try {
            return parse(new String(Files.readAllBytes(file), StandardCharsets.UTF_8));
        } catch (NoSuchFileException e) {
            return empty();
        }
    }

    public static DpkgStatus parse(String text) {
        Map<String, String> out = new HashMap<>();
        Map<String, String> deps = new HashMap<>();
        String pkg = null;
        String status = null;
        String version = null;
        String dependsOn = null;
        for (String line : (text + "\n\n").split("\n", -1)) {
            if (line.isBlank()) {
                if (pkg != null && status != null && status.trim().endsWith(" installed")
                        && status.trim().startsWith("install ")) {
                    out.putIfAbsent(pkg, version == null ? "" : version);
                    deps.putIfAbsent(pkg, dependsOn == null ? "" : dependsOn);
                }
                pkg = null;
                status = null;
                version = null;
                dependsOn = null;
                continue;
            }
            if (Character.isWhitespace(line.charAt(0))) {
                continue; // continuation of a multi-line field
            }
            int colon = line.indexOf(':');
            if (colon <= 0) {
                continue;
            }
            String field = line.substring(0, colon);
            String value = line.substring(colon + 1).trim();
            switch (field) {
                case "Package" -> pkg = value;
                case "Status" -> status = value;
                case "Version" -> version = value;
                case "Depends" -> dependsOn = value;
                default -> { }
            }
        }
        return new DpkgStatus(Map.copyOf(out), Map.copyOf(deps));
    }

    /** The installed version of a package, if it is installed. */
    public Optional<String> version(String pkg) {
        return Optional.ofNullable(installed.get(pkg));
    }

    /** The Depends field of an installed package, as written ("a (= 1), b | c"); empty when none. */
    public String depends(String pkg) {
        return depends.getOrDefault(pkg, "");
    }

    public boolean isInstalled(String pkg) {
        return installed.containsKey(pkg);
    }

    public int size() {
        return installed.size();
    }
}
