package dev.rkmod.model;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * One case per catalogue entry, on real error text: captured from real failed builds on this machine
 * where it can produce them (marked "captured"), otherwise the text recorded in the failure catalogue.
 */
class FailureCatalogueTest {

    static final Map<String, String> SAMPLES = new LinkedHashMap<>();

    static {
        // the build step 'rkmod dkms init' ships (DkmsScriptTest checks the script prints these very lines)
        SAMPLES.put("dkms.missing-rust-metadata", "rkmod-dkms-build: error: The headers of Linux 7.2.13+deb14-amd64 in"
                + " /lib/modules/7.2.13+deb14-amd64/build lack the Rust metadata a Rust module is compiled against (missing:"
                + " rust/libcore.rmeta rust/libkernel.rmeta rust/libmacros.so target.json). [...] rustc would stop with E0463"
                + " can't find crate for `core`");
        SAMPLES.put("dkms.no-rustc", "rkmod-dkms-build: error: No rustc on this machine prints 'rustc 1.63.0' [...] any"
                + " other stops with E0514 (found crate `core` compiled by an incompatible version of rustc)");
        SAMPLES.put("dkms.rust-off", "rkmod-dkms-build: error: Linux 6.1.0-9-amd64 was built without Rust support");
        // dkms 3.0.10's own words
        SAMPLES.put("dkms.bad-return-status", "Error! Bad return status for module build on kernel: 6.1.192 (x86_64)");
        SAMPLES.put("dkms.headers-not-found", "Error! Your kernel headers for kernel 6.1.0-9-amd64 cannot be found at"
                + " /lib/modules/6.1.0-9-amd64/build or /lib/modules/6.1.0-9-amd64/source.");
        // captured: rustup's rustc 1.95 against the 6.1 package
        SAMPLES.put("rustc.wrong-compiler",
                "error: error loading target specification: custom targets are unstable and require -Zunstable-options");
        SAMPLES.put("rustc.E0514", "error[E0514]: found crate `core` compiled by an incompatible version of rustc");
        // captured: rustup's rustc 1.95, a crate built for a custom target whose file then changed
        SAMPLES.put("target.E0461", "error[E0461]: couldn't find crate `core` with expected target triple target-12809083303779448358");
        SAMPLES.put("rust.E0460", "error[E0460]: found possibly newer version of crate `kernel` which `macros` depends on");
        SAMPLES.put("rust.missing-macros", "error[E0463]: can't find crate for `macros`");
        SAMPLES.put("rust.E0463", "error[E0463]: can't find crate for `core`");
        SAMPLES.put("rust.missing-target-spec", "error: target file \"./rust/target.json\" does not exist");
        // captured: the kernel's rust_driver_usb against Debian's 7.2.13 (CONFIG_USB=m)
        SAMPLES.put("api.config-gated", "error[E0432]: unresolved import `kernel::usb`");
        // captured: a module calling kernel::warn_on! against a completed 7.2 package made before rkmod shipped the file
        SAMPLES.put("rust.missing-macro-include", "error: couldn't read `/tmp/story/linux-7.2-rust/rust/kernel/"
                + "generated_arch_warn_asm.rs`: No such file or directory (os error 2)");
        SAMPLES.put("kbuild.missing-generated",
                "make[1]: *** No rule to make target 'include/generated/rustc_cfg', needed by 'hello.o'.  Stop.");
        SAMPLES.put("cc.llvm-needed", "gcc: error: unrecognized command-line option '-mretpoline-external-thunk'");
        SAMPLES.put("cc.llvm-link-missing", "/bin/sh: 1: llvm-link: not found");
        SAMPLES.put("rustc.too-new", "*** Rust compiler 'rustc' is too new. This may or may not work.");
        // captured: a 6.1-syntax module (b"..." strings) against the 6.12.117 package
        SAMPLES.put("api.module-macro-syntax", "   = help: message: Expected string");
        // captured: the same module's Vec::try_push against 6.12.117
        SAMPLES.put("api.allocation",
                "error[E0599]: no method named `try_push` found for struct `kernel::alloc::Vec<_, _>` in the current scope");
        SAMPLES.put("load.modversions", "[    1.2] hello: disagrees about version of symbol module_layout");
        SAMPLES.put("load.unknown-symbol", "[    1.2] hello: Unknown symbol _RNvNtCs1_kernel5print11call_printk (err -2)");
        SAMPLES.put("load.invalid-format", "insmod: can't insert 'hello.ko': Invalid module format");
        // captured: VmtestIT's module that panics in init, on the tiny 6.1 kernel
        SAMPLES.put("load.crash", "[    0.491061] kernel BUG at rust/helpers.c:26!");
    }

    static Stream<String> ids() {
        return FailureCatalogue.get().entries().stream().map(FailureCatalogue.Entry::id);
    }

    @Test
    void everyEntryHasASample() {
        assertThat(SAMPLES.keySet()).containsExactlyInAnyOrderElementsOf(ids().toList());
    }

    @ParameterizedTest
    @MethodSource("ids")
    void eachEntryRecognisesItsText(String id) {
        List<FailureCatalogue.Match> m = FailureCatalogue.get().explain(List.of("  RUSTC [M] hello.o", SAMPLES.get(id)));
        assertThat(m).extracting(x -> x.entry().id()).containsExactly(id);
        assertThat(m.get(0).entry().cause()).isNotBlank();
        assertThat(m.get(0).line()).isEqualTo(SAMPLES.get(id).strip());
    }

    @Test
    void unrelatedOutputMatchesNothing() {
        assertThat(FailureCatalogue.get().explain(List.of("  CC [M]  hello.o", "  LD [M]  hello.ko", "make: Leaving"))).isEmpty();
    }

    @Test
    void the7xModuleMacroOfAnotherGenerationIsRecognised() {
        // captured: a 6.1-syntax module (b"..." strings) against Debian's 7.2.13, whose module! is parsed with syn
        List<FailureCatalogue.Match> m = FailureCatalogue.get().explain(List.of("  RUSTC [M] demo_mod.o",
                "error: expected string literal", " --> demo_mod.rs:9:11", "9 |     name: b\"demo_mod\","));
        assertThat(m).extracting(x -> x.entry().id()).containsExactly("api.module-macro-syntax");
        assertThat(FailureCatalogue.get().explain(List.of("note: expected string literal here"))).isEmpty();
    }

    @Test
    void severalFailuresAreEachExplainedOnce() {
        List<FailureCatalogue.Match> m = FailureCatalogue.get().explain(List.of(
                SAMPLES.get("api.allocation"), SAMPLES.get("api.module-macro-syntax"), SAMPLES.get("api.allocation")));
        assertThat(m).extracting(x -> x.entry().id()).containsExactly("api.module-macro-syntax", "api.allocation");
    }
}
