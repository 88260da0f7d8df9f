package dev.rkmod;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The README and docs/ stay usable: every relative link (README.md and docs/**.md) names a file that exists, and
 * a {@code #fragment} into a Markdown file names one of its headings (GitHub's anchor rules); the README stays
 * short, starts with the quick start, and links every page of docs/.
 */
class DocsTest {
    private static final Path REPO = Path.of("").toAbsolutePath();
    private static final Pattern LINK = Pattern.compile("\\[[^\\]]*]\\(([^)\\s]+)\\)");
    private static final Pattern HEADING = Pattern.compile("^(#{1,6})\\s+(.*?)\\s*#*\\s*$");

    @Test
    void everyRelativeLinkResolves() throws IOException {
        List<String> broken = new ArrayList<>();
        Map<Path, Set<String>> anchors = new HashMap<>();
        int checked = 0;
        for (Path doc : documents()) {
            for (String target : links(doc)) {
                if (target.matches("^[a-z][a-z0-9+.-]*:.*")) {
                    continue; // https:, mailto: and the like
                }
                checked++;
                int hash = target.indexOf('#');
                String file = hash < 0 ? target : target.substring(0, hash);
                String fragment = hash < 0 ? null : target.substring(hash + 1);
                Path resolved = file.isEmpty() ? doc : doc.getParent().resolve(file).normalize();
                String where = REPO.relativize(doc) + ": (" + target + ")";
                if (!resolved.startsWith(REPO)) {
                    broken.add(where + " leaves the repository");
                } else if (!Files.exists(resolved)) {
                    broken.add(where + " names no file");
                } else if (fragment != null && resolved.toString().endsWith(".md")) {
                    Set<String> known = anchors.computeIfAbsent(resolved, DocsTest::anchorsOf);
                    if (!known.contains(fragment)) {
                        broken.add(where + " names no heading of " + REPO.relativize(resolved));
                    }
                }
            }
        }
        assertThat(checked).as("relative links checked").isGreaterThan(30);
        assertThat(broken).as("broken links").isEmpty();
    }

    @Test
    void readmeIsShortAndStartsWithTheQuickStart() throws IOException {
        List<String> lines = Files.readAllLines(REPO.resolve("README.md"));
        assertThat(lines.size()).as("README.md lines").isLessThanOrEqualTo(200);
        String firstSection = lines.stream().filter(l -> l.startsWith("## ")).findFirst().orElse("");
        assertThat(firstSection).isEqualTo("## Quick start");
        String quickStart = String.join("\n", lines);
        assertThat(quickStart).contains("./rkmod demo").contains("mvn -B verify");
    }

    @Test
    void readmeLinksEveryPageOfDocs() throws IOException {
        Set<String> linked = links(REPO.resolve("README.md")).stream()
                .map(t -> t.replaceAll("#.*", "")).collect(Collectors.toSet());
        try (Stream<Path> s = Files.list(REPO.resolve("docs"))) {
            List<String> pages = s.filter(p -> p.toString().endsWith(".md"))
                    .map(p -> "docs/" + p.getFileName()).sorted().collect(Collectors.toList());
            assertThat(pages).isNotEmpty();
            assertThat(linked).containsAll(pages);
        }
    }

    @Test
    void anchorsFollowGithub() {
        assertThat(slug("`rkmod headers complete`")).isEqualTo("rkmod-headers-complete");
        assertThat(slug("Kernels and distros served")).isEqualTo("kernels-and-distros-served");
        assertThat(slug("How to add: a kernel generation")).isEqualTo("how-to-add-a-kernel-generation");
        assertThat(slug("rkmod kernel config|build|list")).isEqualTo("rkmod-kernel-configbuildlist");
    }

    private static List<Path> documents() throws IOException {
        List<Path> out = new ArrayList<>();
        out.add(REPO.resolve("README.md"));
        try (Stream<Path> s = Files.walk(REPO.resolve("docs"))) {
            // docs/commands/*.md are fragments of the generated docs/commands.md, which is checked as a whole
            s.filter(p -> p.toString().endsWith(".md") && !p.getParent().endsWith("commands")).sorted().forEach(out::add);
        }
        return out;
    }

    /** The link targets of a Markdown file, outside fenced code blocks and inline code. */
    static List<String> links(Path doc) throws IOException {
        List<String> out = new ArrayList<>();
        boolean fenced = false;
        for (String line : Files.readAllLines(doc)) {
            if (line.stripLeading().startsWith("```")) {
                fenced = !fenced;
                continue;
            }
            if (fenced) {
                continue;
            }
            Matcher m = LINK.matcher(line.replaceAll("`[^`]*`", "``"));
            while (m.find()) {
                out.add(m.group(1));
            }
        }
        return out;
    }

    private static Set<String> anchorsOf(Path doc) {
        Set<String> out = new LinkedHashSet<>();
        Map<String, Integer> seen = new HashMap<>();
        boolean fenced = false;
        try {
            for (String line : Files.readAllLines(doc)) {
                if (line.stripLeading().startsWith("```")) {
                    fenced = !fenced;
                    continue;
                }
                Matcher m = HEADING.matcher(line);
                if (!fenced && m.matches()) {
                    String s = slug(m.group(2));
                    int n = seen.merge(s, 1, Integer::sum);
                    out.add(n == 1 ? s : s + "-" + (n - 1));
                }
                Matcher a = Pattern.compile("<a (?:id|name)=\"([^\"]+)\"").matcher(line);
                while (a.find()) {
                    out.add(a.group(1));
                }
            }
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        return out;
    }

    /** GitHub's heading anchor: lower case, punctuation but '-' and '_' dropped, spaces to '-'. */
    static String slug(String heading) {
        String text = heading.replaceAll("\\[([^\\]]*)]\\([^)]*\\)", "$1").toLowerCase(Locale.ROOT);
        StringBuilder b = new StringBuilder();
        text.codePoints().forEach(c -> {
            if (Character.isLetterOrDigit(c) || c == '-' || c == '_') {
                b.appendCodePoint(c);
            } else if (c == ' ') {
                b.append('-');
            }
        });
        return b.toString();
    }
}
