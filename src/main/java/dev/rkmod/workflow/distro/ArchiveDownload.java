package dev.rkmod.workflow.distro;

import dev.rkmod.infra.host.Chroot;
import dev.rkmod.infra.process.ProcessResult;
import dev.rkmod.workflow.Context;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/** One package of a version out of the archive, with the profile root's {@code apt-get download}; nothing is installed. */
final class ArchiveDownload {
    static final Duration APT_TIMEOUT = Duration.ofMinutes(20);

    private ArchiveDownload() {
    }

    /**
     * Downloads {@code pkg=version} into {@code download} (a directory the chroot session {@code c} binds) and returns
     * the .deb, or null when apt-get could not (the archive no longer has it, the package does not exist).
     */
    static Path fetch(Context ctx, Chroot c, Path download, String pkg, String version) throws IOException {
        ProcessResult r = ctx.runner().run(c.spec(download.toString(), List.of(),
                        List.of("apt-get", "-q", "-o", "APT::Sandbox::User=root", "download", pkg + "=" + version))
                .label("apt-get").timeout(APT_TIMEOUT).capture().allowFailure());
        Path deb = firstDeb(download);
        if (!r.ok() && deb != null) {
            Files.delete(deb);
            return null;
        }
        return r.ok() ? deb : null;
    }

    private static Path firstDeb(Path dir) throws IOException {
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, "*.deb")) {
            for (Path p : ds) {
                return p;
            }
        }
        return null;
    }
}
