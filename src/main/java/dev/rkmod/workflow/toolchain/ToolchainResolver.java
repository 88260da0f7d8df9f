package dev.rkmod.workflow.toolchain;

import dev.rkmod.model.ExitCode;
import dev.rkmod.model.Profile;
import dev.rkmod.model.RkmodException;
import dev.rkmod.workflow.Context;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/** Chooses the toolchain for a kernel: an explicit rustc or root, else the profile's pinned one. */
public final class ToolchainResolver {
    private final Context ctx;

    public ToolchainResolver(Context ctx) {
        this.ctx = ctx;
    }

    /** The pinned toolchain of a profile: host packages, or its debootstrap root (which must exist). */
    public Toolchain forProfile(Profile profile) {
        if (profile.root().isEmpty()) {
            return Toolchain.host(Path.of(profile.rustc()), Optional.of(profile));
        }
        Path root = new DebianRoots(ctx).find(profile.root().get()).orElseThrow(() -> new RkmodException(
                ExitCode.ENVIRONMENT, "The Debian " + profile.root().get().suite() + " root for profile " + profile.id()
                + " has not been made",
                "Kernels of this profile are built with the toolchain inside that root",
                "Run 'rkmod deps --install --profile " + profile.id() + "' (as root)"));
        return Toolchain.root(root, Optional.of(profile));
    }

    /**
     * An explicit choice wins: {@code --toolchain RUSTC} or {@code --root DIR}; otherwise the profile.
     */
    public Toolchain resolve(Optional<Path> rustc, Optional<Path> root, Optional<Profile> profile) {
        if (rustc.isPresent() && root.isPresent()) {
            throw new RkmodException(ExitCode.USAGE, "--toolchain and --root cannot be used together",
                    "--toolchain names a rustc on this host, --root a Debian root with its own rustc", "Pass only one");
        }
        if (rustc.isPresent()) {
            Path r = rustc.get();
            if (!Files.isRegularFile(r) || !Files.isExecutable(r)) {
                throw new RkmodException(ExitCode.ENVIRONMENT, "--toolchain " + r + " is not an executable rustc",
                        null, "Pass the path of a rustc binary, such as /usr/bin/rustc");
            }
            return Toolchain.host(r, profile);
        }
        if (root.isPresent()) {
            Path r = root.get();
            if (!Files.isExecutable(r.resolve("usr/bin/rustc"))) {
                throw new RkmodException(ExitCode.ENVIRONMENT, "--root " + r + " has no usr/bin/rustc",
                        "The root's toolchain is used for the build", "Pass a Debian root made by 'rkmod deps --install'");
            }
            return Toolchain.root(r, profile);
        }
        return forProfile(profile.orElseThrow(() -> new RkmodException(ExitCode.USAGE,
                "No pinned toolchain is known for this kernel",
                "rkmod knows the toolchains of profiles " + Profile.ids(),
                "Pass --profile, --toolchain PATH_TO_RUSTC or --root DIR")));
    }

    /** A path given by the user, or as seen by the toolchain: tried on the host first, then inside the root. */
    public static Path locate(String path, Toolchain toolchain) {
        Path p = Path.of(path);
        if (Files.exists(p) || toolchain.rootDir().isEmpty() || !p.isAbsolute()) {
            return p;
        }
        Path inRoot = toolchain.rootDir().get().resolve(path.substring(1));
        return Files.exists(inRoot) ? inRoot : p;
    }
}
