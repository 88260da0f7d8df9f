package dev.rkmod.cli;

import picocli.CommandLine;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Model.PositionalParamSpec;

import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Writes man(7) pages, in troff, straight from picocli's model of rkmod's commands: one page per command,
 * named as git names them ({@code rkmod.1}, {@code rkmod-kernel.1}, {@code rkmod-kernel-build.1}). Build-only:
 * it runs when Maven packages rkmod's own .deb and is not in the shipped jar.
 *
 * <p>picocli-codegen's {@code ManPageGenerator} writes AsciiDoc, which needs asciidoctor (asciidoctorj and
 * JRuby, tens of MB of build dependencies) to become troff; the model has everything a man page shows, so
 * the troff is written here.
 */
final class ManPageWriter {
    private static final int SYNOPSIS_WIDTH = 1000;
    private final String version;
    private final String date;

    ManPageWriter(String version, long epochSeconds) {
        this.version = version;
        this.date = DateTimeFormatter.ISO_LOCAL_DATE.format(Instant.ofEpochSecond(epochSeconds).atOffset(ZoneOffset.UTC));
    }

    /**
     * Every non-hidden command of the tree under {@code spec}, by page name ("rkmod-kernel-build"): the one walk of
     * the model that both the man pages and the command reference ({@link CommandReference}) are written from.
     */
    static Map<String, CommandSpec> commands(CommandSpec spec) {
        Map<String, CommandSpec> out = new LinkedHashMap<>();
        collect(spec, out);
        return out;
    }

    private static void collect(CommandSpec spec, Map<String, CommandSpec> out) {
        out.put(pageName(spec), spec);
        for (CommandSpec sub : children(spec)) {
            collect(sub, out);
        }
    }

    /** The visible subcommands, once each (aliases map to the same command). */
    static List<CommandSpec> children(CommandSpec spec) {
        List<CommandSpec> out = new ArrayList<>();
        for (CommandLine c : spec.subcommands().values()) {
            CommandSpec s = c.getCommandSpec();
            if (!s.usageMessage().hidden() && !out.contains(s)) {
                out.add(s);
            }
        }
        return out;
    }

    static String pageName(CommandSpec spec) {
        return spec.qualifiedName("-");
    }

    /** The page of one command, in troff. */
    String page(CommandSpec spec) {
        StringBuilder t = new StringBuilder();
        String name = pageName(spec);
        t.append(".\\\" Generated from rkmod's picocli command model by ManPageWriter; do not edit.\n");
        t.append(".TH \"").append(name.toUpperCase(Locale.ROOT)).append("\" \"1\" \"").append(date)
                .append("\" \"rkmod ").append(version).append("\" \"rkmod Manual\"\n");
        t.append(".nh\n.ad l\n"); // no hyphenation, ragged right: options and paths stay whole
        t.append(".SH NAME\n").append(escape(name)).append(" \\- ").append(escape(summary(spec))).append('\n');

        t.append(".SH SYNOPSIS\n");
        int width = spec.usageMessage().width();
        spec.usageMessage().width(SYNOPSIS_WIDTH); // one line: man wraps it, never inside a bracket
        CommandLine.Help help = new CommandLine.Help(spec, new CommandLine.Help.ColorScheme.Builder(CommandLine.Help.Ansi.OFF).build());
        String synopsis = String.join(" ", help.synopsis(0).strip().split("\\s*\n\\s*"));
        spec.usageMessage().width(width); // the model is shared with CommandReference, which prints --help at its width
        String qualified = spec.qualifiedName();
        String rest = synopsis.startsWith(qualified) ? synopsis.substring(qualified.length()).strip() : synopsis;
        t.append(".B ").append(escape(qualified)).append('\n');
        if (!rest.isEmpty()) {
            t.append(escape(rest)).append('\n');
        }

        List<String> description = paragraphs(spec.usageMessage().description());
        if (!description.isEmpty()) {
            t.append(".SH DESCRIPTION\n");
            appendParagraphs(t, description);
        }

        List<PositionalParamSpec> positionals = spec.positionalParameters().stream().filter(p -> !p.hidden()).toList();
        if (!positionals.isEmpty()) {
            t.append(".SH ARGUMENTS\n");
            for (PositionalParamSpec p : positionals) {
                t.append(".TP\n\\fI").append(escape(p.paramLabel())).append("\\fR\n");
                appendDescription(t, p);
            }
        }

        List<OptionSpec> options = spec.options().stream().filter(o -> !o.hidden()).toList();
        if (!options.isEmpty()) {
            t.append(".SH OPTIONS\n");
            for (OptionSpec o : options) {
                t.append(".TP\n");
                List<String> names = new ArrayList<>();
                for (String n : o.names()) {
                    names.add("\\fB" + escape(n) + "\\fR");
                }
                t.append(String.join(", ", names));
                if (o.arity().max() > 0) {
                    t.append("=\\fI").append(escape(o.paramLabel())).append("\\fR");
                }
                t.append('\n');
                appendDescription(t, o);
            }
        }

        List<CommandSpec> subs = children(spec);
        if (!subs.isEmpty()) {
            t.append(".SH COMMANDS\n");
            for (CommandSpec s : subs) {
                t.append(".TP\n\\fB").append(escape(s.name())).append("\\fR\n").append(escape(summary(s))).append(".\n");
            }
        }

        String[] footer = spec.usageMessage().footer();
        if (footer.length > 0) {
            String heading = spec.usageMessage().footerHeading().replace("%n", "").strip();
            heading = heading.endsWith(":") ? heading.substring(0, heading.length() - 1) : heading;
            t.append(".SH ").append(escape(heading.isEmpty() ? "NOTES" : heading.toUpperCase(Locale.ROOT))).append('\n');
            t.append(".nf\n");
            for (String line : footer) {
                t.append(escape(format(line))).append('\n');
            }
            t.append(".fi\n");
        }

        List<String> seeAlso = new ArrayList<>();
        if (spec.parent() != null) {
            seeAlso.add(pageName(spec.parent()));
        }
        subs.forEach(s -> seeAlso.add(pageName(s)));
        if (!seeAlso.isEmpty()) {
            t.append(".SH SEE ALSO\n");
            List<String> refs = seeAlso.stream().map(s -> "\\fB" + escape(s) + "\\fR(1)").toList();
            t.append(String.join(",\n", refs)).append('\n');
        }
        return t.toString();
    }

