package dev.rkmod.cli;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.rkmod.infra.host.Host;
import dev.rkmod.workflow.matrix.MatrixFixtures;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** `rkmod matrix` in-process: the table, the live lines off a terminal, usage errors and --emit. */
class MatrixCommandTest {
    @TempDir
    Path fs;

    private Host host;
    private Path module;

    @BeforeEach
    void setUp() throws Exception {
        Map<String, String> env = new HashMap<>(System.getenv());
        env.put("XDG_CACHE_HOME", fs.resolve("cache").toString());
        host = new Host(fs, 0, env);
        module = Files.createDirectories(fs.resolve("repo/demo_mod"));
        Files.createDirectories(fs.resolve("repo/.git"));
        Files.writeString(module.resolve("Kbuild"), "obj-m := demo_mod.o\n");
    }

    @Test
    void theTableThenEachFailureExplainedThenTheCount() {
        assertThat(MatrixTable.render(MatrixFixtures.result(Path.of("/m")))).isEqualTo("""
                kernel      release             gen   rustc   build         load          first kernel log line
                6.1         6.1.192             6.1   1.63.0  ok     1.5 s  PASS   1.4 s  demo: Demo module (init)
                6.12        6.12.117            6.13  1.85.1  FAIL   1.2 s  -
                debian-sid  7.2.13+deb14-amd64  7.2   1.97.1  ok     1.6 s  FAIL   4.2 s  demo: about to oops
                /src/linux  -                   -     -       skipped       -

                6.12: build failed: module! is written for another kernel generation [api.module-macro-syntax]
                  seen:  = help: message: Expected string
                  cause: 6.1 wants byte strings (b"...") in module!, 6.2 and later want "..." strings; 6.15+ takes authors: [..] instead of author:, and the keys must appear in the documented order.
                  fix:   Write module! in the kernel's generation's syntax: 'rkmod new NAME --kdir KDIR' scaffolds it.
                  also:  The allocation API differs in this kernel generation [api.allocation]
                  seen:  error[E0599]: no method named `try_push` found
                  cause: 6.1 to 6.9 use Vec with try_push(x); 6.10 to 6.12 use push(x, GFP_KERNEL); 6.13 (and 6.12 stable with the allocator backport) use KVec.
                  fix:   Use the kernel's generation's allocation API: 'rkmod new NAME --kdir KDIR' scaffolds it.
                  build log:   /m/6.12/build.log

                debian-sid: load failed: The kernel oopsed, warned or panicked [load.crash]
                  seen:  BUG: kernel NULL pointer dereference, address: 0000000000000000
                  cause: Code running in the kernel, usually the module just loaded (a Rust panic, a null dereference, a failed assertion), hit a bug; the log names the function.
                  fix:   Read the console log from the first Oops, BUG or WARNING line on; a Rust panic names its source line.
                  also:  insmod demo exited with status 137
                  build log:   /m/debian-sid/build.log
                  console log: /m/console-sid.log
                1 of 4 kernels passed in 9.9 s (3 at a time)
                """);
    }

    @Test
    void offATerminalEachKernelPrintsItsStagesAndItsOutcome() {
        StringWriter sw = new StringWriter();
        MatrixRenderer r = new MatrixRenderer(new PrintWriter(sw), false, false, false, false, List.of("6.1", "debian-sid"));
        r.emit(dev.rkmod.infra.event.Event.info("matrix of demo"));
        r.emit(new dev.rkmod.infra.event.Event.Scoped("6.1", new dev.rkmod.infra.event.Event.StageStarted("row", "6.1")));
        r.emit(new dev.rkmod.infra.event.Event.Scoped("6.1", new dev.rkmod.infra.event.Event.StageStarted("make", "M=demo")));
        r.emit(new dev.rkmod.infra.event.Event.Scoped("6.1", new dev.rkmod.infra.event.Event.OutputLine("make", "RUSTC [M] demo.o")));
        r.emit(new dev.rkmod.infra.event.Event.Scoped("debian-sid", dev.rkmod.infra.event.Event.warn("manifest set aside")));
        r.emit(new dev.rkmod.infra.event.Event.Scoped("6.1", dev.rkmod.infra.event.Event.info("PASS  build 1.5 s, load 1.4 s")));
        r.emit(new dev.rkmod.infra.event.Event.Scoped("6.1", new dev.rkmod.infra.event.Event.StageFinished("row",
                java.time.Duration.ofSeconds(3), true)));
        assertThat(sw.toString()).isEqualTo("""
                matrix of demo
                [6.1] starting
                [6.1] make: M=demo
                warning: [debian-sid] manifest set aside
                [6.1] PASS  build 1.5 s, load 1.4 s
                """);
    }

    @Test
    void onATerminalTheKernelsLinesAreRedrawnInPlace() {
        StringWriter sw = new StringWriter();
        MatrixRenderer r = new MatrixRenderer(new PrintWriter(sw), true, false, false, false, List.of("6.1", "6.12"));
        r.emit(new dev.rkmod.infra.event.Event.Scoped("6.12", new dev.rkmod.infra.event.Event.StageStarted("make", "M=demo")));
        r.emit(new dev.rkmod.infra.event.Event.Scoped("6.1", new dev.rkmod.infra.event.Event.StageFinished("row",
                java.time.Duration.ofSeconds(3), true)));
        assertThat(sw.toString()).isEqualTo("\r\033[K6.1   waiting\n\r\033[K6.12  make: M=demo\n"
                + "\033[2A\r\033[K6.1   waiting\n\r\033[K6.12  make: M=demo\n");
    }

