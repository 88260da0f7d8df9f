package dev.rkmod.cli;

import dev.rkmod.model.ExitCode;
import dev.rkmod.model.Profile;
import dev.rkmod.workflow.demo.DemoWorkflow;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

@Command(name = "demo", mixinStandardHelpOptions = true,
        header = "Tell the whole story in one command, from a kernel to a module loaded in a VM.",
        description = "The whole story in one command: deps, a tiny Rust kernel (cached), a verified package moved to another "
            + "path, doctor, 'new rust_out_of_tree', build, and vmtest expecting the seed's three kernel log lines. "
            + "--profile debian-sid tells the same story on Debian sid's own kernel: doctor names what its headers lack, "
            + "headers complete regenerates it, and the module loads on Debian's own vmlinuz.")
final class DemoCommand implements Callable<Integer> {
    private final Session session;

    @Option(names = "--profile", paramLabel = "6.1|6.12|debian-sid", defaultValue = "6.1",
            converter = Converters.ProfileConverter.class, description = "Toolchain profile (default ${DEFAULT-VALUE}).")
    Profile p;

    @Mixin
    OutputOptions output = new OutputOptions();

    DemoCommand(Session session) {
        this.session = session;
    }

    @Override
    public Integer call() {
        DemoWorkflow.Result r = new DemoWorkflow(session.context(output)).run(p);
        if (output.json()) {
            session.out().println(Json.write(new Demo(p.id(), r.took().toMillis(), r.steps().stream()
                    .map(st -> new Stage(st.name(), st.detail(), st.took().toMillis())).toList(), VerdictJson.of(r.verdict()))));
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

    /** --json of the story: each stage, and vmtest's verdict. */
    record Demo(String profile, long millis, List<Stage> stages, VerdictJson vmtest) { }

    /** One stage of the story and how long it took. */
    record Stage(String stage, String detail, long millis) { }
}
