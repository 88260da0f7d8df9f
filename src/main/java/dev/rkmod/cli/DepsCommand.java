package dev.rkmod.cli;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import dev.rkmod.model.ExitCode;
import dev.rkmod.model.Profile;
import dev.rkmod.workflow.Context;
import dev.rkmod.workflow.deps.DepsReport;
import dev.rkmod.workflow.deps.DepsWorkflow;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

@Command(name = "deps",
        description = {
            "List the Debian packages a toolchain profile needs, and which are missing.",
            "Profile 6.1 uses the host's bookworm packages; profile 6.12 also needs a Debian trixie root made",
            "by debootstrap and kept in the cache; profile debian-sid a Debian sid root with the current sid kernel's",
            "headers and source and its exact rustc, bindgen and gcc. Exit code 3 when something is missing."
        },
        mixinStandardHelpOptions = true)
final class DepsCommand implements Callable<Integer> {
    private final Session session;

    @Option(names = "--profile", paramLabel = "6.1|6.12|debian-sid",
            description = "The profile to check (repeatable). Default: every profile.")
    List<String> profiles = new ArrayList<>();

    @Option(names = "--install", description = "Install what is missing (apt-get, debootstrap). Needs root.")
    boolean install;

    @Mixin
    OutputOptions output;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    DepsCommand(Session session) {
        this.session = session;
    }

    @Override
    public Integer call() {
        List<Profile> chosen = new ArrayList<>();
        for (String id : profiles) {
            chosen.add(Profile.byId(id).orElseThrow(() -> new CommandLine.ParameterException(spec.commandLine(),
                    "Unknown profile '" + id + "'. Known profiles: " + Profile.ids() + ".")));
        }
        if (chosen.isEmpty()) {
            chosen.addAll(List.of(Profile.values()));
        }
        Context ctx = session.context(output);
        DepsWorkflow wf = new DepsWorkflow(ctx);
        List<DepsReport> reports = new ArrayList<>();
        for (Profile p : chosen) {
            reports.add(install ? wf.install(p) : wf.check(p));
        }
        boolean complete = reports.stream().allMatch(DepsReport::complete);
        if (output.json()) {
            JsonObject o = new JsonObject();
            JsonArray arr = new JsonArray();
            reports.forEach(r -> arr.add(json(r)));
            o.add("profiles", arr);
            o.addProperty("complete", complete);
            session.out().println(Json.GSON.toJson(o));
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

    private static JsonObject json(DepsReport r) {
        JsonObject o = new JsonObject();
        o.addProperty("profile", r.profile().id());
        o.addProperty("complete", r.complete());
        JsonArray host = new JsonArray();
        r.host().forEach(p -> host.add(pkg(p)));
        o.add("host", host);
        JsonArray missing = new JsonArray();
        r.missingHostPackages().forEach(missing::add);
        o.add("missing", missing);
        if (r.root() != null) {
            JsonObject root = new JsonObject();
            root.addProperty("suite", r.root().spec().suite());
            root.addProperty("path", r.root().path() == null ? null : r.root().path().toString());
            root.addProperty("rustc", r.root().rustcVersion());
            root.addProperty("complete", r.root().complete());
            JsonArray pk = new JsonArray();
            r.root().packages().forEach(p -> pk.add(pkg(p)));
            root.add("packages", pk);
            o.add("root", root);
        }
        JsonArray actions = new JsonArray();
        r.actions().forEach(actions::add);
        o.add("actions", actions);
        return o;
    }

    private static JsonObject pkg(DepsReport.PackageState p) {
        JsonObject o = new JsonObject();
        o.addProperty("name", p.name());
        o.addProperty("version", p.version());
        return o;
    }
}
