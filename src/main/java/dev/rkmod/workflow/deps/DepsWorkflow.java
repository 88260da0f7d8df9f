package dev.rkmod.workflow.deps;

import dev.rkmod.format.DpkgStatus;
import dev.rkmod.infra.event.Stage;
import dev.rkmod.infra.process.ProcessSpec;
import dev.rkmod.model.ExitCode;
import dev.rkmod.model.Profile;
import dev.rkmod.model.RkmodException;
import dev.rkmod.model.RootSpec;
import dev.rkmod.workflow.Context;
import dev.rkmod.workflow.distro.DistroKernels;
import dev.rkmod.workflow.toolchain.DebianRoots;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** `rkmod deps`: report and install what a toolchain profile needs. */
public final class DepsWorkflow {
    private static final Duration APT_TIMEOUT = Duration.ofMinutes(30);

    private final Context ctx;
    private final DebianRoots roots;

    public DepsWorkflow(Context ctx) {
        this.ctx = ctx;
        this.roots = new DebianRoots(ctx);
    }

    public DepsReport check(Profile profile) {
        return check(profile, List.of());
    }

    private DepsReport check(Profile profile, List<String> actions) {
        DpkgStatus status = readStatus(ctx.host().dpkgStatus());
        List<DepsReport.PackageState> host = states(profile.hostPackages(), status);
        DepsReport.RootState root = profile.root().map(this::rootState).orElse(null);
        return new DepsReport(profile, host, root, List.copyOf(actions));
    }

    private DepsReport.RootState rootState(RootSpec spec) {
        Optional<Path> path = roots.find(spec);
        if (path.isEmpty()) {
            return new DepsReport.RootState(spec, null, states(spec.packages(), DpkgStatus.empty()), null);
        }
        DpkgStatus inRoot = readStatus(path.get().resolve("var/lib/dpkg/status"));
        String rustc = roots.rustcVersion(path.get()).orElse(null);
        return new DepsReport.RootState(spec, path.get(), states(spec.packages(), inRoot), rustc);
    }

    /** Installs what is missing: host packages with apt-get, then the debootstrap root. Idempotent. */
    public DepsReport install(Profile profile) {
        DepsReport before = check(profile);
        if (before.complete()) {
            return before;
        }
        List<String> actions = new ArrayList<>();
        List<String> missing = before.missingHostPackages();
        if (!missing.isEmpty()) {
            requireAptAsRoot(before);
            try (Stage stage = Stage.start(ctx.events(), "apt-get", "installing " + String.join(" ", missing))) {
                ctx.runner().run(apt("update"));
                List<String> argv = new ArrayList<>(before.installCommand());
                ctx.runner().run(apt(argv.subList(1, argv.size()).toArray(String[]::new)));
                stage.ok();
            }
            actions.add("installed " + String.join(" ", missing));
        }
        if (before.root() != null && !before.root().complete()) {
            if (before.root().path() != null) {
                throw new RkmodException(ExitCode.ENVIRONMENT,
                        "The cached Debian " + before.root().spec().suite() + " root at " + before.root().path()
                                + " is incomplete",
                        "Packages are missing inside it",
                        "Remove it with 'rkmod cache clear --kind root' and run 'rkmod deps --install' again");
            }
            Path made = roots.ensure(before.root().spec(), root -> profile.distro().ifPresent(d -> {
                // a distro root is only useful when the archive's toolchain is exactly its kernel's
                DistroKernels dk = new DistroKernels(ctx);
                DistroKernels.Kernel k = dk.kernel(d, root, java.util.Optional.empty());
                dk.requireExactTools(k);
                ctx.events().info(d.name() + ": Linux " + k.release() + " (" + k.headersPackage() + " " + k.headersVersion()
                        + "), built with " + k.rustcText() + ", " + k.bindgenText() + " and " + k.ccText());
            }));
            actions.add("made the Debian " + before.root().spec().suite() + " root at " + made);
        }
        DepsReport after = check(profile, actions);
        if (!after.complete()) {
            throw new RkmodException(ExitCode.ENVIRONMENT,
                    "After installing, profile " + profile.id() + " is still incomplete",
                    "Still missing: " + String.join(" ", after.missingHostPackages())
                            + (after.root() != null && !after.root().complete() ? " and the Debian root" : ""),
                    "Check the apt-get output above and the APT sources of this machine");
        }
        return after;
    }

    private void requireAptAsRoot(DepsReport report) {
        String cmd = String.join(" ", report.installCommand());
        if (!ctx.host().isDebian()) {
            throw new RkmodException(ExitCode.ENVIRONMENT,
                    "Cannot install packages here: this machine is not Debian with apt-get",
                    "rkmod's toolchain profiles are made of Debian packages",
                    "On a Debian machine run: " + cmd);
        }
        if (!ctx.host().isRoot()) {
            throw new RkmodException(ExitCode.ENVIRONMENT,
                    "Installing packages needs root; missing: " + String.join(" ", report.missingHostPackages()),
                    "apt-get installs system packages",
                    "Run: sudo " + cmd + "  (or 'sudo ./rkmod deps --install --profile " + report.profile().id() + "')");
        }
    }

    private ProcessSpec apt(String... args) {
        List<String> argv = new ArrayList<>();
        argv.add("apt-get");
        argv.add("-q");
        argv.addAll(List.of(args));
        return ProcessSpec.of(argv).label("apt-get").timeout(APT_TIMEOUT).failureCode(ExitCode.ENVIRONMENT)
                .env("DEBIAN_FRONTEND", "noninteractive");
    }

    private static List<DepsReport.PackageState> states(List<String> names, DpkgStatus status) {
        return names.stream().map(n -> new DepsReport.PackageState(n, status.version(n).orElse(null))).toList();
    }

    private static DpkgStatus readStatus(Path p) {
        try {
            return DpkgStatus.read(p);
        } catch (IOException e) {
            throw new RkmodException(ExitCode.ENVIRONMENT, "Cannot read the package database " + p,
                    e.getMessage(), "Check that dpkg works on this machine", e);
        }
    }
}
