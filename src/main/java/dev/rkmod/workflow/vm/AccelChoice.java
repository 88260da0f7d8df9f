package dev.rkmod.workflow.vm;

import dev.rkmod.infra.event.Stage;
import dev.rkmod.infra.fs.FileOps;
import dev.rkmod.infra.process.ProcessResult;
import dev.rkmod.infra.process.ProcessSpec;
import dev.rkmod.model.ExitCode;
import dev.rkmod.model.RkmodException;
import dev.rkmod.workflow.Context;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;

/**
 * Chooses TCG or KVM. {@code --kvm auto} uses KVM only when a quick boot with it really reaches /init (on
 * some machines QEMU hangs at "Booting from ROM" with -enable-kvm). The probe's result and its cause are
 * remembered until reboot: a hang is final, but a probe that failed quickly (for example /dev/kvm busy because
 * another VM holds it) is tried again on the next run.
 */
final class AccelChoice {
    private static final Path KVM = Path.of("/dev/kvm");
    private static final Duration PROBE_TIMEOUT = Duration.ofSeconds(8);

    private final Context ctx;

    AccelChoice(Context ctx) {
        this.ctx = ctx;
    }

    Accel choose(VmTestWorkflow.Kvm mode, Path qemu, Path bz, Path busybox, Path work) throws IOException {
        if (mode == VmTestWorkflow.Kvm.OFF) {
            return Accel.TCG;
        }
        boolean dev = Files.isReadable(KVM) && Files.isWritable(KVM);
        if (mode == VmTestWorkflow.Kvm.ON) {
            if (!dev) {
                throw new RkmodException(ExitCode.ENVIRONMENT, "--kvm on, but /dev/kvm is not usable", null,
                        "Use --kvm auto or off");
            }
            return Accel.KVM;
        }
        if (!dev) {
            ctx.events().info("KVM: /dev/kvm is not usable; using TCG");
            return Accel.TCG;
        }
        String bootId = Files.readString(Path.of("/proc/sys/kernel/random/boot_id")).strip();
        Path memo = ctx.cache().root().resolve("kvm-probe-" + bootId);
        Optional<ProbeMemo> remembered = Files.isRegularFile(memo) ? ProbeMemo.parse(Files.readString(memo)) : Optional.empty();
        if (remembered.isPresent() && remembered.get().reusable()) {
            if (remembered.get().accel() == Accel.TCG) {
                ctx.events().info("KVM: an earlier probe on this boot hung; using TCG");
            }
            return remembered.get().accel();
        }
        if (remembered.isPresent()) {
            ctx.events().info("KVM: the last probe failed without hanging (" + remembered.get().detail() + "); probing again");
        }
        Path probe = work.resolve("probe.cpio");
        Files.write(probe, InitScript.kvmProbe(busybox));
        ProcessResult r;
        try (Stage stage = Stage.start(ctx.events(), "kvm probe", "/dev/kvm exists; checking that QEMU really boots with it")) {
            r = ctx.runner().run(ProcessSpec.of(QemuCommand.kvmProbe(qemu, bz, probe)).label("qemu-kvm-probe")
                    .timeout(PROBE_TIMEOUT).capture().quiet().noLog().allowFailure());
            stage.ok();
        }
        ProbeMemo result = ProbeMemo.of(r.output().stream().anyMatch(l -> l.contains(InitScript.KVM_OK)), r.timedOut(),
                r.output());
        FileOps.writeAtomically(memo, result.format().getBytes(StandardCharsets.UTF_8));
        Accel accel = result.accel();
        if (accel == Accel.TCG) {
            ctx.events().info("KVM: /dev/kvm exists but QEMU " + (result.cause() == ProbeMemo.Cause.HANG ? "hung"
                    : "failed (" + result.detail() + ")") + " with -enable-kvm; using TCG");
        }
        return accel;
    }
}
