package dev.rkmod.it;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * vmtest --run and --device on real QEMU and the real tiny-rust 6.1 kernel of the shared cache, with the kernel's own
 * rust_minimal.ko: user programs (busybox scripts, static C programs gcc links here) run between loading and unloading,
 * their exit status and hangs judged; programs the VM cannot run refused before booting; a device the kernel sees (a
 * second 16550A UART: tinyconfig has no PCI) and one QEMU refuses.
 */
class VmtestRunIT {
    @ItSetup.Work("rkmod-vmtest-run")
    static Path work;
    static Path kernel61;
    static Path minimal;

    @BeforeAll
    static void setUp() throws Exception {
        kernel61 = ItSetup.kernel("6.1");
        minimal = Files.copy(kernel61.resolve("samples/rust/rust_minimal.ko"), Files.createDirectories(work.resolve("m"))
                .resolve("rust_minimal.ko"));
    }

    static Rkmod.Result vmtest(String... args) throws Exception {
        List<String> argv = new ArrayList<>(List.of("vmtest"));
        argv.addAll(List.of(args));
        return Rkmod.jar(Map.of(), argv.toArray(String[]::new));
    }

    static Path script(String name, String text) throws Exception {
        Path p = work.resolve(name);
        Files.writeString(p, text);
        return p;
    }

    /** A C program linked by gcc here ({@code -static} or not). */
    static Path program(String name, String source, boolean linkStatically) throws Exception {
        Path c = work.resolve(name + ".c");
        Files.writeString(c, source);
        Path out = work.resolve(name);
        List<String> argv = new ArrayList<>(List.of("gcc", "-O1", "-o", out.toString(), c.toString()));
        if (linkStatically) {
            argv.add(1, "-static");
        }
        ItSetup.run(argv);
        return out;
    }

    @Test
    void aScriptReadsProcModulesWhileTheModuleIsLoadedAndItsLinesAreShown() throws Exception {
        Path sh = script("modules.sh", """
                #!/bin/sh
                # the loaded modules, as the script sees them
                while read -r name size refs rest; do
                    echo "loaded: $name ($size bytes)"
                done < /proc/modules
                grep -q rust_minimal /proc/modules && echo "rust_minimal is in /proc/modules" >&2
                cat /proc/tty/driver/serial | grep '^1:'
                """);
        long t = System.nanoTime();
        Rkmod.Result r = vmtest(minimal.toString(), "--kdir", kernel61.toString(), "--kvm", "off", "--run", sh.toString(),
                "--expect", "rust_minimal: Rust minimal sample \\(init\\)", "--expect", "^loaded: rust_minimal");
        long ms = (System.nanoTime() - t) / 1_000_000;
        assertThat(r.exit()).as(r.out() + r.err()).isZero();
        assertThat(r.out()).contains("kernel log of the module(s), and the output of --run as [FILE] lines:")
                .contains("  [" + sh + "] loaded: rust_minimal (")
                .contains("  [" + sh + "] rust_minimal is in /proc/modules")
                // without --device, the second UART's port has nothing behind it
                .contains("  [" + sh + "] 1: uart:unknown port:000002F8")
                .containsPattern("run +" + java.util.regex.Pattern.quote(sh.toString()) + " +status 0")
                .contains("verdict: PASS");
        // the program ran after the insmod and before the rmmod
        assertThat(r.out().indexOf("insmod rust_minimal")).isLessThan(r.out().indexOf("run    " + sh));
        assertThat(r.out().indexOf("run    " + sh)).isLessThan(r.out().indexOf("rmmod  rust_minimal"));
        Path log = Path.of(r.out().lines().filter(l -> l.startsWith("console log: ")).findFirst().orElseThrow().substring(13));
        assertThat(log).content().contains("RKMOD-VMTEST: run 1| loaded: rust_minimal");
        System.out.println("VmtestRunIT: a vmtest with one --run script took " + ms + " ms");
    }

    @Test
    void aStaticProgramThatExitsThreeFailsTheVerdictNamingItAndTheStatus() throws Exception {
        Path prog = program("exits3", """
                #include <stdio.h>
                int main(void) {
                    printf("checking the device\\n");
                    return 3;
                }
                """, true);
        Rkmod.Result r = vmtest(minimal.toString(), "--kdir", kernel61.toString(), "--kvm", "off", "--run", prog.toString());
        assertThat(r.exit()).as(r.out() + r.err()).isEqualTo(1);
        assertThat(r.out()).contains("[" + prog + "] checking the device").contains("verdict: FAIL")
                .contains("  - run " + prog + " exited with status 3")
                // the module was still unloaded
                .containsPattern("rmmod +rust_minimal +status 0");
    }

