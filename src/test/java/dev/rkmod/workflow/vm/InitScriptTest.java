package dev.rkmod.workflow.vm;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The generated /init, its initramfs, and the QEMU command lines. */
class InitScriptTest {
    @TempDir
    Path dir;

    static LoadedModule module(String ko, String args, String name) {
        return new LoadedModule(new VmTestWorkflow.ModuleSpec(Path.of(ko), args), name, "6.1.192 SMP");
    }

    @Test
    void initLoadsInOrderUnloadsInReverseAndMarksEachStep() {
        String init = InitScript.text(List.of(module("a.ko", "count=3  name='x'", "mod_a"), module("b.ko", "", "mod_b")), 1.5);
        assertThat(init).isEqualTo("""
                #!/bin/busybox sh
                B=/bin/busybox
                $B mount -t proc proc /proc
                $B mount -t sysfs sysfs /sys
                $B mount -t devtmpfs devtmpfs /dev 2>/dev/null
                echo 'RKMOD-VMTEST: booted'
                echo 'RKMOD-VMTEST: begin insmod 1 mod_a'
                $B insmod /modules/1-mod_a.ko 'count=3' 'name=x'
                echo "RKMOD-VMTEST: end insmod 1 mod_a status=$?"
                echo 'RKMOD-VMTEST: begin insmod 2 mod_b'
                $B insmod /modules/2-mod_b.ko
                echo "RKMOD-VMTEST: end insmod 2 mod_b status=$?"
                $B sleep 1.50
                echo 'RKMOD-VMTEST: begin rmmod 2 mod_b'
                $B rmmod mod_b
                echo "RKMOD-VMTEST: end rmmod 2 mod_b status=$?"
                echo 'RKMOD-VMTEST: begin rmmod 1 mod_a'
                $B rmmod mod_a
                echo "RKMOD-VMTEST: end rmmod 1 mod_a status=$?"
                echo 'RKMOD-VMTEST: done'
                $B reboot -f
                """);
        assertThat(InitScript.text(List.of(), 0)).doesNotContain("sleep").contains("booted'\necho 'RKMOD-VMTEST: done'");
    }

    @Test
    void theMarkersInitPrintsAreTheOnesTheVerdictReads() {
        List<LoadedModule> mods = List.of(module("a.ko", "", "mod_a"));
        List<String> console = InitScript.text(mods, 0).lines().filter(l -> l.startsWith("echo "))
                .map(l -> l.substring(6, l.length() - 1).replace("$?", "0")).toList();
        var v = ConsoleVerdict.judge(VerdictTest.console(console.toArray(String[]::new)), List.of("mod_a"), List.of(), List.of(),
                Accel.TCG, "6.1.192", java.time.Duration.ZERO);
        assertThat(v.pass()).as(console.toString()).isTrue();
        assertThat(v.steps()).containsExactly(new VmTestWorkflow.Step("insmod", 1, "mod_a", 0),
                new VmTestWorkflow.Step("rmmod", 1, "mod_a", 0));
    }

