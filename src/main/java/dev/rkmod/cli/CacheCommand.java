package dev.rkmod.cli;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import dev.rkmod.infra.cache.CacheEntry;
import dev.rkmod.model.ExitCode;
import dev.rkmod.workflow.Context;
import dev.rkmod.workflow.cache.CacheWorkflow;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

@Command(name = "cache",
        description = "Show or clear rkmod's content-addressed cache ($XDG_CACHE_HOME/rkmod, default ~/.cache/rkmod).",
        mixinStandardHelpOptions = true,
        subcommands = {CacheCommand.ListCommand.class, CacheCommand.ClearCommand.class})
final class CacheCommand implements Runnable {
    private final Session session;

    CacheCommand(Session session) {
        this.session = session;
    }

    @Override
    public void run() {
        new ListCommand(session).call();
    }

    @Command(name = "list", description = "List cached entries: kind, key, size, creation time, description.",
            mixinStandardHelpOptions = true)
    static final class ListCommand implements Callable<Integer> {
        private final Session session;

        @Mixin
        OutputOptions output = new OutputOptions();

        ListCommand(Session session) {
            this.session = session;
        }

        @Override
        public Integer call() {
            Context ctx = session.context(output);
            List<CacheWorkflow.Listed> entries = new CacheWorkflow(ctx).list();
            if (output.json()) {
                JsonObject o = new JsonObject();
                o.addProperty("root", ctx.cache().root().toString());
                JsonArray arr = new JsonArray();
                for (CacheWorkflow.Listed l : entries) {
                    JsonObject e = entry(l.entry());
                    e.addProperty("bytes", l.bytes());
                    arr.add(e);
                }
                o.add("entries", arr);
                session.out().println(Json.GSON.toJson(o));
                return ExitCode.OK.code();
            }
            session.out().println("cache: " + ctx.cache().root());
            if (entries.isEmpty()) {
                session.out().println("(empty)");
            }
            for (CacheWorkflow.Listed l : entries) {
                CacheEntry e = l.entry();
                session.out().printf("%-8s %s  %9s  %s  %s%n", e.kind(), e.shortKey(), size(l.bytes()),
                        e.created().toString().substring(0, 19).replace('T', ' '), e.description());
            }
            return ExitCode.OK.code();
        }
    }

    @Command(name = "clear", description = "Remove cached entries (all, or one kind), stale temporary files and logs.",
            mixinStandardHelpOptions = true)
    static final class ClearCommand implements Callable<Integer> {
        private final Session session;

        @Option(names = "--kind", paramLabel = "KIND", description = "Only entries of this kind (e.g. root, kernel).")
        String kind;

        @Mixin
        OutputOptions output = new OutputOptions();

        ClearCommand(Session session) {
            this.session = session;
        }

        @Override
        public Integer call() {
            Context ctx = session.context(output);
            List<CacheEntry> removed = new CacheWorkflow(ctx).clear(kind);
            if (output.json()) {
                JsonObject o = new JsonObject();
                JsonArray arr = new JsonArray();
                removed.forEach(e -> arr.add(entry(e)));
                o.add("removed", arr);
                session.out().println(Json.GSON.toJson(o));
            } else {
                removed.forEach(e -> session.out().println("removed " + e.kind() + " " + e.shortKey() + "  " + e.description()));
                session.out().println(removed.size() + " entr" + (removed.size() == 1 ? "y" : "ies") + " removed from "
                        + ctx.cache().root());
            }
            return ExitCode.OK.code();
        }
    }

    static JsonObject entry(CacheEntry e) {
        JsonObject o = new JsonObject();
        o.addProperty("kind", e.kind());
        o.addProperty("key", e.key());
        o.addProperty("description", e.description());
        o.addProperty("created", e.created().toString());
        o.addProperty("path", e.dir().toString());
        return o;
    }

    static String size(long bytes) {
        if (bytes < 1024) {
            return bytes + " B";
        }
        double v = bytes;
        String[] units = {"KiB", "MiB", "GiB", "TiB"};
        int i = -1;
        while (v >= 1024 && i < units.length - 1) {
            v /= 1024;
            i++;
        }
        return String.format(Locale.ROOT, "%.1f %s", v, units[i]);
    }
}
