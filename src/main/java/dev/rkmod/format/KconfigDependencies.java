package dev.rkmod.format;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * The {@code depends on} lines of one symbol in a Kconfig file, and a small evaluator of Kconfig
 * expressions (tristate logic: y=2, m=1, n=0; comparisons of numbers and strings) over a
 * {@link KernelConfig}. rkmod uses it to name exactly which options block {@code CONFIG_RUST} in a
 * given kernel source, instead of a hard-coded list.
 */
public final class KconfigDependencies {

    /** One {@code depends on} expression. */
    public record Clause(String expression) {
        /** Symbols the expression mentions. */
        public Set<String> symbols() {
            Set<String> out = new LinkedHashSet<>();
            for (Token t : tokenize(expression)) {
                if (t.kind == Kind.SYMBOL && !List.of("y", "m", "n").contains(t.text)
                        && !t.text.chars().allMatch(Character::isDigit)) {
                    out.add(t.text);
                }
            }
            return out;
        }

        /** True when the expression is {@code !SYM} or {@code !SYM || ...}: turning SYM off satisfies it. */
        public Optional<String> negatedHead() {
            List<Token> ts = tokenize(expression);
            if (ts.size() >= 2 && ts.get(0).kind == Kind.NOT && ts.get(1).kind == Kind.SYMBOL
                    && (ts.size() == 2 || ts.get(2).kind == Kind.OR)) {
                return Optional.of(ts.get(1).text);
            }
            return Optional.empty();
        }

        public int evaluate(KernelConfig config) {
            return new Parser(tokenize(expression), config).parse();
        }
    }

    private final String symbol;
    private final List<Clause> clauses;

    private KconfigDependencies(String symbol, List<Clause> clauses) {
        this.symbol = symbol;
        this.clauses = List.copyOf(clauses);
    }

    public String symbol() {
        return symbol;
    }

    public List<Clause> clauses() {
        return clauses;
    }

    /** Reads the dependencies of {@code config SYMBOL} in a Kconfig file. */
    public static Optional<KconfigDependencies> read(Path kconfig, String symbol) throws IOException {
        return parse(new String(Files.readAllBytes(kconfig), StandardCharsets.UTF_8), symbol);
    }

    public static Optional<KconfigDependencies> parse(String text, String symbol) {
        String[] lines = text.replace("\\\n", " ").split("\n");
        for (int i = 0; i < lines.length; i++) {
            String l = lines[i].strip();
            if (!(l.equals("config " + symbol) || l.equals("menuconfig " + symbol))) {
                continue;
            }
            List<Clause> clauses = new ArrayList<>();
            for (int j = i + 1; j < lines.length; j++) {
                String raw = lines[j];
                if (!raw.isEmpty() && !Character.isWhitespace(raw.charAt(0))) {
                    break;
                }
                String s = raw.strip();
                if (s.startsWith("help") || s.startsWith("---help---")) {
                    break;
                }
                if (s.startsWith("depends on ")) {
                    String expr = s.substring("depends on ".length());
                    int hash = expr.indexOf('#');
                    if (hash >= 0) {
                        expr = expr.substring(0, hash);
                    }
                    clauses.add(new Clause(expr.strip()));
                }
            }
            return Optional.of(new KconfigDependencies(symbol, clauses));
        }
        return Optional.empty();
    }

    /** The clauses that evaluate to n under {@code config}. */
    public List<Clause> unmet(KernelConfig config) {
        return clauses.stream().filter(c -> c.evaluate(config) == 0).toList();
    }

    // --- expression evaluation ---------------------------------------------------------------

    private enum Kind { SYMBOL, STRING, NOT, AND, OR, LPAREN, RPAREN, CMP }

    private record Token(Kind kind, String text) { }

    private static List<Token> tokenize(String s) {
        List<Token> out = new ArrayList<>();
        int i = 0;
        while (i < s.length()) {
            char c = s.charAt(i);
            if (Character.isWhitespace(c)) {
                i++;
            } else if (s.startsWith("&&", i)) {
                out.add(new Token(Kind.AND, "&&"));
                i += 2;
            } else if (s.startsWith("||", i)) {
                out.add(new Token(Kind.OR, "||"));
                i += 2;
            } else if (s.startsWith("!=", i) || s.startsWith("<=", i) || s.startsWith(">=", i)) {
                out.add(new Token(Kind.CMP, s.substring(i, i + 2)));
                i += 2;
            } else if (c == '=' || c == '<' || c == '>') {
                out.add(new Token(Kind.CMP, String.valueOf(c)));
                i++;
            } else if (c == '!') {
                out.add(new Token(Kind.NOT, "!"));
                i++;
            } else if (c == '(') {
                out.add(new Token(Kind.LPAREN, "("));
                i++;
            } else if (c == ')') {
                out.add(new Token(Kind.RPAREN, ")"));
                i++;
            } else if (c == '"' || c == '\'') {
                int end = s.indexOf(c, i + 1);
                if (end < 0) {
                    end = s.length();
                }
                out.add(new Token(Kind.STRING, s.substring(i + 1, end)));
                i = end + 1;
            } else {
                int start = i;
                while (i < s.length() && (Character.isLetterOrDigit(s.charAt(i)) || s.charAt(i) == '_')) {
                    i++;
                }
                if (i == start) {
                    i++; // skip an unknown character rather than loop
                    continue;
                }
                out.add(new Token(Kind.SYMBOL, s.substring(start, i)));
            }
        }
        return out;
    }

