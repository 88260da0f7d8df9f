package dev.rkmod.cli;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import dev.rkmod.model.ExitCode;
import dev.rkmod.model.Profile;
import dev.rkmod.model.RkmodException;
import dev.rkmod.workflow.demo.DemoWorkflow;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.util.Locale;
import java.util.concurrent.Callable;

@Command(name = "demo", mixinStandardHelpOptions = true,
        header = "Tell the whole story in one command, from a kernel to a module loaded in a VM.",
        description = {
            "The whole story in one command: deps, a tiny Rust kernel (cached), a verified package moved to another",
            "path, doctor, 'new rust_out_of_tree', build, and vmtest expecting the seed's three kernel log lines.",
            "--profile debian-sid tells the same story on Debian sid's own kernel: doctor names what its headers lack,",
            "headers complete regenerates it, and the module loads on Debian's own vmlinuz."
        })
final class DemoCommand implements Callable<Integer> {
    private final Session session;

    @Option(names = "--profile", paramLabel = "6.1|6.12|debian-sid", defaultValue = "6.1", description = "Toolchain profile (default ${DEFAULT-VALUE}).")
    String profile;

    @Mixin
    OutputOptions output = new OutputOptions();

    DemoCommand(Session session) {
        this.session = session;
    }

    @Override
    public Integer call() {
        Profile p = Profile.byId(profile).orElseThrow(() -> new RkmodException(ExitCode.USAGE,
                "Unknown profile '" + profile + "'", "Known profiles: " + Profile.ids(), null));
        DemoWorkflow.Result r = new DemoWorkflow(session.context(output)).run(p);
        if (output.json()) {
            JsonObject o = new JsonObject();
            o.addProperty("profile", p.id());
            o.addProperty("millis", r.took().toMillis());
            JsonArray steps = new JsonArray();
            for (DemoWorkflow.Step s : r.steps()) {
                JsonObject j = new JsonObject();
                j.addProperty("stage", s.name());
                j.addProperty("detail", s.detail());
                j.addProperty("millis", s.took().toMillis());
                steps.add(j);
            }
            o.add("stages", steps);
            o.add("vmtest", VmtestCommand.json(r.verdict()));
            session.out().println(Json.GSON.toJson(o));
        } else {
            PrintWriter w = session.out();
            int i = 1;
            for (DemoWorkflow.Step s : r.steps()) {
                w.printf(Locale.ROOT, "[%d/%d] %-9s %6.1f s  %s%n", i++, r.steps().size(), s.name(),
                        s.took().toMillis() / 1000.0, s.detail());
            }
            w.println();
            w.println("dmesg from the VM:");
            r.verdict().moduleLines().forEach(l -> w.println("  " + l));
            w.println();
            w.println("+------------------------------------------------------------------------------");
            w.printf(Locale.ROOT, "| rkmod demo, profile %s: %s in %.1f s%n", p.id(), r.verdict().pass() ? "PASS" : "FAIL",
                    r.took().toMillis() / 1000.0);
            w.println("| rustc    " + r.rustc());
            w.println("| " + (p.distro().isPresent() ? "headers  " : "kernel   ") + r.kernelTree());
            w.println("| package  " + r.packageDir() + " (built elsewhere, moved here)");
            w.println("| module   " + r.moduleKo());
            w.println("| verdict  " + (r.verdict().pass() ? "loaded and unloaded cleanly under " : "failed under ")
                    + r.verdict().accel().name() + "; console log " + r.verdict().consoleLog());
            r.verdict().reasons().forEach(x -> w.println("|   - " + x.text()));
            w.println("+------------------------------------------------------------------------------");
        }
        return r.verdict().pass() ? ExitCode.OK.code() : ExitCode.CHECK_FAILED.code();
    }
}
