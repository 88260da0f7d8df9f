package dev.rkmod.cli;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import dev.rkmod.model.ExitCode;
import dev.rkmod.model.RkmodException;
import dev.rkmod.workflow.pack.PackageRequest;
import dev.rkmod.workflow.pack.PackageWorkflow;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;

@Command(name = "package", mixinStandardHelpOptions = true,
        header = "Make a relocatable, verified Rust-ready build tree from a built kernel.",
        description = {
            "Make a relocatable, Rust-ready external-module build tree from a built kernel: the C set, the Rust set",
            "(rust/*.rmeta, stripped rust/*.so, the target spec), rust-toolchain and rkmod-package.json. By default",
            "it is verified at another path by building a C and a Rust probe module with the recorded rustc."
        })
final class PackageCommand implements Callable<Integer> {
    private final Session session;

    @Option(names = "--kdir", required = true, paramLabel = "BUILD_TREE", description = "A built kernel tree or an rkmod package.")
    Path kdir;

    @Option(names = "--out", required = true, paramLabel = "DEST", description = "Where the package goes.")
    Path out;

    @Option(names = "--format", paramLabel = "dir|tar.zst|tar.xz", defaultValue = "dir",
            description = "Output format (default ${DEFAULT-VALUE}). Archives are reproducible.")
    String format;

    @Option(names = "--no-verify", description = "Skip building the probe modules.")
    boolean noVerify;

    @Option(names = "--force", description = "Replace an existing DEST.")
    boolean force;

    @Mixin
    OutputOptions output = new OutputOptions();

    PackageCommand(Session session) {
        this.session = session;
    }

    /** SOURCE_DATE_EPOCH, or 0. */
    static long sourceDateEpoch(Session session) {
        String sde = session.host().env().get("SOURCE_DATE_EPOCH");
        if (sde == null || sde.isBlank()) {
            return 0;
        }
        try {
            return Long.parseLong(sde.strip());
        } catch (NumberFormatException e) {
            throw new RkmodException(ExitCode.USAGE, "SOURCE_DATE_EPOCH='" + sde + "' is not a number of seconds", null,
                    "Unset it or set it to a Unix time");
        }
    }

    @Override
    public Integer call() {
        PackageRequest.Format f;
        try {
            f = PackageRequest.Format.parse(format);
        } catch (IllegalArgumentException e) {
            throw new RkmodException(ExitCode.USAGE, "Unknown --format '" + format + "'", null, "Use dir, tar.zst or tar.xz");
        }
        long epoch = sourceDateEpoch(session);
        PackageWorkflow.Result r = new PackageWorkflow(session.context(output))
                .pack(new PackageRequest(kdir, out, f, !noVerify, force, epoch));
        if (output.json()) {
            JsonObject j = new JsonObject();
            j.addProperty("out", r.out().toString());
            j.addProperty("format", format);
            j.addProperty("release", r.manifest().release());
            j.addProperty("generation", r.manifest().generation());
            j.addProperty("rustc", r.manifest().rustc());
            j.addProperty("targetTriple", r.manifest().targetTriple());
            j.addProperty("files", r.manifest().files().size());
            j.addProperty("unpackedBytes", r.unpackedBytes());
            j.addProperty("outBytes", r.outBytes());
            j.addProperty("packMillis", r.packTime().toMillis());
            if (r.verification() != null) {
                JsonObject v = new JsonObject();
                v.addProperty("relocatedTo", r.verification().relocatedTo().toString());
                v.addProperty("rustc", r.verification().rustcCandidate());
                JsonArray mods = new JsonArray();
                r.verification().modules().forEach(m -> mods.add(m.getFileName().toString()));
                v.add("modules", mods);
                v.addProperty("millis", r.verification().took().toMillis());
                j.add("verification", v);
            }
            session.out().println(Json.GSON.toJson(j));
        } else {
            PrintWriter w = session.out();
            w.println("package " + r.out());
            w.printf("  Linux %s, %s generation, %s%n", r.manifest().release(), r.manifest().generation(), r.manifest().rustc());
            w.printf("  %d files, %s unpacked, %s written, packed in %.1f s%n", r.manifest().files().size(),
                    CacheCommand.size(r.unpackedBytes()), CacheCommand.size(r.outBytes()), r.packTime().toMillis() / 1000.0);
            if (r.manifest().targetTriple() != null) {
                w.println("  target     " + r.manifest().targetSpec() + " (rustc names it " + r.manifest().targetTriple() + ")");
            }
            if (r.verification() != null) {
                w.printf("  verified   C and Rust probe modules built at %s with %s (%.1f s)%n",
                        r.verification().relocatedTo(), r.verification().rustcCandidate(),
                        r.verification().took().toMillis() / 1000.0);
            } else {
                w.println("  not verified (--no-verify)");
            }
        }
        return ExitCode.OK.code();
    }
}
