package dev.rkmod.workflow.vm;

import dev.rkmod.format.CpioNewc;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * The initramfs the test VM boots: busybox, the modules and a generated /init that mounts proc, sysfs and
 * devtmpfs, insmods the modules in order and rmmods them in reverse, with a marker line around each step
 * (read back by {@link ConsoleVerdict}).
 */
final class InitScript {
    /** Starts every line /init prints about itself. */
    static final String MARK = "RKMOD-VMTEST:";
    /** What the KVM probe's /init prints when it runs. */
    static final String KVM_OK = MARK + " kvm-ok";

    private InitScript() {
    }

    /** Where module {@code i} (0-based) lies in the initramfs. */
    static String moduleFile(int i, LoadedModule m) {
        return "modules/" + (i + 1) + "-" + m.name() + ".ko";
    }

    /** The /init script; {@code hold} seconds pass between loading and unloading. */
    static String text(List<LoadedModule> modules, double hold) {
        StringBuilder init = new StringBuilder("#!/bin/busybox sh\n");
        init.append("B=/bin/busybox\n$B mount -t proc proc /proc\n$B mount -t sysfs sysfs /sys\n");
        init.append("$B mount -t devtmpfs devtmpfs /dev 2>/dev/null\n");
        init.append("echo '").append(MARK).append(" booted'\n");
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
        init.append("echo '").append(MARK).append(" done'\n$B reboot -f\n");
        return init.toString();
    }

    /** The test VM's initramfs (cpio newc). */
    static byte[] initramfs(List<LoadedModule> modules, Path busybox, double hold) throws IOException {
        CpioNewc cpio = new CpioNewc().dir("bin").dir("dev").dir("proc").dir("sys").dir("modules")
                .file("bin/busybox", 0755, Files.readAllBytes(busybox)).symlink("bin/sh", "busybox");
        for (int i = 0; i < modules.size(); i++) {
            cpio.file(moduleFile(i, modules.get(i)), 0644, Files.readAllBytes(modules.get(i).spec().ko()));
        }
        cpio.file("init", 0755, text(modules, hold).getBytes(StandardCharsets.UTF_8));
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
