package dev.rkmod.cli;

import dev.rkmod.model.ExitCode;
import dev.rkmod.workflow.kernel.KernelPackageWorkflow;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.Callable;

@Command(name = "package", mixinStandardHelpOptions = true,
        header = "Package an rkmod-built kernel as linux-image-RELEASE (.deb) or linux-rust (Arch).",
        description = "Package the image, modules, System.map and config of an rkmod-built kernel as linux-image-RELEASE (.deb: "
            + "/boot/vmlinuz-RELEASE, /lib/modules/RELEASE) or linux-rust (Arch: /usr/lib/modules/RELEASE/vmlinuz). "
            + "The modules are laid out as 'make modules_install' lays them out, with depmod's index. Reproducible "
            + "(SOURCE_DATE_EPOCH is honoured) and written atomically.")
final class KernelPackageCommand implements Callable<Integer> {
    private final Session session;
    @Option(names = "--kdir", paramLabel = "BUILD_TREE", description = "The kernel build tree (default: the only cached kernel).") Path kdir;
    @Option(names = "--out", required = true, paramLabel = "DIR", description = "Directory the package is written to.") Path out;
    @Option(names = "--format", required = true, paramLabel = "deb|arch", description = "The package format.") KernelPackageWorkflow.Format format;
    @Mixin OutputOptions output = new OutputOptions();

    KernelPackageCommand(Session session) {
        this.session = session;
    }

    @Override
    public Integer call() {
        KernelPackageWorkflow.Packaged p = new KernelPackageWorkflow(session.context(output)).pack(Optional.ofNullable(kdir),
                out, format, VersionProvider.version());
        if (output.json()) {
            session.out().println(Json.write(p));
        } else {
            session.out().println("wrote " + p.file() + " (" + p.name() + " " + p.version() + ", " + p.modules()
                    + " modules, " + p.bytes() + " bytes)");
        }
        return ExitCode.OK.code();
    }
}
