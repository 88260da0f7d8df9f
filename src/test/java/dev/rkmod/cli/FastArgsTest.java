package dev.rkmod.cli;

import dev.rkmod.infra.host.Host;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Model.PositionalParamSpec;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.lang.reflect.Field;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

/**
 * The picocli-free parser binds every command line it accepts exactly as picocli binds it, for every command: sample
 * command lines are made from picocli's own model of each command (every option alone, then all of them together)
 * and bound both ways; the fields must be equal. What it declines goes to picocli, whose messages stay the only ones.
 */
class FastArgsTest {
    @TempDir
    Path fs;

    private Host host;

    @BeforeEach
    void setUp() {
        Map<String, String> env = new HashMap<>(System.getenv());
        env.put("XDG_CACHE_HOME", fs.resolve("cache").toString());
        host = new Host(fs, 0, env);
    }

    private Session session() {
        return new Session(new PrintWriter(new StringWriter()), new PrintWriter(new StringWriter()), host, false);
    }

    @Test
    void everyCommandLineItBindsIsBoundAsPicocliBindsIt() throws Exception {
        Map<String, Integer> bound = new LinkedHashMap<>();
        for (String name : RkmodCommand.SUBCOMMANDS.keySet()) {
            if (name.equals("help")) {
                continue;
            }
            Class<?> cls = RkmodCommand.subcommand(name);
            CommandSpec spec = new CommandLine(Cli.create(session(), cls), factory()).getCommandSpec();
            int n = 0;
            for (List<String> argv : samples(spec)) {
                List<String> full = new ArrayList<>(List.of(name));
                full.addAll(argv);
                Object fast = FastArgs.bind(session(), full.toArray(String[]::new));
                if (fast == null) {
                    continue;
                }
                Object picked = Cli.create(session(), cls);
                CommandLine cl = new CommandLine(picked, factory());
                cl.setCaseInsensitiveEnumValuesAllowed(true);
                try {
                    cl.parseArgs(argv.toArray(String[]::new));
                } catch (CommandLine.ParameterException e) {
                    fail(name + " " + argv + ": bound without picocli, but picocli rejects it: " + e.getMessage());
                }
                assertThat(fields(fast)).as(name + " " + argv).isEqualTo(fields(picked));
                n++;
            }
            bound.put(name, n);
        }
        // the commands whose start-up the benchmarks measure must take the short path, with all their options
        assertThat(bound.get("build")).isGreaterThanOrEqualTo(8);
        assertThat(bound.get("vmtest")).isGreaterThanOrEqualTo(10);
        assertThat(bound.get("doctor")).isGreaterThanOrEqualTo(5);
        assertThat(bound.get("sign")).isPositive();
        // commands with subcommands or a @Spec are always picocli's
        assertThat(bound.get("kernel")).isZero();
        assertThat(bound.get("install")).isZero();
    }

    @Test
    void whatItDoesNotBindGoesToPicocli() {
        for (String[] argv : new String[][] {
            {"build", "--help"}, {"build", "-h"}, {"build", "--version"}, {"build", "-qv"}, {"build", "--kdir"},
            {"build", "--bogus"}, {"build", "@args"}, {"build", "-j4"}, {"build", "-j", "four"}, {"build", "-j", "-1"},
            {"build", "--kdir", "a", "--kdir", "b"}, {"build", "a", "b"}, {"build", ""}, {"build", "--json=yes"},
            {"vmtest"}, {"vmtest", "m.ko", "--kvm", "maybe"}, {"vmtest", "m.ko", "--hold", "1e3"},
            {"kernel", "build"}, {"help", "build"}, {"nope"}, {}}) {
            assertThat(FastArgs.bind(session(), argv)).as(String.join(" ", argv)).isNull();
        }
    }

