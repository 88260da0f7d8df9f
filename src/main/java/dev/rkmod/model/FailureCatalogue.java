package dev.rkmod.model;

import com.google.gson.Gson;
import com.google.gson.reflect.TypeToken;

import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * What goes wrong building and loading out-of-tree Rust modules: data (the resource
 * failure-catalogue.json) plus one small matcher. Given compiler, make or kernel log output it returns
 * the entries that explain it, most specific first.
 */
public final class FailureCatalogue {

    /** One known failure. kind is "build" (default) or "load". */
    public record Entry(String id, String severity, String kind, List<String> patterns, String title, String cause,
                        String fix) {
        public boolean isLoad() {
            return "load".equals(kind);
        }
    }

    /** A recognised failure and the line that showed it. */
    public record Match(Entry entry, String line) { }

    private record Compiled(Entry entry, List<Pattern> patterns) { }

    private static final FailureCatalogue INSTANCE = load();

    private final List<Compiled> entries;

    private FailureCatalogue(List<Compiled> entries) {
        this.entries = entries;
    }

    public static FailureCatalogue get() {
        return INSTANCE;
    }

    private static FailureCatalogue load() {
        try (InputStream in = FailureCatalogue.class.getResourceAsStream("/dev/rkmod/failure-catalogue.json")) {
            if (in == null) {
                throw new IllegalStateException("failure-catalogue.json missing");
            }
            List<Entry> raw = new Gson().fromJson(new InputStreamReader(in, StandardCharsets.UTF_8),
                    new TypeToken<List<Entry>>() { }.getType());
            List<Compiled> out = new ArrayList<>();
            for (Entry e : raw) {
                out.add(new Compiled(e, e.patterns().stream().map(Pattern::compile).toList()));
            }
            return new FailureCatalogue(List.copyOf(out));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public List<Entry> entries() {
        return entries.stream().map(Compiled::entry).toList();
    }

    public Optional<Entry> byId(String id) {
        return entries().stream().filter(e -> e.id().equals(id)).findFirst();
    }

    /** Each entry that explains some line of {@code lines}, once, in catalogue order; each line counts once. */
    public List<Match> explain(List<String> lines) {
        List<Match> out = new ArrayList<>();
        Set<String> seen = new LinkedHashSet<>();
        for (String line : lines) {
            for (Compiled c : entries) {
                if (c.patterns().stream().anyMatch(p -> p.matcher(line).find())) {
                    if (seen.add(c.entry().id())) {
                        out.add(new Match(c.entry(), line.strip()));
                    }
                    break;
                }
            }
        }
        out.sort((a, b) -> Integer.compare(entries().indexOf(a.entry()), entries().indexOf(b.entry())));
        return out;
    }
}
