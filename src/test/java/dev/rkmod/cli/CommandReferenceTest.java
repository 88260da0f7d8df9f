package dev.rkmod.cli;

import dev.rkmod.infra.host.Host;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine.Model.CommandSpec;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.fail;

/**
 * docs/commands.md is what {@link CommandReference} writes from rkmod's command model and docs/commands/*.md, and
 * holds every command's {@code --help} as rkmod itself prints it. {@code -Drkmod.docs.update=true} rewrites the file
 * instead of failing ({@link CommandReference#REGENERATE}).
 */
class CommandReferenceTest {
    private static final Path COMMITTED = Path.of(CommandReference.FILE);
    private static final Path FRAGMENTS = Path.of(CommandReference.FRAGMENTS);

    @TempDir
    Path tmp;

    private static CommandReference reference() throws Exception {
        return CommandReference.of(SelfDeb.commandLine().getCommandSpec(), FRAGMENTS);
    }

    /** The committed file; with -Drkmod.docs.update=true first written anew (once per run). */
    private static synchronized String committed() throws Exception {
        if (Boolean.getBoolean("rkmod.docs.update") && !updated) {
            CommandReference.write(COMMITTED, reference().text());
            updated = true;
            System.out.println("[rkmod] wrote " + COMMITTED.toAbsolutePath());
        }
        assertThat(COMMITTED).as(COMMITTED + " is committed; write it with: " + CommandReference.REGENERATE).isRegularFile();
        return Files.readString(COMMITTED, StandardCharsets.UTF_8);
    }

    private static boolean updated;

    @Test
    void theCommittedReferenceIsWhatTheGeneratorWrites() throws Exception {
        CommandReference ref = reference();
        String expected = ref.text();
        String actual = committed();
        if (actual.equals(expected)) {
            return;
        }
        List<String> differ = new ArrayList<>();
        if (!actual.startsWith(ref.preamble())) {
            differ.add("the header and table of contents");
        }
        ref.sections().forEach((page, section) -> {
            if (!actual.contains(section)) {
                differ.add(page.replace('-', ' ') + " (" + (ref.fragmentPages().contains(page)
                        ? "its --help or " + CommandReference.FRAGMENTS + "/" + page + ".md" : "its --help") + ")");
            }
        });
        if (differ.isEmpty()) {
            differ.add("text outside the commands' sections");
        }
        fail(COMMITTED + " is not what CommandReference writes from rkmod's command model and "
                + CommandReference.FRAGMENTS + "/*.md. It differs in: " + String.join(", ", differ) + ". "
                + firstDifference(expected, actual) + " Edit " + CommandReference.FRAGMENTS
                + "/<page>.md or the command, never the generated file, and regenerate it with: " + CommandReference.REGENERATE);
    }

    /** The help rkmod prints, run in-process as a user runs it, is in the reference word for word. */
    @Test
    void everyCommandsHelpAsRkmodPrintsItIsInTheReference() throws Exception {
        String committed = committed();
        Map<String, CommandSpec> commands = ManPageWriter.commands(SelfDeb.commandLine().getCommandSpec());
        assertThat(commands).containsKeys("rkmod", "rkmod-deps", "rkmod-kernel-build", "rkmod-headers-complete",
                "rkmod-dkms-check", "rkmod-cache-clear");
        Host host = new Host(tmp, 1000, Map.of("XDG_CACHE_HOME", tmp.resolve("cache").toString()));
        List<String> missing = new ArrayList<>();
        for (CommandSpec spec : commands.values()) {
            List<String> args = new ArrayList<>(Arrays.asList(spec.qualifiedName().split(" ")));
            args.remove(0);
            args.add("--help");
            String command = "rkmod " + String.join(" ", args);
            CliRun r = CliRun.run(host, args.toArray(String[]::new));
            assertThat(r.exit()).as(command + ": " + r.err()).isZero();
            assertThat(r.err()).as(command).isEmpty();
            if (!committed.contains("```text\n" + r.out() + "```\n")) {
                missing.add("'" + command + "'");
            }
        }
        if (!missing.isEmpty()) {
            fail("The help that rkmod prints is not in " + COMMITTED + " word for word for " + String.join(", ", missing)
                    + ". Regenerate it with: " + CommandReference.REGENERATE);
        }
    }