    @Test
    void itsFailuresAreTheSameParagraphAndExitCodeAsPicocliPaths() throws Exception {
        Path notModule = Files.createDirectories(fs.resolve("empty"));
        CliRun fast = CliRun.run(host, "build", notModule.toString(), "--kdir", fs.toString());
        CliRun slow = CliRun.run(host, "build", notModule.toString(), "--kdir=" + fs, "--debug"); // --kdir=: still fast
        CliRun picocli = CliRun.run(host, "build", "-j", "2", notModule.toString(), "--kdir", fs.toString(), "--");
        assertThat(fast.exit()).isEqualTo(2);
        assertThat(fast.err()).startsWith("rkmod: error: " + notModule + " is not a module project").doesNotContain("Exception");
        assertThat(picocli.exit()).isEqualTo(fast.exit());
        assertThat(picocli.err()).isEqualTo(fast.err());
        assertThat(slow.err()).startsWith(fast.err().strip()).contains("at dev.rkmod.workflow.build.BuildWorkflow");

        CliRun json = CliRun.run(host, "build", notModule.toString(), "--kdir", fs.toString(), "--json");
        assertThat(json.exit()).isEqualTo(2);
        assertThat(json.out()).contains("\"exitCode\": 2").contains("is not a module project");
        assertThat(json.err()).isEmpty();

        CliRun bad = CliRun.run(host, "vmtest", "m.ko", "--kvm", "maybe");
        assertThat(bad.exit()).isEqualTo(2);
        assertThat(bad.err()).contains("Invalid value for option '--kvm'");
    }

    private CommandLine.IFactory factory() {
        return Cli.factory(session());
    }

    /** Each option alone (with the required positionals), then everything together, from picocli's model. */
    private static List<List<String>> samples(CommandSpec spec) {
        List<String> positionals = new ArrayList<>();
        for (PositionalParamSpec p : spec.positionalParameters()) {
            positionals.addAll(values(p, "p" + p.index().min()));
        }
        List<List<String>> out = new ArrayList<>();
        out.add(positionals);
        if (!positionals.isEmpty()) {
            out.add(positionals.subList(0, 1));
        }
        List<String> all = new ArrayList<>(positionals);
        for (OptionSpec o : spec.options()) {
            if (o.usageHelp() || o.versionHelp()) {
                continue;
            }
            List<String> one = new ArrayList<>();
            for (String v : values(o, "v")) {
                one.add(o.longestName());
                if (!v.isEmpty()) {
                    one.add(v);
                }
            }
            List<String> alone = new ArrayList<>(one);
            alone.addAll(positionals);
            out.add(alone);
            if (o.names().length > 1) {
                List<String> shortName = new ArrayList<>(alone);
                shortName.replaceAll(s -> s.equals(o.longestName()) ? o.shortestName() : s);
                out.add(shortName);
            }
            all.addAll(0, one);
        }
        out.add(all);
        List<String> ended = new ArrayList<>(all);
        ended.removeAll(positionals);
        ended.add("--");
        ended.addAll(positionals);
        out.add(ended);
        return out;
    }

    /** Sample values of an option or parameter: "" for a flag, two for a list, an enum's constant in lower case. */
    private static List<String> values(ArgSpec a, String base) {
        Class<?> t = a.type();
        if (t == boolean.class || t == Boolean.class) {
            return List.of("");
        }
        if (List.class.isAssignableFrom(t)) {
            return List.of(base + "1.ko", base + "2.ko:count=3");
        }
        if (t == int.class || t == Integer.class || t == long.class || t == Long.class) {
            return List.of("3");
        }
        if (t == double.class || t == Double.class) {
            return List.of("2.5");
        }
        if (t.isEnum()) {
            return List.of(((Enum<?>) t.getEnumConstants()[t.getEnumConstants().length - 1]).name().toLowerCase(java.util.Locale.ROOT));
        }
        return List.of(base + "-value");
    }

    /** Every picocli-annotated field of a command and of its mixins, by name. */
    private static Map<String, Object> fields(Object command) throws IllegalAccessException {
        Map<String, Object> out = new LinkedHashMap<>();
        for (Field f : command.getClass().getDeclaredFields()) {
            f.setAccessible(true);
            if (f.isAnnotationPresent(CommandLine.Mixin.class)) {
                fields(f.get(command)).forEach((k, v) -> out.put(f.getName() + "." + k, v));
            } else if (f.isAnnotationPresent(CommandLine.Option.class) || f.isAnnotationPresent(CommandLine.Parameters.class)) {
                out.put(f.getName(), Objects.toString(f.get(command)));
            }
        }
        return out;
    }
}
