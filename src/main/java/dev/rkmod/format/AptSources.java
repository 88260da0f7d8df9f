package dev.rkmod.format;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * APT's source lists: the one-line {@code sources.list} format and deb822 {@code *.sources}
 * files. rkmod reads them to reuse the machine's own Debian mirror for debootstrap.
 */
public final class AptSources {

    /** One "deb" source: a URI and its suites. */
    public record Source(String uri, List<String> suites, List<String> components) { }

    private final List<Source> sources;

    private AptSources(List<Source> sources) {
        this.sources = List.copyOf(sources);
    }

    public List<Source> sources() {
        return sources;
    }

    /** Reads {@code etcApt/sources.list} and {@code etcApt/sources.list.d/*.{list,sources}}. */
    public static AptSources read(Path etcApt) throws IOException {
        List<Source> out = new ArrayList<>();
        Path main = etcApt.resolve("sources.list");
        if (Files.isRegularFile(main)) {
            out.addAll(parseOneLine(new String(Files.readAllBytes(main), StandardCharsets.UTF_8)));
        }
        Path d = etcApt.resolve("sources.list.d");
        if (Files.isDirectory(d)) {
            List<Path> files = new ArrayList<>();
            try (DirectoryStream<Path> ds = Files.newDirectoryStream(d)) {
                ds.forEach(files::add);
            }
            files.sort(null);
            for (Path f : files) {
                String name = f.getFileName().toString();
                if (name.endsWith(".list")) {
                    out.addAll(parseOneLine(new String(Files.readAllBytes(f), StandardCharsets.UTF_8)));
                } else if (name.endsWith(".sources")) {
                    out.addAll(parseDeb822(new String(Files.readAllBytes(f), StandardCharsets.UTF_8)));
                }
            }
        }
        return new AptSources(out);
    }

    static List<Source> parseOneLine(String text) {
        List<Source> out = new ArrayList<>();
        for (String raw : text.split("\n")) {
            String line = raw.strip();
            int hash = line.indexOf('#');
            if (hash >= 0) {
                line = line.substring(0, hash).strip();
            }
            if (!line.startsWith("deb ")) {
                continue;
            }
            List<String> words = new ArrayList<>(Arrays.asList(line.split("\\s+")));
            words.remove(0);
            if (!words.isEmpty() && words.get(0).startsWith("[")) {
                while (!words.isEmpty() && !words.get(0).endsWith("]")) {
                    words.remove(0);
                }
                if (!words.isEmpty()) {
                    words.remove(0);
                }
            }
            if (words.size() >= 2) {
                out.add(new Source(words.get(0), List.of(words.get(1)), List.copyOf(words.subList(2, words.size()))));
            }
        }
        return out;
    }

    static List<Source> parseDeb822(String text) {
        List<Source> out = new ArrayList<>();
        for (String stanza : text.split("\n\\s*\n")) {
            String types = null;
            String uris = null;
            String suites = null;
            String comps = "";
            boolean enabled = true;
            for (String raw : stanza.split("\n")) {
                if (raw.startsWith("#") || raw.isBlank() || Character.isWhitespace(raw.charAt(0))) {
                    continue;
                }
                int colon = raw.indexOf(':');
                if (colon <= 0) {
                    continue;
                }
                String key = raw.substring(0, colon).trim().toLowerCase();
                String val = raw.substring(colon + 1).trim();
                switch (key) {
                    case "types" -> types = val;
                    case "uris" -> uris = val;
                    case "suites" -> suites = val;
                    case "components" -> comps = val;
                    case "enabled" -> enabled = !val.equalsIgnoreCase("no");
                    default -> { }
                }
            }
            if (!enabled || types == null || uris == null || suites == null
                    || !Arrays.asList(types.split("\\s+")).contains("deb")) {
                continue;
            }
            List<String> suiteList = List.of(suites.split("\\s+"));
            List<String> compList = comps.isBlank() ? List.of() : List.of(comps.split("\\s+"));
            for (String uri : uris.split("\\s+")) {
                out.add(new Source(uri, suiteList, compList));
            }
        }
        return out;
    }

    /**
     * The archive URI of the main Debian mirror: a source serving the given suite that is not a
     * security or updates pocket.
     */
    public Optional<String> debianMirror(String hostSuite) {
        for (Source s : sources) {
            if (s.suites().contains(hostSuite) && !s.uri().contains("security")) {
                return Optional.of(s.uri());
            }
        }
        for (Source s : sources) {
            if (s.suites().stream().anyMatch(x -> !x.contains("security") && !x.contains("-"))
                    && !s.uri().contains("security")) {
                return Optional.of(s.uri());
            }
        }
        return Optional.empty();
    }
}
