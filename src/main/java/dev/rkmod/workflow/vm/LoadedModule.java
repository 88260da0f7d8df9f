package dev.rkmod.workflow.vm;

import dev.rkmod.format.ElfFile;
import dev.rkmod.format.FormatException;
import dev.rkmod.format.ModInfo;
import dev.rkmod.format.ModuleSignature;
import dev.rkmod.model.ExitCode;
import dev.rkmod.model.RkmodException;

import java.io.IOException;
import java.nio.file.Files;
import java.util.Arrays;
import java.util.List;

/**
 * A module the VM will load: its name, vermagic and the modules it depends on ({@code depends=}, which modpost writes)
 * from .modinfo, checked against the kernel before booting.
 */
record LoadedModule(VmTestWorkflow.ModuleSpec spec, String name, String vermagic, List<String> depends) {

    LoadedModule(VmTestWorkflow.ModuleSpec spec, String name, String vermagic) {
        this(spec, name, vermagic, List.of());
    }

    /** Reads {@code m}'s .modinfo; a module built for another release is refused here, not by the VM. */
    static LoadedModule inspect(VmTestWorkflow.ModuleSpec m, String release) {
        byte[] data;
        try {
            data = Files.readAllBytes(m.ko());
        } catch (IOException e) {
            throw new RkmodException(ExitCode.USAGE, "Cannot read the module " + m.ko(), e.getMessage(),
                    "Pass a .ko file built with 'rkmod build'");
        }
        ModInfo info;
        try {
            info = ModInfo.of(ElfFile.parse(data, ModuleSignature.unsignedLength(data)));
        } catch (FormatException e) {
            throw new RkmodException(ExitCode.USAGE, m.ko() + " is not a kernel module: " + e.what(), e.why(),
                    "Pass a .ko file built with 'rkmod build'");
        }
        String name = info.get("name").orElseThrow(() -> new RkmodException(ExitCode.USAGE, m.ko() + " has no module name",
                "Its .modinfo lacks name=", "Rebuild it with kbuild"));
        String vermagic = info.get("vermagic").orElse("");
        String modRelease = vermagic.split(" ")[0];
        if (!modRelease.equals(release)) {
            throw new RkmodException(ExitCode.CHECK_FAILED, m.ko().getFileName() + " was built for Linux " + modRelease
                    + ", not for this kernel (" + release + ")",
                    "Its vermagic '" + vermagic.strip() + "' does not match, and the kernel would refuse it with 'Invalid"
                            + " module format'; checked before booting",
                    "Build the module against this kernel's tree or package: 'rkmod build --kdir KDIR'");
        }
        List<String> depends = Arrays.stream(info.get("depends").orElse("").split(",")).map(String::strip)
                .filter(d -> !d.isEmpty()).distinct().toList();
        return new LoadedModule(m, name, vermagic, depends);
    }
}
