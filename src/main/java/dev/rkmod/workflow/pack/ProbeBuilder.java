package dev.rkmod.workflow.pack;

import dev.rkmod.workflow.tree.KernelTree;
import dev.rkmod.infra.event.Stage;
import dev.rkmod.infra.process.ProcessFailedException;
import dev.rkmod.infra.process.ProcessSpec;
import dev.rkmod.model.ExitCode;
import dev.rkmod.model.KernelGeneration;
import dev.rkmod.model.RkmodException;
import dev.rkmod.workflow.Context;
import dev.rkmod.workflow.scaffold.ModuleTemplates;
import dev.rkmod.workflow.toolchain.Toolchain;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Builds the probe modules (one C, one Rust in the tree's module syntax) against a relocated package,
 * with the recorded rustc and LLVM=1 when the kernel was clang-built.
 */
final class ProbeBuilder {
    private static final Duration PROBE_TIMEOUT = Duration.ofMinutes(10);

    private final Context ctx;

    ProbeBuilder(Context ctx) {
        this.ctx = ctx;
    }

    /** Builds both probes in {@code work}; returns the .ko files. */
    List<Path> build(KernelTree tree, Toolchain toolchain, Path work) throws IOException {
        Path c = Files.createDirectories(work.resolve("probe_c"));
        Files.writeString(c.resolve("rkmod_probe_c.c"), ModuleTemplates.resource("c_probe.c"));
        Files.writeString(c.resolve("Kbuild"), "obj-m := rkmod_probe_c.o\n");
        Path rs = Files.createDirectories(work.resolve("probe_rs"));
        Files.writeString(rs.resolve("rkmod_probe_rs.rs"), ModuleTemplates.rust(tree.generation().syntax(),
                "rkmod_probe_rs", "rkmod Rust probe", "rkmod"));
        Files.writeString(rs.resolve("Kbuild"), "obj-m := rkmod_probe_rs.o\n");
        List<Path> kos = new ArrayList<>();
        try (Toolchain.Shell s = toolchain.open(ctx, List.of(tree.dir(), work))) {
            kos.add(make(s, tree, c, "C", "rkmod_probe_c.ko"));
            kos.add(make(s, tree, rs, "Rust", "rkmod_probe_rs.ko"));
            rustAvailable(s, tree);
        }
        return kos;
    }

    /**
     * The kernel's own Rust probe, run as kbuild runs it ({@code make rustavailable}, with the variables a module
     * build gets): DKMS packages of mixed C and Rust run it to decide whether to build their Rust parts, and build
     * without them, silently, when it fails.
     */
    private void rustAvailable(Toolchain.Shell s, KernelTree tree) {
        List<String> argv = new ArrayList<>(List.of("make", "-C", tree.dir().toString()));
        if (tree.llvm()) {
            argv.add("LLVM=1");
        }
        argv.add("RUSTC=" + s.toolchain().rustc());
        argv.add("BINDGEN=" + s.toolchain().bindgen());
        argv.add("rustavailable");
        try (Stage stage = Stage.start(ctx.events(), "probe rustavailable", KernelGeneration.RUST_PROBE + " in " + tree.dir())) {
            try {
                ctx.runner().run(s.spec(null, argv).label("make rustavailable").timeout(PROBE_TIMEOUT)
                        .failureCode(ExitCode.CHECK_FAILED));
            } catch (ProcessFailedException e) {
                throw new RkmodException(ExitCode.CHECK_FAILED,
                        "Verification failed: the kernel's Rust probe (" + KernelGeneration.RUST_PROBE + ") says Rust is not"
                                + " available in the relocated package with " + s.toolchain().rustc(),
                        "make rustavailable said:\n  " + String.join("\n  ", e.result().tail()) + "\nDKMS packages of"
                                + " mixed C and Rust run this probe and build without their Rust parts when it fails",
                        "Install what it names (rust-src of the kernel's rustc, the kernel's bindgen and libclang); full log: "
                                + e.result().log());
            }
            stage.ok();
        }
    }

    private Path make(Toolchain.Shell s, KernelTree tree, Path dir, String kind, String ko) {
        List<String> argv = new ArrayList<>(List.of("make", "-C", tree.dir().toString(), "M=" + dir));
        if (tree.llvm()) {
            argv.add("LLVM=1");
        }
        argv.add("RUSTC=" + s.toolchain().rustc());
        argv.add("modules");
        try (Stage stage = Stage.start(ctx.events(), "probe " + kind, "make M=" + dir.getFileName() + " against " + tree.dir())) {
            try {
                ctx.runner().run(s.spec(null, argv).label("make " + kind + " probe").timeout(PROBE_TIMEOUT)
                        .failureCode(ExitCode.CHECK_FAILED));
            } catch (ProcessFailedException e) {
                throw new RkmodException(ExitCode.CHECK_FAILED,
                        "Verification failed: the " + kind + " probe module does not build against the relocated package",
                        "make said:\n  " + String.join("\n  ", e.result().tail()),
                        "The package lacks something an external " + kind + " build needs; full log: " + e.result().log());
            }
            Path out = dir.resolve(ko);
            if (!Files.isRegularFile(out)) {
                throw new RkmodException(ExitCode.CHECK_FAILED, "Verification failed: make produced no " + ko, null,
                        "See the make output");
            }
            stage.ok();
            return out;
        }
    }
}
