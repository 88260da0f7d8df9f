package dev.rkmod.cli;

import dev.rkmod.format.CompressedModule;
import dev.rkmod.model.ExitCode;
import dev.rkmod.workflow.info.InfoWorkflow;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;

@Command(name = "info", mixinStandardHelpOptions = true,
        header = "Show what kernel modules contain, like modinfo, with extra checks against a kernel tree.",
        description = {
            "Show what modules are, in modinfo's order and style, with __versions, the extended modversions sections,",
            "the build-id and the signature. Reads .ko.xz/.ko.zst/.ko.gz. With --kdir, check vermagic and that every",
            "undefined symbol is exported (GPL-only exports need a GPL module); exit 1 on a problem."
        })
final class InfoCommand implements Callable<Integer> {
    private final Session session;

    @Parameters(arity = "1..*", paramLabel = "FILE.ko") List<Path> modules = new ArrayList<>();
    @Option(names = "-F", paramLabel = "FIELD", description = "Print only this field's values, like modinfo -F.") String field;
    @Option(names = "--kdir", paramLabel = "DIR", description = "Check against this kernel tree or package.") Path kdir;
    @Mixin OutputOptions output = new OutputOptions();

    InfoCommand(Session session) {
        this.session = session;
    }

    @Override
    public Integer call() {
        List<InfoWorkflow.Report> reports = new InfoWorkflow().info(modules, Optional.ofNullable(kdir));
        PrintWriter w = session.out();
        if (field != null) {
            reports.forEach(r -> r.field(field).forEach(w::println));
        } else if (output.json()) {
            session.out().println(Json.write(new Modules(reports.stream().map(Module::of).toList())));
        } else {
            for (InfoWorkflow.Report r : reports) {
                line(w, "filename", r.file().toAbsolutePath().toString());
                r.fields().forEach(e -> line(w, e.getKey(), e.getValue()));
                r.buildId().ifPresent(b -> line(w, "build-id", b));
                r.versions().forEach(v -> line(w, "version", version(v)));
                r.extVersions().forEach(v -> line(w, "version_ext", version(v)));
                r.signature().ifPresent(s -> {
                    line(w, "sig_id", s.id());
                    line(w, "signer", s.signer());
                    line(w, "sig_key", s.keyId());
                    line(w, "sig_hashalgo", s.hashAlgo());
                    line(w, "sig_length", s.signature().length + " bytes");
                });
                r.checks().forEach(c -> line(w, "check", "ok: " + c));
                r.problems().forEach(p -> line(w, "check", "PROBLEM: " + p));
            }
        }
        boolean problems = reports.stream().anyMatch(r -> !r.problems().isEmpty());
        return problems ? ExitCode.CHECK_FAILED.code() : ExitCode.OK.code();
    }

    private static void line(PrintWriter w, String key, String value) {
        w.printf("%-15s %s%n", key + ":", value);
    }

    private static String version(InfoWorkflow.Version v) {
        return String.format("0x%08x %s", v.crc(), v.name());
    }

    /** --json: every module. */
    record Modules(List<Module> modules) { }

    /** One module: modinfo's fields as one-key objects in modinfo's order, its versions, signature and problems. */
    record Module(String filename, CompressedModule.Kind compression, List<Map<String, String>> modinfo,
                  List<String> versions, List<String> extVersions, String buildId, Optional<Signature> signature,
                  List<String> problems) {
        static Module of(InfoWorkflow.Report r) {
            return new Module(r.file().toAbsolutePath().toString(), r.compression(),
                    r.fields().stream().map(e -> Collections.singletonMap(e.getKey(), e.getValue())).toList(),
                    r.versions().stream().map(InfoCommand::version).toList(),
                    r.extVersions().stream().map(InfoCommand::version).toList(), r.buildId().orElse(null),
                    r.signature().map(s -> new Signature(s.signer(), s.keyId(), s.hashAlgo(), s.signature().length)),
                    r.problems());
        }
    }

    /** Who signed a module, with which key and hash, and the signature's length in bytes. */
    record Signature(String signer, String sigKey, String hashAlgo, int length) { }
}
