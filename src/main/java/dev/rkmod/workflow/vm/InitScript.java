package dev.rkmod.workflow.vm;

import dev.rkmod.format.CpioNewc;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;

/**
 * The initramfs the test VM boots: busybox, the modules and a generated /init that mounts proc, sysfs and
 * devtmpfs, insmods the modules in order and rmmods them in reverse, with a marker line around each step
 * (read back by {@link ConsoleVerdict}). With programs to run ({@link RunProgram}) it also holds them and busybox's
 * applets, and /init runs each between loading and unloading, with debugfs (and configfs where the kernel has it)
 * mounted; each line a program prints is marked with {@link #RUN_LINE} and its number.
 */
final class InitScript {
    /** Starts every line /init prints about itself. */
    static final String MARK = "RKMOD-VMTEST:";
    /** What the KVM probe's /init prints when it runs. */
    static final String KVM_OK = MARK + " kvm-ok";
    /** Starts each line a program prints: {@code RKMOD-VMTEST: run N| text}. */
    static final String RUN_LINE = MARK + " run ";
    /** Where /init keeps a program's exit status while its output is marked. */
    static final String STATUS_FILE = "/tmp/.rkmod-run-status";
    /** Where applets are found by the programs. */
    static final String PATH = "/bin:/sbin:/usr/bin:/usr/sbin";

    private InitScript() {
    }

    /** A dependency to load before the tested modules: its name and the module, decompressed. */
    record Dep(String name, byte[] ko) { }

    /** Where dependency {@code i} (0-based) lies in the initramfs. */
    static String depFile(int i, Dep d) {
        return "modules/deps/" + (i + 1) + "-" + d.name() + ".ko";
    }

    /** Where module {@code i} (0-based) lies in the initramfs. */
    static String moduleFile(int i, LoadedModule m) {
        return "modules/" + (i + 1) + "-" + m.name() + ".ko";
    }

    /** Where program {@code i} (0-based) lies in the initramfs. */
    static String programFile(int i, RunProgram p) {
        return "programs/" + (i + 1) + "-" + markerName(p);
    }

    /** A program's name in marker lines: its file name, one word. */
    static String markerName(RunProgram p) {
        Path name = p.file().getFileName();
        String n = (name == null ? "program" : name.toString()).replaceAll("[^A-Za-z0-9._+-]", "_");
        return n.isEmpty() ? "program" : n;
    }

    /** The /init script; {@code hold} seconds pass between loading and unloading. */
    static String text(List<LoadedModule> modules, double hold) {
        return text(modules, hold, List.of());
    }

    /** The /init script: load, run {@code programs} in order, hold {@code hold} seconds, unload. */
    static String text(List<LoadedModule> modules, double hold, List<RunProgram> programs) {
        return text(modules, List.of(), hold, programs);
    }

    /**
     * The /init script: load the dependencies {@code deps} (in order; their markers have index 0), load, run
     * {@code programs} in order, hold {@code hold} seconds, unload, unload the dependencies in reverse.
     */
    static String text(List<LoadedModule> modules, List<Dep> deps, double hold, List<RunProgram> programs) {
        StringBuilder init = new StringBuilder("#!/bin/busybox sh\n");
        init.append("B=/bin/busybox\n$B mount -t proc proc /proc\n$B mount -t sysfs sysfs /sys\n");
        init.append("$B mount -t devtmpfs devtmpfs /dev 2>/dev/null\n");
        init.append("echo '").append(MARK).append(" booted'\n");
        for (int i = 0; i < deps.size(); i++) {
            Dep d = deps.get(i);
            init.append("echo '").append(MARK).append(" begin insmod 0 ").append(d.name()).append("'\n");
            init.append("$B insmod /").append(depFile(i, d)).append('\n');
            init.append("echo \"").append(MARK).append(" end insmod 0 ").append(d.name()).append(" status=$?\"\n");
        }
        for (int i = 0; i < modules.size(); i++) {
            LoadedModule m = modules.get(i);
            init.append("echo '").append(MARK).append(" begin insmod ").append(i + 1).append(' ').append(m.name()).append("'\n");
            init.append("$B insmod /").append(moduleFile(i, m));
            for (String arg : m.spec().args().split("\\s+")) {
                if (!arg.isBlank()) {
                    init.append(" '").append(arg.replace("'", "")).append('\'');
                }
            }
            init.append("\necho \"").append(MARK).append(" end insmod ").append(i + 1).append(' ').append(m.name())
                    .append(" status=$?\"\n");
        }
        if (!programs.isEmpty()) {
            init.append("$B mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null\n");
            init.append("[ -d /sys/kernel/config ] && $B mount -t configfs configfs /sys/kernel/config 2>/dev/null\n");
            init.append("export PATH=").append(PATH).append('\n');
        }
        for (int i = 0; i < programs.size(); i++) {
            RunProgram p = programs.get(i);
            String name = markerName(p);
            init.append("echo '").append(MARK).append(" begin run ").append(i + 1).append(' ').append(name).append("'\n");
            // stdin from /dev/null (nothing types on the console), stderr with stdout, each line marked as it comes; the
            // exit status through a file, shell builtins only (no pipefail, which not every busybox has)
            init.append("{ /").append(programFile(i, p)).append(" </dev/null 2>&1; echo $? >").append(STATUS_FILE)
                    .append("; } | while IFS= read -r l || [ -n \"$l\" ];")
                    .append(" do printf '%s\\n' \"").append(RUN_LINE).append(i + 1).append("| $l\"; done\n");
            init.append("st=; read -r st <").append(STATUS_FILE).append("; echo \"").append(MARK).append(" end run ")
                    .append(i + 1).append(' ').append(name).append(" status=$st\"\n");
        }
        if (hold > 0) {
            init.append("$B sleep ").append(String.format(Locale.ROOT, "%.2f", hold)).append('\n');
        }
        for (int i = modules.size() - 1; i >= 0; i--) {
            LoadedModule m = modules.get(i);
            init.append("echo '").append(MARK).append(" begin rmmod ").append(i + 1).append(' ').append(m.name()).append("'\n");
            init.append("$B rmmod ").append(m.name()).append('\n');
            init.append("echo \"").append(MARK).append(" end rmmod ").append(i + 1).append(' ').append(m.name())
                    .append(" status=$?\"\n");
        }
        if (!deps.isEmpty() && !programs.isEmpty()) {
            // what /init mounted for the programs holds its filesystem's module (configfs as a dependency)
            init.append("$B umount /sys/kernel/config 2>/dev/null\n$B umount /sys/kernel/debug 2>/dev/null\n");
        }
        for (int i = deps.size() - 1; i >= 0; i--) {
            Dep d = deps.get(i);
            init.append("echo '").append(MARK).append(" begin rmmod 0 ").append(d.name()).append("'\n");
            init.append("$B rmmod ").append(d.name()).append('\n');
            init.append("echo \"").append(MARK).append(" end rmmod 0 ").append(d.name()).append(" status=$?\"\n");
        }
        init.append("echo '").append(MARK).append(" done'\n$B reboot -f\n");
        return init.toString();
    }

