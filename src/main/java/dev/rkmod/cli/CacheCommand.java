package dev.rkmod.cli;

import dev.rkmod.infra.cache.CacheEntry;
import dev.rkmod.model.ExitCode;
import dev.rkmod.workflow.Context;
import dev.rkmod.workflow.cache.CacheWorkflow;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.List;
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
                session.out().println(Json.write(new Listing(ctx.cache().root(), entries.stream()
                        .map(l -> new Sized(Entry.of(l.entry()), l.bytes())).toList())));
                return ExitCode.OK.code();
            }
            session.out().println("cache: " + ctx.cache().root());
            if (entries.isEmpty()) {
                session.out().println("(empty)");
            }
            for (CacheWorkflow.Listed l : entries) {
                CacheEntry e = l.entry();
                session.out().printf("%-8s %s  %9s  %s  %s%n", e.kind(), e.shortKey(), Text.size(l.bytes()),
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
                session.out().println(Json.write(new Removed(removed.stream().map(Entry::of).toList())));
            } else {
                removed.forEach(e -> session.out().println("removed " + e.kind() + " " + e.shortKey() + "  " + e.description()));
                session.out().println(removed.size() + " entr" + (removed.size() == 1 ? "y" : "ies") + " removed from "
                        + ctx.cache().root());
            }
            return ExitCode.OK.code();
        }
    }

    /** A cache entry as --json shows it. */
    record Entry(String kind, String key, String description, String created, Path path) {
        static Entry of(CacheEntry e) {
            return new Entry(e.kind(), e.key(), e.description(), e.created().toString(), e.dir());
        }
    }

    /** An entry and the bytes it takes. */
    record Sized(@Json.Inline Entry entry, long bytes) { }

    /** --json of 'cache list'. */
    record Listing(Path root, List<Sized> entries) { }

    /** --json of 'cache clear'. */
    record Removed(List<Entry> removed) { }
}
