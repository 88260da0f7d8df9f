package dev.rkmod.workflow.vm;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class ProbeMemoTest {
    @Test
    void aHangIsFinalButAQuickFailureIsProbedAgain() {
        ProbeMemo hang = ProbeMemo.of(false, true, List.of("SeaBIOS", "Booting from ROM.."));
        assertThat(hang.reusable()).isTrue();
        assertThat(hang.accel()).isEqualTo(Accel.TCG);
        assertThat(ProbeMemo.parse(hang.format())).contains(hang);

        ProbeMemo busy = ProbeMemo.of(false, false, List.of("",
                "qemu-system-x86_64: Could not access KVM kernel module: Device or resource busy",
                "qemu-system-x86_64: failed to initialize kvm: Device or resource busy"));
        assertThat(busy.reusable()).isFalse();
        assertThat(busy.cause()).isEqualTo(ProbeMemo.Cause.FAILED);
        assertThat(busy.detail()).isEqualTo("qemu-system-x86_64: Could not access KVM kernel module: Device or resource busy");
        assertThat(ProbeMemo.parse(busy.format())).contains(busy);

        ProbeMemo kvm = ProbeMemo.of(true, false, List.of("rkmod-kvm-ok"));
        assertThat(kvm.accel()).isEqualTo(Accel.KVM);
        assertThat(kvm.reusable()).isTrue();
        assertThat(ProbeMemo.parse(kvm.format())).contains(kvm);
    }

    @Test
    void anOldMemoIsAHangAndGarbageIsNoMemo() {
        assertThat(ProbeMemo.parse("tcg\n")).contains(new ProbeMemo(Accel.TCG, ProbeMemo.Cause.HANG, ""));
        assertThat(ProbeMemo.parse("kvm\n")).contains(new ProbeMemo(Accel.KVM, ProbeMemo.Cause.NONE, ""));
        assertThat(ProbeMemo.parse("")).isEmpty();
        assertThat(ProbeMemo.parse("maybe")).isEmpty();
    }
}
