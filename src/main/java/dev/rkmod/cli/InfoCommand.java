package dev.rkmod.cli;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import dev.rkmod.model.ExitCode;
import dev.rkmod.workflow.info.InfoWorkflow;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
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
            JsonArray arr = new JsonArray();
            for (InfoWorkflow.Report r : reports) {
                JsonObject o = new JsonObject();
                o.addProperty("filename", r.file().toAbsolutePath().toString());
                o.addProperty("compression", r.compression().name().toLowerCase());
                JsonArray fields = new JsonArray();
                for (Map.Entry<String, String> e : r.fields()) {
                    JsonObject f = new JsonObject();
                    f.addProperty(e.getKey(), e.getValue());
                    fields.add(f);
                }
                o.add("modinfo", fields);
                JsonArray versions = new JsonArray();
                r.versions().forEach(v -> versions.add(String.format("0x%08x %s", v.crc(), v.name())));
                o.add("versions", versions);
                JsonArray ext = new JsonArray();
                r.extVersions().forEach(v -> ext.add(String.format("0x%08x %s", v.crc(), v.name())));
                o.add("extVersions", ext);
                o.addProperty("buildId", r.buildId().orElse(null));
                r.signature().ifPresent(s -> {
                    JsonObject sj = new JsonObject();
                    sj.addProperty("signer", s.signer());
                    sj.addProperty("sigKey", s.keyId());
                    sj.addProperty("hashAlgo", s.hashAlgo());
                    sj.addProperty("length", s.signature().length);
                    o.add("signature", sj);
                });
                JsonArray problems = new JsonArray();
                r.problems().forEach(problems::add);
                o.add("problems", problems);
                arr.add(o);
            }
            JsonObject o = new JsonObject();
            o.add("modules", arr);
            session.out().println(Json.GSON.toJson(o));
        } else {
            for (InfoWorkflow.Report r : reports) {
                line(w, "filename", r.file().toAbsolutePath().toString());
                r.fields().forEach(e -> line(w, e.getKey(), e.getValue()));
                r.buildId().ifPresent(b -> line(w, "build-id", b));
                r.versions().forEach(v -> line(w, "version", String.format("0x%08x %s", v.crc(), v.name())));
                r.extVersions().forEach(v -> line(w, "version_ext", String.format("0x%08x %s", v.crc(), v.name())));
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
}
