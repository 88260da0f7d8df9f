package dev.rkmod.workflow.dkms;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What rkmod-dkms-build (the build step 'rkmod dkms init' ships beside dkms.conf) decides at DKMS build time,
 * decided the same way in Java: the same files, in the same order, the same rustc candidates. A unit test runs
 * the script's "decide" mode on the same trees and compares, so the two cannot drift apart.
 *
 * @param outcome  what the build step will do
 * @param release  the kernel release (include/config/kernel.release, else DKMS's KERNELRELEASE)
 * @param wanted   the rustc --version text the kernel was built with, or null
 * @param source   the file it was read from, or null
 * @param rustc    the matching rustc, or null
 * @param missing  the Rust metadata files the tree lacks
 * @param looked   each rustc candidate that runs, with what it printed
 */
public record DkmsDecision(Outcome outcome, String release, String wanted, String source, String rustc,
                           List<String> missing, List<String> looked) {

    /** The build step's outcomes; only OK builds. The ids are what the script prints as decision=. */
    public enum Outcome {
        OK("ok"), NO_KDIR("no-kdir"), RUST_OFF("rust-off"), MISSING_RUST_METADATA("missing-rust-metadata"),
        UNKNOWN_RUSTC("unknown-rustc"), NO_RUSTC("no-rustc");

        private final String id;

        Outcome(String id) {
            this.id = id;
        }

        public String id() {
            return id;
        }
    }

    /** The Rust metadata an M= build reads; the target spec counts as present in rust/ or scripts/. */
    static final List<String> METADATA = List.of("rust/libcore.rmeta", "rust/libkernel.rmeta", "rust/libmacros.so");
    private static final Pattern JSON_RUSTC = Pattern.compile("\"rustc\"\\s*:\\s*\"([^\"]*)\"");
    private static final Pattern CONFIG_TEXT = Pattern.compile("^CONFIG_RUSTC_VERSION_TEXT=\"(.*)\"$");
    private static final Pattern RMETA_TEXT = Pattern.compile("(rustc [0-9].*)$");

    /**
     * Decides for {@code kdir}. {@code env} holds the variables the build step sees (PATH, HOME, RUSTUP_HOME,
     * KERNELRELEASE); {@code version} runs a candidate's --version and returns its first line, or null.
     */
    public static DkmsDecision decide(Path kdir, Map<String, String> env, Function<Path, String> version) {
        String release = release(kdir, env);
        if (!Files.isRegularFile(kdir.resolve(".config")) && !Files.isRegularFile(kdir.resolve("include/config/auto.conf"))) {
            return new DkmsDecision(Outcome.NO_KDIR, release, null, null, null, List.of(), List.of());
        }
        if (!rustEnabled(kdir)) {
            return new DkmsDecision(Outcome.RUST_OFF, release, null, null, null, List.of(), List.of());
        }
        List<String> missing = new ArrayList<>();
        for (String f : METADATA) {
            if (!Files.isRegularFile(kdir.resolve(f))) {
                missing.add(f);
            }
        }
        if (!Files.isRegularFile(kdir.resolve("rust/target.json")) && !Files.isRegularFile(kdir.resolve("scripts/target.json"))) {
            missing.add("target.json");
        }
        Optional<String[]> wanted = wanted(kdir);
        String w = wanted.map(x -> x[0]).orElse(null);
        String src = wanted.map(x -> x[1]).orElse(null);
        if (!missing.isEmpty()) {
            return new DkmsDecision(Outcome.MISSING_RUST_METADATA, release, w, src, null, List.copyOf(missing), List.of());
        }
        if (w == null) {
            return new DkmsDecision(Outcome.UNKNOWN_RUSTC, release, null, null, null, List.of(), List.of());
        }
        List<String> looked = new ArrayList<>();
        for (Path c : candidates(env)) {
            if (!Files.isRegularFile(c) || !Files.isExecutable(c)) {
                continue;
            }
            String v = version.apply(c);
            looked.add(c + ": " + (v == null || v.isEmpty() ? "does not run" : v));
            if (w.equals(v)) {
                return new DkmsDecision(Outcome.OK, release, w, src, c.toString(), List.of(), List.copyOf(looked));
            }
        }
        return new DkmsDecision(Outcome.NO_RUSTC, release, w, src, null, List.of(), List.copyOf(looked));
    }

    public boolean ok() {
        return outcome == Outcome.OK;
    }

    private static String release(Path kdir, Map<String, String> env) {
        try {
            List<String> lines = Files.readAllLines(kdir.resolve("include/config/kernel.release"));
            if (!lines.isEmpty() && !lines.get(0).isEmpty()) {
                return lines.get(0);
            }
        } catch (IOException ignored) {
            // no release file
        }
        String r = env.get("KERNELRELEASE");
        return r == null || r.isEmpty() ? "unknown" : r;
    }

    private static boolean rustEnabled(Path kdir) {
        for (String c : List.of(".config", "include/config/auto.conf")) {
            if (lines(kdir.resolve(c)).stream().anyMatch(l -> l.startsWith("CONFIG_RUST=y"))) {
                return true;
            }
        }
        return false;
    }

    /** The version text and the file it came from, in the build step's order. */
    static Optional<String[]> wanted(Path kdir) {
        Path toolchain = kdir.resolve("rust-toolchain");
        List<String> tl = lines(toolchain);
        if (!tl.isEmpty() && tl.get(0).startsWith("# rustc ")) {
            return Optional.of(new String[] {tl.get(0).substring(2), toolchain.toString()});
        }
        for (String m : List.of("rkmod-package.json", "rkmod-headers.json")) {
            Path f = kdir.resolve(m);
            for (String l : lines(f)) {
                Matcher x = JSON_RUSTC.matcher(l);
                // like sed's greedy '.*"rustc"': the last occurrence on the line
                String found = null;
                while (x.find()) {
                    found = x.group(1);
                }
                if (found != null && !found.isEmpty()) {
                    return Optional.of(new String[] {found, f.toString()});
                }
            }
        }
        for (String c : List.of(".config", "include/config/auto.conf")) {
            Path f = kdir.resolve(c);
            for (String l : lines(f)) {
                Matcher x = CONFIG_TEXT.matcher(l);
                if (x.matches() && !x.group(1).isEmpty()) {
                    return Optional.of(new String[] {x.group(1), f.toString()});
                }
            }
        }
        Path core = kdir.resolve("rust/libcore.rmeta");
        if (Files.isRegularFile(core)) {
            byte[] head;
            try (InputStream in = Files.newInputStream(core)) {
                head = in.readNBytes(512);
            } catch (IOException e) {
                return Optional.empty();
            }
            // like tr -c '[:print:]' '\n': printable ASCII runs, then the first that holds "rustc <digit>"
            StringBuilder run = new StringBuilder();
            for (int i = 0; i <= head.length; i++) {
                int b = i < head.length ? head[i] & 0xFF : '\n';
                if (b >= 0x20 && b < 0x7F) {
                    run.append((char) b);
                    continue;
                }
                Matcher x = RMETA_TEXT.matcher(run);
                String found = null;
                int from = 0;
                while (x.find(from)) {
                    found = x.group(1);
                    from = x.start() + 1;
                }
                if (found != null) {
                    return Optional.of(new String[] {found, core.toString()});
                }
                run.setLength(0);
            }
        }
        return Optional.empty();
    }

    /** The rustc candidates, in the build step's order, each path once. */
    static List<Path> candidates(Map<String, String> env) {
        LinkedHashSet<String> out = new LinkedHashSet<>();
        String path = env.getOrDefault("PATH", "");
        for (String d : path.split(":", -1)) {
            if (!d.isEmpty()) {
                out.add(d + "/rustc");
            }
        }
        out.add("/usr/bin/rustc");
        glob(out, Path.of("/usr/bin"), "rustc-", "");
        String home = env.getOrDefault("HOME", "/root");
        String rustupHome = env.getOrDefault("RUSTUP_HOME", (home.isEmpty() ? "/root" : home) + "/.rustup");
        glob(out, Path.of(rustupHome, "toolchains"), "", "/bin/rustc");
        glob(out, Path.of("/root/.rustup/toolchains"), "", "/bin/rustc");
        glob(out, Path.of("/usr/lib"), "rust-", "/bin/rustc");
        return out.stream().map(Path::of).toList();
    }

    /** dir/prefix*suffix, sorted byte-wise as sh's glob in the C locale; "rustc-" needs a digit next, as rustc-[0-9]*. */
    private static void glob(LinkedHashSet<String> out, Path dir, String prefix, String suffix) {
        if (!Files.isDirectory(dir)) {
            return;
        }
        List<String> names = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
            for (Path p : ds) {
                String n = p.getFileName().toString();
                if (n.startsWith(".") || !n.startsWith(prefix)) {
                    continue;
                }
                if (prefix.equals("rustc-") && (n.length() == prefix.length() || !Character.isDigit(n.charAt(prefix.length())))) {
                    continue;
                }
                names.add(n);
            }
        } catch (IOException ignored) {
            return;
        }
        names.sort(null);
        for (String n : names) {
            out.add(dir.resolve(n) + suffix);
        }
    }

    private static List<String> lines(Path f) {
        if (!Files.isRegularFile(f)) {
            return List.of();
        }
        try {
            return List.of(new String(Files.readAllBytes(f), StandardCharsets.ISO_8859_1).split("\n"));
        } catch (IOException e) {
            return List.of();
        }
    }
}
