package dev.rkmod.workflow.vm;

import dev.rkmod.format.FormatException;
import dev.rkmod.format.KernelManifest;
import dev.rkmod.infra.event.EventSink;
import dev.rkmod.model.ExitCode;
import dev.rkmod.model.RkmodException;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The modules of a kernel build tree ('rkmod kernel build', or any tree with modules.order), for the dependencies
 * vmtest loads: the tree the image belongs to, and a scratch {@code lib/modules/RELEASE} laid out as
 * {@code make modules_install} would (each module of modules.order as {@code kernel/PATH.ko}, here a link to the
 * tree's file), which depmod then indexes.
 */
final class KernelTreeModules {
    private static final int MAX_PARENTS = 5;

    private KernelTreeModules() {
    }

    /**
     * The kernel build tree whose modules belong to the booted image of {@code release}: {@code kdir} when it has a
     * modules.order and is of that release; else, for a bare image, the tree it lies in (the directory whose
     * rkmod-kernel.json names it, or whose arch/x86/boot/bzImage it is).
     */
    static Optional<Path> treeOf(Optional<Path> kdir, Path image, String release) {
        if (kdir.isPresent()) {
            return kdir.filter(d -> isTreeOf(d, release));
        }
        Path p = image.toAbsolutePath().normalize().getParent();
        for (int i = 0; p != null && i < MAX_PARENTS; i++, p = p.getParent()) {
            Path dir = p;
            boolean holds = sameFile(VmTestWorkflow.treeImage(dir), image);
            if (holds && isTreeOf(dir, release)) {
                return Optional.of(dir);
            }
        }
        return Optional.empty();
    }

    private static boolean isTreeOf(Path dir, String release) {
        if (!Files.isRegularFile(dir.resolve("modules.order"))) {
            return false;
        }
        String r = KernelManifest.read(dir).map(KernelManifest::release).orElseGet(() -> {
            try {
                return Files.readString(dir.resolve("include/config/kernel.release"), StandardCharsets.UTF_8).strip();
            } catch (IOException e) {
                return "";
            }
        });
        return release.equals(r);
    }

    private static boolean sameFile(Path a, Path b) {
        try {
            return Files.exists(a) && Files.isSameFile(a, b);
        } catch (IOException e) {
            return false;
        }
    }

    /**
     * Lays out {@code tree}'s modules under {@code root}/lib/modules/{@code release}, as links, with its
     * modules.builtin; returns that directory. A module modules.order lists but the tree lacks is left out (and said).
     */
    static Path stage(Path tree, String release, Path root, EventSink events) {
        Path dir = root.resolve("lib/modules").resolve(release);
        try {
            Files.createDirectories(dir.resolve("kernel"));
            List<String> order = new ArrayList<>();
            for (String line : Files.readAllLines(tree.resolve("modules.order"), StandardCharsets.UTF_8)) {
                String rel = line.strip();
                if (rel.isEmpty()) {
                    continue;
                }
                if (rel.endsWith(".o")) {
                    rel = rel.substring(0, rel.length() - 2) + ".ko"; // 6.2+ lists the objects
                }
                if (rel.startsWith("/") || rel.startsWith("../") || rel.contains("/../") || !rel.endsWith(".ko")) {
                    throw new FormatException(FormatException.Reason.CORRUPT, tree.resolve("modules.order")
                            + " names '" + line + "'", "Every entry is the path of a module inside the build tree",
                            "Build the kernel again");
                }
                Path ko = tree.resolve(rel);
                if (!Files.isRegularFile(ko, LinkOption.NOFOLLOW_LINKS)) {
                    events.debug(tree + " lacks " + rel + ", which modules.order lists; left out of the dependencies");
                    continue;
                }
                Path link = dir.resolve("kernel").resolve(rel);
                Files.createDirectories(link.getParent());
                Files.createSymbolicLink(link, ko.toAbsolutePath());
                order.add("kernel/" + rel);
            }
            Files.writeString(dir.resolve("modules.order"), order.isEmpty() ? "" : String.join("\n", order) + "\n");
            for (String f : List.of("modules.builtin", "modules.builtin.modinfo")) {
                if (Files.isRegularFile(tree.resolve(f))) {
                    Files.copy(tree.resolve(f), dir.resolve(f));
                }
            }
            return dir;
        } catch (IOException e) {
            throw new RkmodException(ExitCode.ENVIRONMENT, "Cannot lay out the modules of " + tree + " for depmod",
                    e.getMessage(), "Check that the kernel tree is readable and the cache's scratch space writable", e);
        }
    }
}
