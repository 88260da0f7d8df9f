package dev.rkmod.workflow.matrix;

import dev.rkmod.infra.fs.FileOps;

import java.io.IOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.List;
import java.util.regex.Pattern;

/**
 * A module's source, copied for one kernel so that builds never share object files: every file of the module
 * directory except what kbuild made there and hidden directories (.git, CI state, kernel caches).
 */
final class ModuleCopy {
    /** kbuild's outputs in a module directory (what 'rkmod new' puts in .gitignore). */
    private static final List<Pattern> BUILT = List.of(Pattern.compile(".*\\.(o|ko|mod|mod\\.c|mod\\.o|rmeta)"),
            Pattern.compile("\\..*\\.(cmd|d)"), Pattern.compile("Module\\.symvers|modules\\.order"));

    private ModuleCopy() {
    }

    /** Replaces {@code dest} with a copy of the module in {@code src}; returns the number of files copied. */
    static int copy(Path src, Path dest) throws IOException {
        FileOps.deleteTree(dest);
        Files.createDirectories(dest);
        int[] files = {0};
        Files.walkFileTree(src, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) throws IOException {
                if (!dir.equals(src) && (dir.getFileName().toString().startsWith(".") || dir.equals(dest))) {
                    return FileVisitResult.SKIP_SUBTREE;
                }
                Files.createDirectories(dest.resolve(src.relativize(dir).toString()));
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                String name = file.getFileName().toString();
                if (Files.isRegularFile(file) && BUILT.stream().noneMatch(p -> p.matcher(name).matches())) {
                    Files.copy(file, dest.resolve(src.relativize(file).toString()), StandardCopyOption.COPY_ATTRIBUTES);
                    files[0]++;
                }
                return FileVisitResult.CONTINUE;
            }
        });
        return files[0];
    }
}