    /** The test VM's initramfs (cpio newc). */
    static byte[] initramfs(List<LoadedModule> modules, Path busybox, double hold) throws IOException {
        return initramfs(modules, busybox, hold, List.of(), List.of());
    }

    /**
     * The test VM's initramfs with programs to run: they lie under /programs, and busybox's {@code applets} (paths
     * as {@code busybox --list-full} prints them) are links to /bin/busybox, so that scripts find cat, grep and env.
     */
    static byte[] initramfs(List<LoadedModule> modules, Path busybox, double hold, List<RunProgram> programs,
                            List<String> applets) throws IOException {
        return initramfs(modules, List.of(), busybox, hold, programs, applets);
    }

    /** The same with dependencies to load first, under /modules/deps. */
    static byte[] initramfs(List<LoadedModule> modules, List<Dep> deps, Path busybox, double hold, List<RunProgram> programs,
                            List<String> applets) throws IOException {
        CpioNewc cpio = new CpioNewc().dir("bin").dir("dev").dir("proc").dir("sys").dir("modules")
                .file("bin/busybox", 0755, Files.readAllBytes(busybox)).symlink("bin/sh", "busybox");
        if (!deps.isEmpty()) {
            cpio.dir("modules/deps");
            for (int i = 0; i < deps.size(); i++) {
                cpio.file(depFile(i, deps.get(i)), 0644, deps.get(i).ko());
            }
        }
        for (int i = 0; i < modules.size(); i++) {
            cpio.file(moduleFile(i, modules.get(i)), 0644, Files.readAllBytes(modules.get(i).spec().ko()));
        }
        if (!programs.isEmpty()) {
            cpio.dir("tmp").dir("programs");
            Set<String> dirs = new TreeSet<>(List.of("bin"));
            for (String a : applets) {
                String link = a.startsWith("/") ? a.substring(1) : a;
                if (!link.matches("[A-Za-z0-9_./\\[+-]+") || link.contains("..") || link.equals("bin/sh")
                        || link.equals("bin/busybox")) {
                    continue;
                }
                for (int slash = link.indexOf('/'); slash > 0; slash = link.indexOf('/', slash + 1)) {
                    if (dirs.add(link.substring(0, slash))) {
                        cpio.dir(link.substring(0, slash));
                    }
                }
                cpio.symlink(link, "/bin/busybox");
            }
            for (int i = 0; i < programs.size(); i++) {
                cpio.file(programFile(i, programs.get(i)), 0755, programs.get(i).bytes());
            }
        }
        cpio.file("init", 0755, text(modules, deps, hold, programs).getBytes(StandardCharsets.UTF_8));
        return cpio.toBytes();
    }

    /** The KVM probe's initramfs: an /init that prints {@link #KVM_OK} and powers off. */
    static byte[] kvmProbe(Path busybox) throws IOException {
        return new CpioNewc().dir("bin").file("bin/busybox", 0755, Files.readAllBytes(busybox))
                .file("init", 0755, ("#!/bin/busybox sh\necho '" + KVM_OK + "'\n/bin/busybox reboot -f\n")
                        .getBytes(StandardCharsets.UTF_8))
                .toBytes();
    }
}
