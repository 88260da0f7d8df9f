package dev.rkmod.workflow.toolchain;

import dev.rkmod.format.AptSources;
import dev.rkmod.format.DpkgStatus;
import dev.rkmod.infra.cache.CacheEntry;
import dev.rkmod.infra.cache.CacheKey;
import dev.rkmod.infra.event.Stage;
import dev.rkmod.infra.host.Chroot;
import dev.rkmod.infra.process.ProcessSpec;
import dev.rkmod.model.ExitCode;
import dev.rkmod.model.RkmodException;
import dev.rkmod.model.RootSpec;
import dev.rkmod.workflow.Context;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Debian roots made by debootstrap, kept in the cache under kind "root" and keyed by suite,
 * variant, architecture and package list. The chroot itself is the entry's {@code root/} folder.
 */
public final class DebianRoots {
    public static final String KIND = "root";
    private static final Duration DEBOOTSTRAP_TIMEOUT = Duration.ofMinutes(40);

    private final Context ctx;

    public DebianRoots(Context ctx) {
        this.ctx = ctx;
    }

    public CacheKey key(RootSpec spec) {
        return CacheKey.of(Map.of(
                "suite", spec.suite(),
                "variant", spec.variant(),
                "arch", ctx.host().debianArch(),
                "packages", String.join(",", spec.packages())));
    }

    /** The chroot directory, when the root has been made. */
    public Optional<Path> find(RootSpec spec) {
        return ctx.cache().lookup(KIND, key(spec)).map(e -> e.dir().resolve("root"));
    }

    /** A check of a freshly made root, before it is published; a failure leaves nothing in the cache. */
    public interface RootCheck {
        void check(Path root) throws IOException;
    }

    /** Makes the root with debootstrap unless it is cached. */
    public Path ensure(RootSpec spec) {
        return ensure(spec, root -> { });
    }

    /** Makes the root unless it is cached; {@code check} must pass before the new root is published. */
    public Path ensure(RootSpec spec, RootCheck check) {
        CacheEntry entry = ctx.cache().getOrBuild(KIND, key(spec), "Debian " + spec.suite() + " root", ctx.events(),
                dir -> {
                    bootstrap(spec, dir.resolve("root"));
                    check.check(dir.resolve("root"));
                });
        return entry.dir().resolve("root");
    }

    private void bootstrap(RootSpec spec, Path target) throws IOException {
        if (!ctx.host().isRoot()) {
            throw new RkmodException(ExitCode.ENVIRONMENT, "Making the Debian " + spec.suite() + " root needs root",
                    "debootstrap creates device nodes and runs package scripts as root",
                    "Run 'sudo rkmod deps --install'");
        }
        Path debootstrap = ctx.host().which("debootstrap").orElseThrow(() -> new RkmodException(ExitCode.ENVIRONMENT,
                "debootstrap is not installed", "The " + spec.suite() + " toolchain lives in a debootstrap root",
                "Run 'apt-get install debootstrap debian-archive-keyring', or 'rkmod deps --install'"));
        String mirror = mirror();
        Files.createDirectories(target);
        try (Stage stage = Stage.start(ctx.events(), "debootstrap", spec.suite() + " from " + mirror)) {
            ctx.runner().run(ProcessSpec.of(debootstrap.toString(), "--variant=" + spec.variant(),
                            "--arch=" + ctx.host().debianArch(),
                            "--include=" + String.join(",", spec.packages()),
                            spec.suite(), target.toString(), mirror)
                    .label("debootstrap").timeout(DEBOOTSTRAP_TIMEOUT).failureCode(ExitCode.ENVIRONMENT)
                    .env("DEBIAN_FRONTEND", "noninteractive"));
            stage.ok();
        }
        DpkgStatus status = DpkgStatus.read(target.resolve("var/lib/dpkg/status"));
        List<String> missing = spec.packages().stream().filter(p -> !status.isInstalled(p)).toList();
        if (!missing.isEmpty()) {
            throw new RkmodException(ExitCode.ENVIRONMENT,
                    "debootstrap finished but the " + spec.suite() + " root lacks " + String.join(", ", missing),
                    "The mirror may not carry these packages for " + spec.suite(),
                    "Check the mirror (RKMOD_DEBIAN_MIRROR) and run 'rkmod deps --install' again");
        }
    }

    /** The Debian mirror: RKMOD_DEBIAN_MIRROR, else the one the host's APT uses. */
    public String mirror() {
        String env = ctx.host().env().get("RKMOD_DEBIAN_MIRROR");
        if (env != null && !env.isBlank()) {
            return env;
        }
        String codename = ctx.host().osRelease().get("VERSION_CODENAME").orElse("");
        try {
            Optional<String> m = AptSources.read(ctx.host().etcApt()).debianMirror(codename);
            if (m.isPresent()) {
                return m.get();
            }
        } catch (IOException e) {
            ctx.events().debug("cannot read APT sources: " + e.getMessage());
        }
        throw new RkmodException(ExitCode.ENVIRONMENT, "No Debian mirror is configured",
                "debootstrap needs a Debian archive to download the root from, and none was found in "
                        + ctx.host().etcApt() + "/sources.list{,.d}",
                "Set RKMOD_DEBIAN_MIRROR to the URI of a Debian archive");
    }

    /** Runs {@code rustc --version} inside the root; needs root privileges. */
    public Optional<String> rustcVersion(Path root) {
        if (!ctx.host().isRoot() || !Files.isRegularFile(root.resolve("usr/bin/rustc"))) {
            return Optional.empty();
        }
        try (Chroot chroot = Chroot.enter(root, ctx.runner(), ctx.host())) {
            var r = ctx.runner().run(chroot.spec(null, List.of(), List.of("rustc", "--version"))
                    .capture().quiet().noLog().timeout(Duration.ofSeconds(60)).failureCode(ExitCode.ENVIRONMENT));
            return r.output().isEmpty() ? Optional.empty() : Optional.of(r.output().get(0).strip());
        }
    }
}
