package dev.rkmod.workflow.vm;

import dev.rkmod.model.ExitCode;
import dev.rkmod.model.RkmodException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** What --run accepts and what it refuses before booting, on programs gcc links in the test and scripts. */
class RunProgramTest {
    @TempDir
    Path dir;

    /** A few of busybox's applets, as --list-full prints them. */
    static final List<String> APPLETS = List.of("bin/sh", "bin/ash", "bin/cat", "usr/bin/env", "bin/grep", "sbin/insmod");

    private RunProgram check(Path file) {
        return RunProgram.check(file, file.getFileName().toString(), "--run", () -> APPLETS);
    }

    private RkmodException refused(Path file) {
        try {
            check(file);
        } catch (RkmodException e) {
            assertThat(e.exitCode()).isEqualTo(ExitCode.USAGE);
            assertThat(e.what()).contains("--run " + file.getFileName()).contains("checked before booting");
            assertThat(e.why()).isNotBlank();
            assertThat(e.fix()).isNotBlank();
            return e;
        }
        throw new AssertionError(file + " was accepted");
    }

    private Path gcc(String name, String... flags) throws Exception {
        Path c = dir.resolve(name + ".c");
        Files.writeString(c, "int main(void) { return 3; }\n");
        Path out = dir.resolve(name);
        List<String> argv = new ArrayList<>(List.of("gcc"));
        argv.addAll(Arrays.asList(flags));
        argv.addAll(List.of("-o", out.toString(), c.toString()));
        Process p = new ProcessBuilder(argv).redirectErrorStream(true).start();
        String log = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(5, TimeUnit.MINUTES)).isTrue();
        assertThat(p.exitValue()).as(log).isZero();
        return out;
    }

    private Path script(String name, String text) throws Exception {
        return Files.writeString(dir.resolve(name), text);
    }

    @Test
    void scriptsForBusyboxAndStaticExecutablesAreAccepted() throws Exception {
        assertThat(check(script("t.sh", "#!/bin/sh\ncat /proc/modules\n")).kind()).isEqualTo("a script for /bin/sh");
        assertThat(check(script("b.sh", "#! /bin/busybox sh\necho hi\n")).kind()).isEqualTo("a script for /bin/busybox");
        assertThat(check(script("e.sh", "#!/usr/bin/env sh\necho hi\n")).kind()).isEqualTo("a script for /usr/bin/env");
        RunProgram st = check(gcc("static", "-static"));
        assertThat(st.kind()).isEqualTo("a static x86-64 executable");
        assertThat(st.bytes()).startsWith(0x7F, 'E', 'L', 'F');
        assertThat(check(gcc("spie", "-static-pie")).kind()).isEqualTo("a static-pie x86-64 executable");
    }

    @Test
    void aDynamicallyLinkedProgramIsRefusedSayingItMustBeStatic() throws Exception {
        RkmodException e = refused(gcc("dyn"));
        assertThat(e.what()).contains("is dynamically linked").contains("ld-linux-x86-64.so.2");
        assertThat(e.why()).contains("no shared libraries");
        assertThat(e.fix()).contains("gcc -static");
    }

    @Test
    void anotherArchitecturesProgramIsRefused() throws Exception {
        byte[] elf = Files.readAllBytes(gcc("arm", "-static"));
        elf[18] = (byte) 183; // e_machine EM_AARCH64, little-endian
        elf[19] = 0;
        Path arm = Files.write(dir.resolve("arm64-prog"), elf);
        RkmodException e = refused(arm);
        assertThat(e.what()).contains("ELF executable for aarch64, not for x86-64");
        assertThat(e.fix()).contains("gcc -static");
    }

    @Test
    void anObjectOrAModuleIsNoProgram() throws Exception {
        Path c = Files.writeString(dir.resolve("o.c"), "int f(void) { return 1; }\n");
        Process p = new ProcessBuilder("gcc", "-c", "-o", dir.resolve("o.o").toString(), c.toString()).start();
        assertThat(p.waitFor(5, TimeUnit.MINUTES)).isTrue();
        assertThat(refused(dir.resolve("o.o")).what()).contains("not an executable but an ELF relocatable object");
    }

    @Test
    void aScriptWhoseInterpreterTheVmLacksIsRefused() throws Exception {
        RkmodException py = refused(script("t.py", "#!/usr/bin/python3\nprint(1)\n"));
        assertThat(py.what()).contains("needs the interpreter /usr/bin/python3, which the test VM does not have");
        assertThat(py.why()).contains("busybox").contains("6 applets");
        assertThat(py.fix()).contains("#!/bin/sh").contains("gcc -static");
        assertThat(refused(script("b.sh", "#!/bin/bash\necho\n")).what()).contains("/bin/bash");
        assertThat(refused(script("env.sh", "#!/usr/bin/env python3\n")).what())
                .contains("needs python3 (through /usr/bin/env)");
        assertThat(refused(script("rel.sh", "#!sh\n")).what()).contains("needs the interpreter sh");
        assertThat(refused(script("crlf.sh", "#!/bin/sh\r\necho hi\r\n")).what()).contains("Windows line endings");
        assertThat(refused(script("empty.sh", "#!\n")).what()).contains("empty #! line");
    }

    @Test
    void aFileThatIsNeitherIsRefused() throws Exception {
        assertThat(refused(script("plain.sh", "echo no shebang\n")).what())
                .contains("neither a script starting with #! nor an ELF executable");
        assertThat(refused(script("empty", "")).what()).contains("neither");
        Path missing = dir.resolve("missing.sh");
        RkmodException m = refused(missing);
        assertThat(m.what()).contains(missing + " does not exist");
        Path sub = Files.createDirectories(dir.resolve("tests"));
        assertThat(refused(sub).what()).contains("is a directory");
        byte[] damaged = Arrays.copyOf(Files.readAllBytes(gcc("cut", "-static")), 40);
        assertThat(refused(Files.write(dir.resolve("cut-prog"), damaged)).what()).contains("damaged ELF file");
    }

    @Test
    void rkmodTomlsEntriesSayWhereTheyCameFrom() {
        RkmodException e = (RkmodException) org.assertj.core.api.Assertions.catchThrowable(() ->
                RunProgram.check(dir.resolve("nope.sh"), "nope.sh", "rkmod.toml's run", () -> APPLETS));
        assertThat(e.what()).startsWith("rkmod.toml's run nope.sh: ");
        assertThat(e.fix()).contains("relative to the module's directory");
    }

    @Test
    void theAppletsAreAskedForOnlyForAScript() throws Exception {
        Path st = gcc("static2", "-static");
        assertThat(RunProgram.check(st, "static2", "--run", () -> {
            throw new AssertionError("busybox asked");
        }).kind()).contains("static");
        assertThatThrownBy(() -> RunProgram.check(script("x.sh", "#!/bin/sh\n"), "x.sh", "--run", () -> {
            throw new IllegalStateException("asked");
        })).hasMessage("asked");
    }
}
