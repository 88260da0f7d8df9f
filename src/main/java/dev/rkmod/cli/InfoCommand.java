package dev.rkmod.cli;

import dev.rkmod.format.CompressedModule;
import dev.rkmod.model.ExitCode;
import dev.rkmod.model.RkmodException;
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
        description = "Show what modules are, in modinfo's order and style, with __versions, the extended modversions sections, "
            + "the build-id and the signature. Reads .ko.xz/.ko.zst/.ko.gz. With --kdir, check vermagic and that every "
            + "undefined symbol is exported (GPL-only exports need a GPL module); exit 1 on a problem.")
final class InfoCommand implements Callable<Integer> {
    private final Session session;

    @Parameters(arity = "1..*", paramLabel = "FILE.ko") List<Path> modules = new ArrayList<>();
    @Option(names = "-F", paramLabel = "FIELD", description = "Print only this field's values, like modinfo -F.") String field;
    @Option(names = "--kdir", paramLabel = "DIR", description = "Check against this kernel tree or package.") Path kdir;
    @Mixin OutputOptions output = new OutputOptions();

    InfoCommand(Session session) {
        this.session = session;
    }

    /**
     * The plain {@code rkmod info [-F FIELD] FILE...} of a batch (what {@code xargs rkmod info} runs), without
     * building picocli's model: null when the arguments are anything else, which picocli then parses as usual.
     */
    static Integer plain(Session session, String[] args) {
        if (args.length < 2 || !args[0].equals("info")) {
            return null;
        }
        InfoCommand c = new InfoCommand(session);
        try {
            for (int i = 1; i < args.length; i++) {
                String a = args[i];
                if (a.equals("-F") && c.field == null && i + 1 < args.length && !args[i + 1].startsWith("-")
                        && !args[i + 1].startsWith("@")) {
                    c.field = args[++i];
                } else if (a.isEmpty() || a.startsWith("-") || a.startsWith("@")) {
                    return null;
                } else {
                    c.modules.add(Path.of(a));
                }
            }
        } catch (java.nio.file.InvalidPathException e) {
            return null;
        }
        if (c.modules.isEmpty()) {
            return null;
        }
        try {
            return c.call();
        } catch (RkmodException e) {
            Cli.report(session, false, e.exitCode(), e.paragraph());
            return e.exitCode().code();
        }
    }

    @Override
    public Integer call() {
        if (!output.json() && kdir == null) {
            return stream();
        }
        List<InfoWorkflow.Outcome> outcomes = new InfoWorkflow().infoEach(modules, Optional.ofNullable(kdir));
        List<InfoWorkflow.Report> reports = outcomes.stream().flatMap(o -> o.report().stream()).toList();
        List<RkmodException> errors = outcomes.stream().flatMap(o -> o.error().stream()).toList();
        PrintWriter w = session.out();
        if (output.json()) {
            session.out().println(Json.write(new Modules(reports.stream().map(Module::of).toList(),
                    errors.isEmpty() ? Optional.empty() : Optional.of(outcomes.stream().filter(o -> o.error().isPresent())
                            .map(o -> new Unreadable(o.file().toAbsolutePath().toString(), o.error().get().paragraph(),
                                    o.error().get().exitCode().code())).toList()))));
        } else {
            for (InfoWorkflow.Outcome o : outcomes) {
                if (o.error().isPresent()) {
                    // like modinfo: name the bad file on standard error and go on with the others
                    w.flush();
                    session.err().println("rkmod: error: " + o.error().get().paragraph());
                    session.err().flush();
                } else if (field != null) {
                    o.report().get().field(field).forEach(w::println);
                } else {
                    text(w, o.report().get());
                }
            }
        }
        int worst = errors.stream().mapToInt(e -> e.exitCode().code()).max().orElse(ExitCode.OK.code());
        boolean problems = reports.stream().anyMatch(r -> !r.problems().isEmpty());
        return Math.max(worst, problems ? ExitCode.CHECK_FAILED.code() : ExitCode.OK.code());
    }

    /** Text without a tree: each module is printed as soon as it is read, through one buffer. */
    private int stream() {
        PrintWriter w = session.out();
        // a new buffer after each flush: one non-Latin-1 character would keep a reused one in UTF-16 for good
        StringBuilder[] sb = {new StringBuilder(1 << 16)};
        int[] worst = {ExitCode.OK.code()};
        new InfoWorkflow().each(modules, field == null ? InfoWorkflow.Need.ALL : InfoWorkflow.needFor(field), o -> {
            if (o.error().isPresent()) {
                // like modinfo: name the bad file on standard error and go on with the others
                w.append(sb[0]);
                sb[0] = new StringBuilder(1 << 16);
                w.flush();
                session.err().println("rkmod: error: " + o.error().get().paragraph());
                session.err().flush();
                worst[0] = Math.max(worst[0], o.error().get().exitCode().code());
                return;
            }
            if (field != null) {
                for (String v : o.report().get().field(field)) {
                    sb[0].append(v).append('\n');
                }
            } else {
                text(sb[0], o.report().get());
            }
            if (sb[0].length() >= 1 << 15) {
                w.append(sb[0]);
                sb[0] = new StringBuilder(1 << 16);
            }
        });
        w.append(sb[0]);
        w.flush();
        return worst[0];
    }

    private static void text(PrintWriter w, InfoWorkflow.Report r) {
        StringBuilder sb = new StringBuilder();
        text(sb, r);
        w.append(sb);
    }

    private static void text(StringBuilder w, InfoWorkflow.Report r) {
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

    /** modinfo's "%-15s %s\n" of "key:" and the value. */
    private static void line(StringBuilder w, String key, String value) {
        w.append(key).append(':');
        if (key.length() < 14) {
            w.append(PAD, 0, 14 - key.length());
        }
        w.append(' ').append(value).append('\n');
    }

    private static final String PAD = "              ";

    /** "0x%08x name". */
    private static String version(InfoWorkflow.Version v) {
        String hex = Long.toHexString(v.crc());
        return "0x" + "00000000".substring(Math.min(8, hex.length())) + hex + " " + v.name();
    }

    /** --json: every module that could be read, and (only when there are any) the ones that could not. */
    record Modules(List<Module> modules, Optional<List<Unreadable>> unreadable) { }

    /** A module that could not be read: which, why (one paragraph) and the exit code it stands for. */
    record Unreadable(String filename, String error, int exitCode) { }

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