    @Test
    void dependenciesAreLoadedFirstAndUnloadedLastWithMarkersTheVerdictNamesAsDependencies() throws Exception {
        List<LoadedModule> mods = List.of(module("c.ko", "", "rust_configfs"));
        List<InitScript.Dep> deps = List.of(new InitScript.Dep("xor", "XOR-KO".getBytes(StandardCharsets.US_ASCII)),
                new InitScript.Dep("configfs", "CONFIGFS-KO".getBytes(StandardCharsets.US_ASCII)));
        String init = InitScript.text(mods, deps, 0, List.of());
        assertThat(init).contains("""
                echo 'RKMOD-VMTEST: booted'
                echo 'RKMOD-VMTEST: begin insmod 0 xor'
                $B insmod /modules/deps/1-xor.ko
                echo "RKMOD-VMTEST: end insmod 0 xor status=$?"
                echo 'RKMOD-VMTEST: begin insmod 0 configfs'
                $B insmod /modules/deps/2-configfs.ko
                echo "RKMOD-VMTEST: end insmod 0 configfs status=$?"
                echo 'RKMOD-VMTEST: begin insmod 1 rust_configfs'
                """).contains("""
                echo "RKMOD-VMTEST: end rmmod 1 rust_configfs status=$?"
                echo 'RKMOD-VMTEST: begin rmmod 0 configfs'
                $B rmmod configfs
                echo "RKMOD-VMTEST: end rmmod 0 configfs status=$?"
                echo 'RKMOD-VMTEST: begin rmmod 0 xor'
                $B rmmod xor
                echo "RKMOD-VMTEST: end rmmod 0 xor status=$?"
                echo 'RKMOD-VMTEST: done'
                """);
        List<String> console = init.lines().filter(l -> l.startsWith("echo "))
                .map(l -> l.substring(6, l.length() - 1).replace("$?", "0")).toList();
        var v = ConsoleVerdict.judge(VerdictTest.console(console.toArray(String[]::new)),
                List.of("xor", "configfs", "rust_configfs"), List.of(), List.of(), Accel.TCG, "7.2", java.time.Duration.ZERO);
        assertThat(v.pass()).isTrue();
        assertThat(v.steps()).extracting(VmTestWorkflow.Step::shown).containsExactly("xor (a dependency)",
                "configfs (a dependency)", "rust_configfs", "rust_configfs", "configfs (a dependency)", "xor (a dependency)");
        // a dependency's failure names it as one
        List<String> failing = console.stream().map(l -> l.equals("RKMOD-VMTEST: end insmod 0 configfs status=0")
                ? "RKMOD-VMTEST: end insmod 0 configfs status=1" : l).toList();
        var f = ConsoleVerdict.judge(VerdictTest.console(failing.toArray(String[]::new)), List.of("rust_configfs"), List.of(),
                List.of(), Accel.TCG, "7.2", java.time.Duration.ZERO);
        assertThat(f.reasons()).extracting(Reason::text).containsExactly("insmod configfs (a dependency) exited with status 1");
        String cpio = new String(InitScript.initramfs(List.of(module(Files.writeString(dir.resolve("c.ko"), "C-KO").toString(),
                "", "rust_configfs")), deps, Files.writeString(dir.resolve("busybox"), "BB"), 0, List.of(), List.of()),
                StandardCharsets.ISO_8859_1);
        assertThat(cpio).contains("modules/deps/1-xor.ko").contains("XOR-KO").contains("modules/deps/2-configfs.ko")
                .contains("CONFIGFS-KO").contains("modules/1-rust_configfs.ko");
    }

    @Test
    void theInitramfsHoldsBusyboxTheModulesAndInit() throws Exception {
        Path busybox = Files.writeString(dir.resolve("busybox"), "BUSYBOX-BYTES");
        Path ko = Files.writeString(dir.resolve("a.ko"), "MODULE-A-BYTES");
        String cpio = new String(InitScript.initramfs(List.of(module(ko.toString(), "", "mod_a")), busybox, 0),
                StandardCharsets.ISO_8859_1);
        assertThat(cpio).startsWith("070701").contains("bin/busybox").contains("BUSYBOX-BYTES")
                .contains("modules/1-mod_a.ko").contains("MODULE-A-BYTES").contains("TRAILER!!!");
        assertThat(cpio.indexOf("MODULE-A-BYTES")).isLessThan(cpio.indexOf("#!/bin/busybox sh"));
        String probe = new String(InitScript.kvmProbe(busybox), StandardCharsets.ISO_8859_1);
        assertThat(probe).contains("echo 'RKMOD-VMTEST: kvm-ok'").doesNotContain("insmod");
    }