    @Test
    void everyCommandHasASectionAtItsAnchorAndEveryFragmentIsUsed() throws Exception {
        CommandReference ref = reference();
        String text = ref.text();
        for (String page : ref.pages()) {
            assertThat(CommandReference.anchor(page)).isEqualTo(page);
            assertThat(text).contains("(#" + page + ")").containsPattern("(?m)^#{2,3} " + page.replace('-', ' ') + "$");
        }
        try (var files = Files.list(FRAGMENTS)) {
            List<String> fragments = files.map(f -> f.getFileName().toString().replaceFirst("\\.md$", "")).sorted().toList();
            assertThat(fragments).isNotEmpty().isSubsetOf(ref.pages());
            assertThat(ref.fragmentPages()).containsExactlyInAnyOrderElementsOf(fragments);
        }
        assertThat(reference().text()).as("deterministic").isEqualTo(text);
        assertThat(text).doesNotContain("\r").doesNotContain("\u001b[");
    }

    @Test
    void aFragmentOfNoCommandFailsTheGeneration() throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("commands"));
        Files.writeString(dir.resolve("rkmod-deps.md"), "Some prose.\n");
        Files.writeString(dir.resolve("rkmod-kernel-biuld.md"), "A typo in the name.\n");
        CommandSpec root = SelfDeb.commandLine().getCommandSpec();
        assertThatThrownBy(() -> CommandReference.of(root, dir)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("rkmod-kernel-biuld.md belongs to no command")
                .hasMessageContaining("rkmod-kernel-build");
        Files.delete(dir.resolve("rkmod-kernel-biuld.md"));
        Files.writeString(dir.resolve("notes.txt"), "not a fragment\n");
        assertThatThrownBy(() -> CommandReference.of(root, dir)).hasMessageContaining("notes.txt is not a fragment");
        Files.delete(dir.resolve("notes.txt"));
        assertThat(CommandReference.of(root, dir).text()).contains("## rkmod deps\n").contains("```\n\nSome prose.\n");
    }

    @Test
    void aFragmentsHeadingsStayBelowItsCommand() throws Exception {
        CommandSpec root = SelfDeb.commandLine().getCommandSpec();
        Map<String, String> files = new TreeMap<>();
        files.put("rkmod-headers-complete.md", "### Too high\n\n```console\n# a root prompt is no heading\n```\n\n#### Fine\n");
        assertThatThrownBy(() -> CommandReference.of(ManPageWriter.commands(root), files, "docs/commands"))
                .hasMessageContaining("docs/commands/rkmod-headers-complete.md: the heading '### Too high' is not below")
                .hasMessageNotContaining("a root prompt").hasMessageNotContaining("Fine");
        files.put("rkmod-headers-complete.md", "#### rkmod deps\n");
        assertThatThrownBy(() -> CommandReference.of(ManPageWriter.commands(root), files, "docs/commands"))
                .hasMessageContaining("would take the anchor of a command's section");
        files.put("rkmod-headers-complete.md", "```console\nunclosed\n");
        assertThatThrownBy(() -> CommandReference.of(ManPageWriter.commands(root), files, "docs/commands"))
                .hasMessageContaining("a code block is not closed");
    }

    @Test
    void theManPagesLeaveTheHelpWidthAsItWas() throws Exception {
        CommandSpec root = SelfDeb.commandLine().getCommandSpec();
        CommandSpec build = ManPageWriter.commands(root).get("rkmod-kernel-build");
        String before = CommandReference.help(build);
        new ManPageWriter("0.1.0", 0).page(build);
        assertThat(build.usageMessage().width()).isEqualTo(CommandReference.WIDTH);
        assertThat(CommandReference.help(build)).isEqualTo(before);
    }

    /** "First difference at line N: ..." of two texts. */
    private static String firstDifference(String expected, String actual) {
        String[] e = expected.split("\n", -1);
        String[] a = actual.split("\n", -1);
        for (int i = 0; i < Math.max(e.length, a.length); i++) {
            String el = i < e.length ? e[i] : "(end of file)";
            String al = i < a.length ? a[i] : "(end of file)";
            if (!el.equals(al)) {
                return "First difference at line " + (i + 1) + ": expected '" + el + "' but the file has '" + al + "'.";
            }
        }
        return "";
    }
}
