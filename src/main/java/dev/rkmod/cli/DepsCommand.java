package dev.rkmod.cli;

import dev.rkmod.model.ExitCode;
import dev.rkmod.model.Profile;
import dev.rkmod.workflow.Context;
import dev.rkmod.workflow.deps.DepsReport;
import dev.rkmod.workflow.deps.DepsWorkflow;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;

@Command(name = "deps",
        header = "List the Debian packages a toolchain profile needs, and which are missing.",
        description = "Profile 6.1 uses the host's bookworm packages; profile 6.12 also needs a Debian trixie root made "
            + "by debootstrap and kept in the cache; profile debian-sid a Debian sid root with the current sid kernel's "
            + "headers and source and its exact rustc, bindgen and gcc. Exit code 3 when something is missing.",
        mixinStandardHelpOptions = true)
final class DepsCommand implements Callable<Integer> {
    private final Session session;

    @Option(names = "--profile", paramLabel = "6.1|6.12|debian-sid", converter = Converters.ProfileConverter.class,
            description = "The profile to check (repeatable). Default: every profile.")
    List<Profile> profiles = new ArrayList<>();

    @Option(names = "--install", description = "Install what is missing (apt-get, debootstrap). Needs root.")
    boolean install;

    @Mixin
    OutputOptions output;

    DepsCommand(Session session) {
        this.session = session;
    }

    @Override
    public Integer call() {
        List<Profile> chosen = profiles.isEmpty() ? List.of(Profile.values()) : profiles;
        Context ctx = session.context(output);
        DepsWorkflow wf = new DepsWorkflow(ctx);
        List<DepsReport> reports = new ArrayList<>();
        for (Profile p : chosen) {
            reports.add(install ? wf.install(p) : wf.check(p));
        }
        boolean complete = reports.stream().allMatch(DepsReport::complete);
        if (output.json()) {
            session.out().println(Json.write(new Deps(reports.stream().map(ProfileDeps::of).toList(), complete)));
        } else {
            reports.forEach(r -> text(session.out(), r));
        }
        return complete ? ExitCode.OK.code() : ExitCode.ENVIRONMENT.code();
    }

    private static void text(PrintWriter out, DepsReport r) {
        out.println("Profile " + r.profile().id() + ": " + r.profile().summary());
        out.println("  host packages:");
        for (DepsReport.PackageState p : r.host()) {
            out.printf("    %-8s %-24s %s%n", p.installed() ? "ok" : "MISSING", p.name(),
                    p.installed() ? p.version() : "");
        }
        if (r.root() != null) {
            DepsReport.RootState root = r.root();
            out.println("  Debian " + root.spec().suite() + " root (debootstrap --variant=" + root.spec().variant() + "):");
            if (root.path() == null) {
                out.println("    MISSING  not made yet");
            } else {
                out.println("    path     " + root.path());
                if (root.rustcVersion() != null) {
                    out.println("    rustc    " + root.rustcVersion());
                }
                List<String> missing = root.packages().stream().filter(p -> !p.installed())
                        .map(DepsReport.PackageState::name).toList();
                out.println("    packages " + (missing.isEmpty() ? "all " + root.packages().size() + " installed"
                        : "MISSING " + String.join(" ", missing)));
            }
        }
        r.actions().forEach(a -> out.println("  did: " + a));
        if (r.complete()) {
            out.println("  complete");
        } else {
            List<String> steps = new ArrayList<>();
            if (!r.missingHostPackages().isEmpty()) {
                steps.add(String.join(" ", r.installCommand()));
            }
            if (r.root() != null && !r.root().complete()) {
                steps.add("rkmod deps --install --profile " + r.profile().id() + " (makes the Debian root)");
            }
            out.println("  incomplete; to fix, run as root: " + String.join("; then ", steps));
            out.println("  or simply: sudo ./rkmod deps --install --profile " + r.profile().id());
        }
        out.println();
    }

    /** --json: every profile checked, and whether all are complete. */
    record Deps(List<ProfileDeps> profiles, boolean complete) { }

    /** What one profile needs on the host and in its Debian root, and what was done to get it. */
    record ProfileDeps(String profile, boolean complete, List<DepsReport.PackageState> host, List<String> missing,
                       Optional<Root> root, List<String> actions) {
        static ProfileDeps of(DepsReport r) {
            return new ProfileDeps(r.profile().id(), r.complete(), r.host(), r.missingHostPackages(),
                    Optional.ofNullable(r.root()).map(x -> new Root(x.spec().suite(), x.path(), x.rustcVersion(),
                            x.complete(), x.packages())), r.actions());
        }
    }

    /** The profile's Debian root: where it is (null before it is made), its rustc and packages. */
    record Root(String suite, Path path, String rustc, boolean complete, List<DepsReport.PackageState> packages) { }
}