    @Test
    void qemuRunsTheTestVmUnderTheChosenAccelerator() {
        Path qemu = Path.of("/usr/bin/qemu-system-x86_64");
        assertThat(QemuCommand.test(qemu, "256", Path.of("/k/bzImage"), Path.of("/w/initrd.cpio"), Accel.TCG)).containsExactly(
                "/usr/bin/qemu-system-x86_64", "-m", "256", "-smp", "1", "-nographic", "-no-reboot", "-nodefaults",
                "-serial", "stdio", "-kernel", "/k/bzImage", "-initrd", "/w/initrd.cpio",
                "-append", "console=ttyS0 panic=-1 loglevel=7", "-accel", "tcg");
        assertThat(QemuCommand.test(qemu, "512", Path.of("/k/bzImage"), Path.of("/w/initrd.cpio"), Accel.KVM))
                .endsWith("-enable-kvm", "-cpu", "host").doesNotContain("tcg");
        assertThat(QemuCommand.kvmProbe(qemu, Path.of("/k/bzImage"), Path.of("/w/probe.cpio"))).containsSequence("-m", "128")
                .containsSequence("-enable-kvm", "-cpu", "host").containsSequence("-initrd", "/w/probe.cpio");
    }

    @Test
    void aDistroKernelOrABigImageGetsMoreMemory() {
        assertThat(QemuCommand.memory(false, 1_200_000)).isEqualTo("256");
        assertThat(QemuCommand.memory(true, 1_200_000)).isEqualTo("512");
        assertThat(QemuCommand.memory(false, 13L << 20)).isEqualTo("512");
    }

    @Test
    void acceleratorsAreSpelledLowerCaseInJsonAndTheProbeMemo() {
        assertThat(Accel.KVM.id()).isEqualTo("kvm");
        assertThat(Accel.byId("tcg")).contains(Accel.TCG);
        assertThat(Accel.byId("TCG ")).isEmpty();
    }

    @Test
    void kvmOffNeverProbes() throws Exception {
        // no context, no /dev/kvm, no QEMU: off decides alone
        assertThat(new AccelChoice(null).choose(VmTestWorkflow.Kvm.OFF, null, null, null, null)).isEqualTo(Accel.TCG);
    }

    @Test
    void aTreesImageIsTheOneItsManifestRecords() throws Exception {
        assertThat(VmTestWorkflow.treeImage(dir)).isEqualTo(dir.resolve("arch/x86/boot/bzImage"));
        Files.writeString(dir.resolve("rkmod-kernel.json"), "{\"schema\": 1, \"release\": \"6.1.192\"}");
        assertThat(VmTestWorkflow.treeImage(dir)).as("a manifest without bzImage").isEqualTo(dir.resolve("arch/x86/boot/bzImage"));
        Files.writeString(dir.resolve("rkmod-kernel.json"), "{\"schema\": 1, \"bzImage\": \"out/boot/bzImage-6.1\"}");
        assertThat(VmTestWorkflow.treeImage(dir)).isEqualTo(dir.resolve("out/boot/bzImage-6.1"));
    }