    @Test
    void aHangingProgramIsStoppedByTheTimeoutAndNamed() throws Exception {
        Path sh = script("hangs.sh", "#!/bin/sh\necho 'about to hang'\nwhile :; do sleep 1; done\n");
        Rkmod.Result r = vmtest(minimal.toString(), "--kdir", kernel61.toString(), "--kvm", "off", "--run", sh.toString(),
                "--timeout", "15");
        assertThat(r.exit()).as(r.out() + r.err()).isEqualTo(1);
        assertThat(r.out()).contains("  - timed out in run " + sh + " (it did not return); QEMU was stopped")
                .contains("[" + sh + "] about to hang");
        assertThat(ProcessHandle.allProcesses().filter(h -> {
            String cmd = h.info().commandLine().orElse("");
            return cmd.contains("qemu-system") && cmd.contains("/vmtest-") && cmd.contains(kernel61.toString());
        })).as("no QEMU left behind").isEmpty();
    }

    @Test
    void programsTheVmCannotRunAreRefusedBeforeBooting() throws Exception {
        Path dyn = program("dynamic", "int main(void) { return 0; }\n", false);
        Rkmod.Result r = vmtest(minimal.toString(), "--kdir", kernel61.toString(), "--run", dyn.toString());
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).contains("--run " + dyn + " is dynamically linked").contains("gcc -static")
                .contains("checked before booting").doesNotContain("==> boot").doesNotContain("Exception");
        assertThat(r.err().strip().lines().filter(l -> l.startsWith("rkmod: error:")).count()).isEqualTo(1);
        Path py = script("t.py", "#!/usr/bin/python3\nprint('hi')\n");
        Rkmod.Result p = vmtest(minimal.toString(), "--kdir", kernel61.toString(), "--run", py.toString());
        assertThat(p.exit()).isEqualTo(2);
        assertThat(p.err()).contains("needs the interpreter /usr/bin/python3, which the test VM does not have")
                .doesNotContain("==> boot");
        assertThat(r.millis()).as("refused without booting").isLessThan(10_000);
    }

    @Test
    void rkmodTomlsDeviceIsSeenByTheKernelAndItsProgramRuns() throws Exception {
        Path dir = Files.createDirectories(work.resolve("project"));
        Path ko = Files.copy(minimal, dir.resolve("rust_minimal.ko"));
        Files.createDirectories(dir.resolve("tests"));
        Files.writeString(dir.resolve("tests/uart.sh"), "#!/bin/sh\ngrep '^1:' /proc/tty/driver/serial\n");
        Files.writeString(dir.resolve("rkmod.toml"), """
                name = "rust_minimal"
                generation = "6.1"

                [vmtest]
                expect = ["rust_minimal: Rust minimal sample (init)"]
                # a second 16550A at 0x2f8: what a driver for it would bind
                devices = ["isa-serial"]
                run = ["tests/uart.sh"]
                """);
        Rkmod.Result r = vmtest(ko.toString(), "--kdir", kernel61.toString(), "--kvm", "off", "--expect",
                "ttyS1 at I/O 0x2f8 .* is a 16550A");
        assertThat(r.exit()).as(r.out() + r.err()).isZero();
        assertThat(r.out()).contains("[tests/uart.sh] 1: uart:16550A port:000002F8").contains("verdict: PASS");
    }

    @Test
    void aDeviceQemuRefusesIsReportedNamingIt() throws Exception {
        Rkmod.Result r = vmtest(minimal.toString(), "--kdir", kernel61.toString(), "--kvm", "off", "--device", "rkmod-no-such-dev");
        assertThat(r.exit()).as(r.out() + r.err()).isEqualTo(2);
        assertThat(r.err()).contains("QEMU refused --device rkmod-no-such-dev: 'rkmod-no-such-dev' is not a valid device model name")
                .contains("qemu-system-x86_64 -device help").doesNotContain("did not reach /init");
        Rkmod.Result prop = vmtest(minimal.toString(), "--kdir", kernel61.toString(), "--kvm", "off", "--device",
                "isa-serial,rkmod-prop=1");
        assertThat(prop.exit()).isEqualTo(2);
        assertThat(prop.err()).contains("QEMU refused --device isa-serial,rkmod-prop=1: Property 'isa-serial.rkmod-prop' not found");
    }
}