    /** The first sentence of the description, up to a semicolon: the NAME line (whatis) of the page. */
    static String summary(CommandSpec spec) {
        List<String> header = paragraphs(spec.usageMessage().header());
        List<String> p = header.isEmpty() ? paragraphs(spec.usageMessage().description()) : header;
        if (p.isEmpty()) {
            return "the " + spec.qualifiedName() + " command";
        }
        String first = p.get(0);
        int dot = first.indexOf(". ");
        String s = dot > 0 ? first.substring(0, dot) : first;
        int semicolon = semicolonOutsideParentheses(s);
        s = semicolon > 0 ? s.substring(0, semicolon) : s;
        s = s.endsWith(".") ? s.substring(0, s.length() - 1) : s;
        return s.isEmpty() ? s : Character.toLowerCase(s.charAt(0)) + s.substring(1);
    }

    private static int semicolonOutsideParentheses(String s) {
        int depth = 0;
        for (int i = 0; i + 1 < s.length(); i++) {
            char c = s.charAt(i);
            depth += c == '(' ? 1 : c == ')' ? -1 : 0;
            if (c == ';' && depth == 0 && s.charAt(i + 1) == ' ') {
                return i;
            }
        }
        return -1;
    }

    private void appendDescription(StringBuilder t, ArgSpec a) {
        List<String> p = paragraphs(a.renderedDescription());
        if (p.isEmpty()) {
            return;
        }
        t.append(escape(p.get(0))).append('\n');
        for (String more : p.subList(1, p.size())) {
            t.append(".br\n").append(escape(more)).append('\n');
        }
    }

    private static void appendParagraphs(StringBuilder t, List<String> paragraphs) {
        for (int i = 0; i < paragraphs.size(); i++) {
            if (i > 0) {
                t.append(".PP\n");
            }
            t.append(escape(paragraphs.get(i))).append('\n');
        }
    }

    /**
     * Description lines as paragraphs: the source's lines are one flowing text (picocli prints each on its own
     * line, wrapped at the terminal); "%n" and empty lines end a paragraph.
     */
    static List<String> paragraphs(String[] lines) {
        List<String> out = new ArrayList<>();
        StringBuilder cur = new StringBuilder();
        for (String line : lines) {
            String[] parts = line.split("%n", -1);
            if (line.isBlank()) {
                flush(cur, out);
            }
            for (int i = 0; i < parts.length; i++) {
                if (i > 0) {
                    flush(cur, out);
                }
                String text = parts[i].replace("%%", "%").strip();
                if (!text.isEmpty()) {
                    cur.append(cur.length() > 0 ? " " : "").append(text);
                }
            }
        }
        flush(cur, out);
        return out;
    }

    private static void flush(StringBuilder cur, List<String> out) {
        if (cur.length() > 0) {
            out.add(cur.toString());
            cur.setLength(0);
        }
    }

    private static String format(String line) {
        return line.replace("%n", "").replace("%%", "%");
    }

    /** Text that troff prints as it is: backslashes and hyphen-minus escaped, no control line started. */
    static String escape(String s) {
        String e = s.replace("\\", "\\e").replace("-", "\\-");
        return e.startsWith(".") || e.startsWith("'") ? "\\&" + e : e;
    }
}