    static RunProgram program(String file, String shown) {
        return new RunProgram(Path.of(file), shown, "a script for /bin/sh", ("#!/bin/sh\necho " + shown + "\n")
                .getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void programsRunAfterLoadingAndBeforeUnloadingWithDebugfsMountedAndTheirLinesMarked() {
        String init = InitScript.text(List.of(module("a.ko", "", "mod_a")), 0.5,
                List.of(program("/src/tests/read modules.sh", "tests/read modules.sh"), program("/src/prog", "prog")));
        assertThat(init).isEqualTo("""
                #!/bin/busybox sh
                B=/bin/busybox
                $B mount -t proc proc /proc
                $B mount -t sysfs sysfs /sys
                $B mount -t devtmpfs devtmpfs /dev 2>/dev/null
                echo 'RKMOD-VMTEST: booted'
                echo 'RKMOD-VMTEST: begin insmod 1 mod_a'
                $B insmod /modules/1-mod_a.ko
                echo "RKMOD-VMTEST: end insmod 1 mod_a status=$?"
                $B mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
                [ -d /sys/kernel/config ] && $B mount -t configfs configfs /sys/kernel/config 2>/dev/null
                export PATH=/bin:/sbin:/usr/bin:/usr/sbin
                echo 'RKMOD-VMTEST: begin run 1 read_modules.sh'
                { /programs/1-read_modules.sh </dev/null 2>&1; echo $? >/tmp/.rkmod-run-status; } | while IFS= read -r l || [ -n "$l" ]; do printf '%s\\n' "RKMOD-VMTEST: run 1| $l"; done
                st=; read -r st </tmp/.rkmod-run-status; echo "RKMOD-VMTEST: end run 1 read_modules.sh status=$st"
                echo 'RKMOD-VMTEST: begin run 2 prog'
                { /programs/2-prog </dev/null 2>&1; echo $? >/tmp/.rkmod-run-status; } | while IFS= read -r l || [ -n "$l" ]; do printf '%s\\n' "RKMOD-VMTEST: run 2| $l"; done
                st=; read -r st </tmp/.rkmod-run-status; echo "RKMOD-VMTEST: end run 2 prog status=$st"
                $B sleep 0.50
                echo 'RKMOD-VMTEST: begin rmmod 1 mod_a'
                $B rmmod mod_a
                echo "RKMOD-VMTEST: end rmmod 1 mod_a status=$?"
                echo 'RKMOD-VMTEST: done'
                $B reboot -f
                """);
        assertThat(InitScript.text(List.of(module("a.ko", "", "mod_a")), 0, List.of()))
                .isEqualTo(InitScript.text(List.of(module("a.ko", "", "mod_a")), 0)).doesNotContain("debugfs");
    }

    @Test
    void theInitramfsOfARunHoldsTheProgramsAndBusyboxsApplets() throws Exception {
        Path busybox = Files.writeString(dir.resolve("busybox"), "BUSYBOX-BYTES");
        Path ko = Files.writeString(dir.resolve("a.ko"), "MODULE-A-BYTES");
        String cpio = new String(InitScript.initramfs(List.of(module(ko.toString(), "", "mod_a")), busybox, 0,
                List.of(program("/x/t.sh", "t.sh")), List.of("bin/sh", "bin/cat", "usr/bin/env", "usr/bin/[", "sbin/insmod",
                        "bin/busybox", "../evil")), StandardCharsets.ISO_8859_1);
        assertThat(cpio).contains("programs/1-t.sh").contains("#!/bin/sh\necho t.sh").contains("bin/cat")
                .contains("usr/bin/env").contains("usr/bin/[").contains("sbin/insmod").doesNotContain("evil");
        assertThat(cpio.indexOf("usr\0")).as("usr before usr/bin").isLessThan(cpio.indexOf("usr/bin\0"));
        assertThat(cpio.indexOf("usr/bin\0")).isLessThan(cpio.indexOf("usr/bin/env\0"));
        String plain = new String(InitScript.initramfs(List.of(module(ko.toString(), "", "mod_a")), busybox, 0),
                StandardCharsets.ISO_8859_1);
        assertThat(plain).doesNotContain("programs").doesNotContain("usr/bin");
    }

    @Test
    void eachDeviceIsOneDashDeviceAfterTheAccelerator() {
        Path qemu = Path.of("/usr/bin/qemu-system-x86_64");
        List<String> argv = QemuCommand.test(qemu, "256", Path.of("/k/bzImage"), Path.of("/w/initrd.cpio"), Accel.TCG,
                List.of("pci-testdev", "virtio-rng-pci,id=rng0"));
        assertThat(argv).endsWith("-accel", "tcg", "-device", "pci-testdev", "-device", "virtio-rng-pci,id=rng0");
        assertThat(QemuCommand.test(qemu, "256", Path.of("/k/bzImage"), Path.of("/w/initrd.cpio"), Accel.TCG, List.of()))
                .isEqualTo(QemuCommand.test(qemu, "256", Path.of("/k/bzImage"), Path.of("/w/initrd.cpio"), Accel.TCG));
    }
}