    @Test
    void usageErrorsExitTwoBeforeAnythingRuns() {
        assertThat(CliRun.run(host, "matrix", module.toString()).exit()).as("--kernel is required").isEqualTo(2);
        CliRun bad = CliRun.run(host, "matrix", module.toString(), "--kernel", "4.19");
        assertThat(bad.exit()).isEqualTo(2);
        assertThat(bad.err()).contains("--kernel '4.19' names no kernel");
        CliRun noOut = CliRun.run(host, "matrix", module.toString(), "--kernel", "6.1", "--emit", "gitlab");
        assertThat(noOut.exit()).isEqualTo(2);
        assertThat(noOut.err()).contains("--emit needs --out FILE");
        CliRun outOnly = CliRun.run(host, "matrix", module.toString(), "--kernel", "6.1", "--out", "x.yml");
        assertThat(outOnly.exit()).isEqualTo(2);
        assertThat(outOnly.err()).contains("--out names the file --emit writes");
        CliRun engine = CliRun.run(host, "matrix", module.toString(), "--kernel", "6.1", "--emit", "jenkins", "--out", "x");
        assertThat(engine.exit()).isEqualTo(2);
        assertThat(engine.err()).contains("Unknown CI engine 'jenkins'. Use gitlab or github.");
        CliRun notModule = CliRun.run(host, "matrix", fs.toString(), "--kernel", "6.1", "--json");
        assertThat(notModule.exit()).isEqualTo(2);
        assertThat(JsonParser.parseString(notModule.out()).getAsJsonObject().get("error").getAsString())
                .contains("is not a module project");
    }

    @Test
    void aProgramTheVmCannotRunIsRefusedBeforeAnyKernelIsPrepared() throws Exception {
        // /bin/true is dynamically linked on Debian
        CliRun dyn = CliRun.run(host, "matrix", module.toString(), "--kernel", "6.1", "--run", "/bin/true");
        assertThat(dyn.exit()).as(dyn.err()).isEqualTo(2);
        assertThat(dyn.err()).contains("--run /bin/true is dynamically linked").contains("gcc -static")
                .doesNotContain("matrix of");
        Files.writeString(module.resolve("rkmod.toml"), "name = \"demo_mod\"\n[vmtest]\nrun = [\"tests/missing.sh\"]\n");
        CliRun toml = CliRun.run(host, "matrix", module.toString(), "--kernel", "6.1");
        assertThat(toml.exit()).isEqualTo(2);
        assertThat(toml.err()).contains("rkmod.toml's run tests/missing.sh: " + module.resolve("tests/missing.sh")
                + " does not exist");
        CliRun help = CliRun.run(host, "matrix", module.toString(), "--kernel", "6.1", "--device", "help");
        assertThat(help.exit()).isEqualTo(2);
        assertThat(help.err()).contains("--device help asks QEMU for a list");
    }

    @Test
    void devicesAndProgramsAreForARunNotForEmit() {
        CliRun r = CliRun.run(host, "matrix", module.toString(), "--kernel", "6.1", "--emit", "gitlab", "--out",
                fs.resolve("repo/.gitlab-ci.yml").toString(), "--device", "pci-testdev");
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).contains("--device and --run are for a run, not for --emit").contains("rkmod.toml");
        assertThat(fs.resolve("repo/.gitlab-ci.yml")).doesNotExist();
    }

    @Test
    void emitWritesThePipelineAndSaysSo() throws Exception {
        Path out = fs.resolve("repo/.gitlab-ci.yml");
        CliRun r = CliRun.run(host, "matrix", module.toString(), "--kernel", "6.1", "--kernel", "debian-sid", "--emit",
                "gitlab", "--out", out.toString());
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(r.out()).isEqualTo("wrote " + out + ": a GitLab CI pipeline of 2 job(s) (6.1, debian-sid) for the"
                + " module in demo_mod\n");
        assertThat(Files.readString(out)).contains("rkmod matrix demo_mod --kernel 6.1 --kernel debian-sid --timeout 120"
                + " --emit gitlab --out .gitlab-ci.yml").contains("RKMOD_MODULE: \"demo_mod\"");
        CliRun j = CliRun.run(host, "matrix", module.toString(), "--kernel", "all", "--emit", "github", "--out",
                fs.resolve("repo/.github/workflows/rkmod.yml").toString(), "--json");
        assertThat(j.exit()).isZero();
        JsonObject o = JsonParser.parseString(j.out()).getAsJsonObject();
        assertThat(o.get("engine").getAsString()).isEqualTo("github");
        assertThat(o.get("module").getAsString()).isEqualTo("demo_mod");
        assertThat(o.getAsJsonArray("kernels").toString()).isEqualTo("[\"6.1\",\"6.12\",\"debian-sid\"]");
        assertThat(o.get("bytes").getAsLong()).isEqualTo(Files.size(fs.resolve("repo/.github/workflows/rkmod.yml")));
    }
}
