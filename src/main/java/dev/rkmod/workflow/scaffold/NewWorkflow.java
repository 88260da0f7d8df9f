package dev.rkmod.workflow.scaffold;

import dev.rkmod.format.ProjectToml;
import dev.rkmod.infra.fs.FileOps;
import dev.rkmod.model.ExitCode;
import dev.rkmod.model.KernelGeneration;
import dev.rkmod.model.RkmodException;
import dev.rkmod.workflow.tree.KernelTree;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

/** `rkmod new`: a module project in the kernel generation's syntax, detected from KDIR's contents. */
public final class NewWorkflow {

    /** What was written. */
    public record Created(Path dir, KernelGeneration generation, List<String> files, List<String> expect) { }

    public Created create(String name, Optional<Path> kdir, Optional<String> generationId, Path dir, String description,
                          String author, boolean force) {
        ModuleTemplates.checkModuleName(name);
        KernelGeneration gen;
        if (kdir.isPresent() && generationId.isPresent()) {
            throw new RkmodException(ExitCode.USAGE, "--kdir and --generation cannot be used together",
                    "--kdir detects the module API from the tree's contents, --generation names it without a tree, and the"
                            + " two could disagree; nothing was written", "Pass one of them");
        }
        if (kdir.isPresent()) {
            gen = KernelTree.open(kdir.get()).generation();
        } else if (generationId.isPresent()) {
            gen = KernelGeneration.byId(generationId.get()).orElseThrow(() -> new RkmodException(ExitCode.USAGE,
                    "Unknown generation '" + generationId.get() + "'",
                    "Known generations: " + Arrays.stream(KernelGeneration.values()).map(KernelGeneration::id).toList(),
                    "Pass one of them, or --kdir to detect it"));
        } else {
            throw new RkmodException(ExitCode.USAGE, "rkmod new needs --kdir or --generation",
                    "The module! syntax and allocation API differ between kernel generations",
                    "Pass --kdir with the kernel tree or package you will build against");
        }
        if (Files.exists(dir) && !force && !isEmptyDir(dir)) {
            throw new RkmodException(ExitCode.USAGE, dir + " already exists and is not empty", null,
                    "Choose another --dir, or pass --force to write into it");
        }
        List<String> expect = List.of(name + ": " + description + " (init)", name + ": My numbers are [72, 108, 200]",
                name + ": " + description + " (exit)");
        Map<String, String> files = new LinkedHashMap<>();
        files.put("Kbuild", "obj-m := " + name + ".o\n");
        files.put("Makefile", ModuleTemplates.resource("project/Makefile"));
        files.put(name + ".rs", ModuleTemplates.rust(gen.syntax(), name, description, author));
        files.put("README.md", ModuleTemplates.resource("project/README.md").replace("@NAME@", name)
                .replace("@GENERATION@", gen.id()));
        files.put(".gitignore", ModuleTemplates.resource("project/gitignore"));
        files.put(ProjectToml.FILE, new ProjectToml(name, gen.id(),
                kdir.map(p -> p.toAbsolutePath().normalize().toString()).orElse(null), expect).format());
        // what this call creates is removed again if a write fails (read-only or full file system): no half project
        Path created = null;
        for (Path p = dir.toAbsolutePath().normalize(); p != null && !Files.exists(p, LinkOption.NOFOLLOW_LINKS); p = p.getParent()) {
            created = p;
        }
        List<Path> written = new ArrayList<>();
        try {
            Files.createDirectories(dir);
            files.forEach((f, content) -> {
                Path target = dir.resolve(f);
                if (!Files.exists(target, LinkOption.NOFOLLOW_LINKS)) {
                    written.add(target);
                }
                FileOps.writeAtomically(target, content.getBytes(StandardCharsets.UTF_8));
            });
        } catch (IOException | RuntimeException e) {
            for (Path w : written) {
                try {
                    Files.deleteIfExists(w);
                } catch (IOException ignored) {
                    // best effort: the directory below is removed as a whole when this call made it
                }
            }
            if (created != null) {
                FileOps.deleteTree(created);
            }
            if (e instanceof RkmodException r) {
                throw new RkmodException(r.exitCode(), r.what(), r.why(), (r.fix() == null ? "" : r.fix() + ". ")
                        + "Nothing of the project was left behind");
            }
            String why = e instanceof java.nio.file.AccessDeniedException ? "Permission denied"
                    : e instanceof java.nio.file.FileSystemException f && f.getReason() != null ? f.getReason() : e.getMessage();
            throw new RkmodException(ExitCode.ENVIRONMENT, "Cannot create " + dir, why,
                    "Choose a --dir on a writable file system with free space", e);
        }
        return new Created(dir.toAbsolutePath().normalize(), gen, List.copyOf(files.keySet()), expect);
    }

    private static boolean isEmptyDir(Path dir) {
        try (Stream<Path> s = Files.list(dir)) {
            return s.findAny().isEmpty();
        } catch (IOException e) {
            return false;
        }
    }
}
