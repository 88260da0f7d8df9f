package dev.rkmod.workflow.deps;

import dev.rkmod.model.Profile;
import dev.rkmod.model.RootSpec;

import java.nio.file.Path;
import java.util.List;

/** What a profile needs and what this machine has. */
public record DepsReport(Profile profile, List<PackageState> host, RootState root, List<String> actions) {

    /** A Debian package; version is null when it is not installed. */
    public record PackageState(String name, String version) {
        public boolean installed() {
            return version != null;
        }
    }

    /**
     * The profile's debootstrap root.
     *
     * @param path         the chroot directory, or null when it has not been made
     * @param rustcVersion {@code rustc --version} inside it, when it could be run
     */
    public record RootState(RootSpec spec, Path path, List<PackageState> packages, String rustcVersion) {
        public boolean complete() {
            return path != null && packages.stream().allMatch(PackageState::installed);
        }
    }

    public List<String> missingHostPackages() {
        return host.stream().filter(p -> !p.installed()).map(PackageState::name).toList();
    }

    public boolean complete() {
        return missingHostPackages().isEmpty() && (root == null || root.complete());
    }

    /** The command that installs the missing host packages. */
    public List<String> installCommand() {
        List<String> missing = missingHostPackages();
        if (missing.isEmpty()) {
            return List.of();
        }
        List<String> cmd = new java.util.ArrayList<>(List.of("apt-get", "install", "-y", "--no-install-recommends"));
        cmd.addAll(missing);
        return cmd;
    }
}
