package dev.rkmod.cli;

import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Writes rkmod's command reference, {@code docs/commands.md}, from the picocli model the man pages are written from
 * ({@link ManPageWriter#commands}: the same commands, by the same page names): a table of contents, then for each
 * command a heading, its one-line summary, its {@code --help} exactly as rkmod prints it, and the hand-written
 * fragment {@code docs/commands/<page name>.md} (prose and console examples) when there is one. Build-only, like
 * ManPageWriter: {@link SelfDeb} writes {@code target/commands.md} in the package phase, and
 * {@code CommandReferenceTest} compares the committed file with what this class writes (and regenerates it with
 * {@code -Drkmod.docs.update=true}).
 *
 * <p>The output is deterministic: no date, no version, the help at a fixed width with ANSI off, fragments read by
 * page name. A fragment that belongs to no command, or whose headings would break the page's outline, fails the
 * generation.
 */
final class CommandReference {
    /** picocli's default width: what {@code rkmod ... --help} prints when no width is configured. */
    static final int WIDTH = 80;
    /** The committed reference and its fragments, relative to the repository. */
    static final String FILE = "docs/commands.md";
    static final String FRAGMENTS = "docs/commands";
    static final String REGENERATE =
            "mvn -B -q test -Dtest=CommandReferenceTest -Drkmod.docs.update=true -Drkmod.it.skipProvision=true";

    private static final Pattern HEADING = Pattern.compile("^(#{1,6})\\s+(.*)$");

    private final Map<String, CommandSpec> commands;
    private final Map<String, String> fragments;

    private CommandReference(Map<String, CommandSpec> commands, Map<String, String> fragments) {
        this.commands = commands;
        this.fragments = fragments;
    }

    /**
     * The reference of the tree under {@code root}, with the fragments in {@code fragmentDir} (which may be missing:
     * no fragments). Every file there must be {@code <page name>.md} of a visible command of the tree.
     */
    static CommandReference of(CommandSpec root, Path fragmentDir) throws IOException {
        return of(ManPageWriter.commands(root), fragmentDir);
    }

    /** The reference of {@code commands} (from {@link ManPageWriter#commands}), with the fragments in {@code fragmentDir}. */
    static CommandReference of(Map<String, CommandSpec> commands, Path fragmentDir) throws IOException {
        Map<String, String> texts = new TreeMap<>();
        if (Files.isDirectory(fragmentDir)) {
            try (Stream<Path> files = Files.list(fragmentDir)) {
                for (Path f : files.sorted().toList()) {
                    texts.put(f.getFileName().toString(), Files.isRegularFile(f) ? Files.readString(f, StandardCharsets.UTF_8) : null);
                }
            }
        }
        return of(commands, texts, fragmentDir.toString());
    }

    /** The same, with the fragments given as file name to text (null for something that is no regular file). */
    static CommandReference of(Map<String, CommandSpec> commands, Map<String, String> files, String where) {
        Map<String, String> fragments = new LinkedHashMap<>();
        List<String> problems = new ArrayList<>();
        for (Map.Entry<String, String> f : files.entrySet()) {
            String file = f.getKey();
            String page = file.endsWith(".md") ? file.substring(0, file.length() - 3) : null;
            if (page == null || f.getValue() == null) {
                problems.add(where + "/" + file + " is not a fragment: the directory holds only <page name>.md files");
            } else if (!commands.containsKey(page)) {
                problems.add(where + "/" + file + " belongs to no command: '" + page.replace('-', ' ')
                        + "' is not a visible command of rkmod. Rename it after its command's page name or remove it");
            } else {
                String text = normalise(f.getValue());
                problems.addAll(headingProblems(where + "/" + file, text, level(commands.get(page)), commands.keySet()));
                fragments.put(page, text);
            }
        }
        if (!problems.isEmpty()) {
            throw new IllegalArgumentException("Cannot write the command reference: " + String.join("; ", problems)
                    + ". Fragments are named after the man pages: " + String.join(", ", commands.keySet()) + ".");
        }
        return new CommandReference(commands, fragments);
    }

    /** The page names of the commands, in the order of the reference. */
    List<String> pages() {
        return List.copyOf(commands.keySet());
    }

    /** The page names that have a hand-written fragment. */
    List<String> fragmentPages() {
        return List.copyOf(fragments.keySet());
    }

    /** The whole file. */
    String text() {
        StringBuilder t = new StringBuilder(preamble());
        sections().values().forEach(t::append);
        return t.toString();
    }

    /** The header line, the introduction and the table of contents. */
    String preamble() {
        StringBuilder t = new StringBuilder();
        t.append("<!-- Generated from rkmod's picocli command model and ").append(FRAGMENTS)
                .append("/*.md by CommandReference; do not edit. Regenerate: ").append(REGENERATE).append(" -->\n");
        t.append("# rkmod command reference\n\n");
        t.append("Every command of rkmod with its `--help` exactly as rkmod prints it, generated from the picocli command\n"
                + "model the man pages are written from, followed by the hand-written notes and examples of `")
                .append(FRAGMENTS).append("/<command>.md`\n(`").append(FRAGMENTS).append("/rkmod-kernel-build.md` for `rkmod kernel build`).")
                .append(" Edit those, never this file, and regenerate it with\n`").append(REGENERATE).append("`.\n\n");
        t.append("## Contents\n\n");
        for (Map.Entry<String, CommandSpec> e : commands.entrySet()) {
            CommandSpec spec = e.getValue();
            t.append("  ".repeat(level(spec) - 2)).append("- [").append(spec.qualifiedName()).append("](#")
                    .append(anchor(e.getKey())).append("): ").append(sentence(spec)).append('\n');
        }
        t.append('\n');
        return t.toString();
    }

    /** Each command's section (from its heading to the next command's), by page name. */
    Map<String, String> sections() {
        Map<String, String> out = new LinkedHashMap<>();
        for (Map.Entry<String, CommandSpec> e : commands.entrySet()) {
            CommandSpec spec = e.getValue();
            StringBuilder t = new StringBuilder();
            t.append("#".repeat(level(spec))).append(' ').append(spec.qualifiedName()).append("\n\n");
            t.append(sentence(spec)).append("\n\n");
            t.append("```text\n").append(help(spec)).append("```\n\n");
            String fragment = fragments.get(e.getKey());
            if (fragment != null) {
                t.append(fragment).append('\n');
            }
            out.put(e.getKey(), t.toString());
        }
        return out;
    }

    /** The anchor of a command's section: GitHub's id of the heading "rkmod kernel build" is its page name. */
    static String anchor(String pageName) {
        return slug(pageName.replace('-', ' '));
    }

    /**
     * {@code rkmod ... --help} as picocli prints it without colours at {@link #WIDTH} columns, with LF line ends. The
     * spec's width is put back afterwards.
     */
    static String help(CommandSpec spec) {
        int width = spec.usageMessage().width();
        spec.usageMessage().width(WIDTH);
        try {
            StringWriter s = new StringWriter();
            try (PrintWriter w = new PrintWriter(s)) {
                spec.commandLine().usage(w, CommandLine.Help.Ansi.OFF);
            }
            String text = s.toString().replace("\r\n", "\n");
            return text.endsWith("\n") ? text : text + "\n";
        } finally {
            spec.usageMessage().width(width);
        }
    }

    /** The man page's summary as a sentence: "Lists the Debian packages a toolchain profile needs." */
    static String sentence(CommandSpec spec) {
        String s = ManPageWriter.summary(spec);
        return s.isEmpty() ? s : Character.toUpperCase(s.charAt(0)) + s.substring(1) + ".";
    }

    /** Heading level of a command: 2 for rkmod and its commands, 3 for their subcommands, and so on. */
    static int level(CommandSpec spec) {
        int depth = 0;
        for (CommandSpec p = spec.parent(); p != null; p = p.parent()) {
            depth++;
        }
        return Math.max(2, depth + 1);
    }

    /**
     * The headings of a fragment (outside code blocks) must be below its command's heading, and must not take a
     * command's anchor.
     */
    private static List<String> headingProblems(String file, String text, int level, Iterable<String> pages) {
        List<String> problems = new ArrayList<>();
        List<String> anchors = new ArrayList<>();
        pages.forEach(p -> anchors.add(anchor(p)));
        boolean code = false;
        for (String line : text.split("\n", -1)) {
            if (line.startsWith("```") || line.startsWith("~~~")) {
                code = !code;
                continue;
            }
            Matcher m = HEADING.matcher(line);
            if (code || !m.matches()) {
                continue;
            }
            if (m.group(1).length() <= level) {
                problems.add(file + ": the heading '" + line + "' is not below its command's heading (level " + level
                        + "): write it with " + "#".repeat(level + 1) + " or more");
            }
            if (anchors.contains(slug(m.group(2)))) {
                problems.add(file + ": the heading '" + line + "' would take the anchor of a command's section");
            }
        }
        if (code) {
            problems.add(file + ": a code block is not closed");
        }
        return problems;
    }

    /** GitHub's heading id: lower case, punctuation other than '-' and '_' dropped, spaces as '-'. */
    static String slug(String heading) {
        StringBuilder s = new StringBuilder();
        for (char c : heading.strip().toLowerCase(Locale.ROOT).toCharArray()) {
            if (c == ' ') {
                s.append('-');
            } else if (Character.isLetterOrDigit(c) || c == '-' || c == '_') {
                s.append(c);
            }
        }
        return s.toString();
    }

    /** LF line ends, no trailing white space at the end, one final line end. */
    private static String normalise(String text) {
        return text.replace("\r\n", "\n").stripTrailing() + "\n";
    }

    /** Writes {@code out} atomically (a temporary file beside it, with the umask's mode, then a rename). */
    static void write(Path out, String text) throws IOException {
        Path dir = out.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        Path tmp = dir.resolve("." + out.getFileName() + ".tmp");
        try {
            Files.writeString(tmp, text, StandardCharsets.UTF_8);
            Files.move(tmp, out, java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }
}
