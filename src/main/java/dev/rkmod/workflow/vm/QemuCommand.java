package dev.rkmod.workflow.vm;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * QEMU command lines: the test VM and the KVM probe. Serial console on stdio, no reboot, no default devices; the
 * test VM gets the devices the user asked for ({@code -device}, in order).
 */
final class QemuCommand {
    /** Images larger than this are generic distro kernels with many built-in drivers. */
    private static final long BIG_IMAGE = 12L << 20;

    private QemuCommand() {
    }

    /** Memory of the test VM in MiB: a generic distro kernel needs more than a tiny one. */
    static String memory(boolean distroKernel, long imageBytes) {
        return distroKernel || imageBytes > BIG_IMAGE ? "512" : "256";
    }

    static List<String> accelArgs(Accel accel) {
        return accel == Accel.KVM ? List.of("-enable-kvm", "-cpu", "host") : List.of("-accel", "tcg");
    }

    /** The test VM: {@code panic=-1} with {@code -no-reboot} ends QEMU on a panic. */
    static List<String> test(Path qemu, String memory, Path bz, Path initrd, Accel accel) {
        return test(qemu, memory, bz, initrd, accel, List.of());
    }

    /** The test VM with {@code devices}: each one {@code -device DEVICE}, after the accelerator's arguments. */
    static List<String> test(Path qemu, String memory, Path bz, Path initrd, Accel accel, List<String> devices) {
        List<String> argv = new ArrayList<>(List.of(qemu.toString(), "-m", memory, "-smp", "1", "-nographic",
                "-no-reboot", "-nodefaults", "-serial", "stdio", "-kernel", bz.toString(), "-initrd", initrd.toString(),
                "-append", "console=ttyS0 panic=-1 loglevel=7"));
        argv.addAll(accelArgs(accel));
        for (String d : devices) {
            argv.add("-device");
            argv.add(d);
        }
        return argv;
    }

    /** A quick boot with KVM that only has to reach /init. */
    static List<String> kvmProbe(Path qemu, Path bz, Path initrd) {
        return List.of(qemu.toString(), "-m", "128", "-nographic", "-no-reboot", "-nodefaults",
                "-serial", "stdio", "-enable-kvm", "-cpu", "host", "-kernel", bz.toString(), "-initrd", initrd.toString(),
                "-append", "console=ttyS0 panic=-1");
    }
}