    private static final class Parser {
        private final List<Token> tokens;
        /** Real Kconfig expressions nest a few levels; deeper ones would overflow the stack. */
        private static final int MAX_DEPTH = 256;
        private final KernelConfig config;
        private int pos;
        private int depth;

        Parser(List<Token> tokens, KernelConfig config) {
            this.tokens = tokens;
            this.config = config;
        }

        int parse() {
            if (tokens.isEmpty()) {
                return 2;
            }
            int v = or();
            return v;
        }

        private Token peek() {
            return pos < tokens.size() ? tokens.get(pos) : null;
        }

        private int or() {
            int v = and();
            while (peek() != null && peek().kind == Kind.OR) {
                pos++;
                v = Math.max(v, and());
            }
            return v;
        }

        private int and() {
            int v = unary();
            while (peek() != null && peek().kind == Kind.AND) {
                pos++;
                v = Math.min(v, unary());
            }
            return v;
        }

        private int unary() {
            Token t = peek();
            if (t == null) {
                return 0;
            }
            if (t.kind == Kind.NOT || t.kind == Kind.LPAREN) {
                if (++depth > MAX_DEPTH) {
                    throw new FormatException(FormatException.Reason.UNSUPPORTED,
                            "A Kconfig 'depends on' expression is nested too deeply",
                            "It nests more than " + MAX_DEPTH + " parentheses or '!' operators; real Kconfig files nest a few",
                            "Check the Kconfig file of the kernel source: it is damaged");
                }
                try {
                    pos++;
                    if (t.kind == Kind.NOT) {
                        return 2 - unary();
                    }
                    int v = or();
                    if (peek() != null && peek().kind == Kind.RPAREN) {
                        pos++;
                    }
                    return v;
                } finally {
                    depth--;
                }
            }
            pos++;
            String left = value(t);
            if (peek() != null && peek().kind == Kind.CMP) {
                String op = tokens.get(pos++).text;
                Token r = peek();
                if (r == null) {
                    return 0;
                }
                pos++;
                return compare(left, op, value(r)) ? 2 : 0;
            }
            return tristate(left);
        }

        private String value(Token t) {
            if (t.kind == Kind.STRING) {
                return t.text;
            }
            if (t.kind != Kind.SYMBOL) {
                return "n";
            }
            if (List.of("y", "m", "n").contains(t.text)) {
                return t.text;
            }
            if (t.text.chars().allMatch(Character::isDigit)) {
                return t.text;
            }
            String raw = config.value(t.text);
            if (raw.length() >= 2 && raw.startsWith("\"") && raw.endsWith("\"")) {
                return raw.substring(1, raw.length() - 1);
            }
            return raw;
        }

        private static int tristate(String v) {
            return switch (v) {
                case "y" -> 2;
                case "m" -> 1;
                default -> 0;
            };
        }

        private static boolean compare(String a, String op, String b) {
            int cmp;
            Long na = number(a);
            Long nb = number(b);
            if (na != null && nb != null) {
                cmp = Long.compare(na, nb);
            } else if (List.of("y", "m", "n").contains(a) && List.of("y", "m", "n").contains(b)) {
                cmp = Integer.compare(tristate(a), tristate(b));
            } else {
                cmp = a.compareTo(b);
            }
            return switch (op) {
                case "=" -> cmp == 0;
                case "!=" -> cmp != 0;
                case "<" -> cmp < 0;
                case ">" -> cmp > 0;
                case "<=" -> cmp <= 0;
                case ">=" -> cmp >= 0;
                default -> false;
            };
        }

        private static Long number(String s) {
            try {
                if (s.startsWith("0x") || s.startsWith("0X")) {
                    return Long.parseLong(s.substring(2), 16);
                }
                return Long.parseLong(s);
            } catch (NumberFormatException e) {
                return null;
            }
        }
    }
}
