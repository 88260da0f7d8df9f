package dev.rkmod.infra.host;

import dev.rkmod.format.OsRelease;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;

/**
 * Facts about the machine rkmod runs on. Paths are fields so tests can point them at fixtures.
 *
 * @param fsRoot the file system root ("/" normally) below which /var/lib/dpkg/status, /etc/apt and
 *               /etc/os-release are read
 * @param uid    the effective user id
 * @param env    the environment
 */
public record Host(Path fsRoot, int uid, Map<String, String> env) {

    public static Host current() {
        return new Host(Path.of("/"), readUid(), System.getenv());
    }

    public Path dpkgStatus() {
        return fsRoot.resolve("var/lib/dpkg/status");
    }

    public Path etcApt() {
        return fsRoot.resolve("etc/apt");
    }

    public OsRelease osRelease() {
        try {
            return OsRelease.read(fsRoot.resolve("etc/os-release"));
        } catch (IOException e) {
            return OsRelease.parse("");
        }
    }

    /** The running kernel's release, as {@code uname -r} prints it. */
    public String kernelRelease() {
        try {
            return java.nio.file.Files.readString(fsRoot.resolve("proc/sys/kernel/osrelease")).strip();
        } catch (java.io.IOException e) {
            return System.getProperty("os.version");
        }
    }

    /** {@code /lib/modules/$(uname -r)/build}: where the running kernel's headers are. */
    public Path runningKernelBuildDir() {
        return fsRoot.resolve("lib/modules").resolve(kernelRelease()).resolve("build");
    }

    public boolean isRoot() {
        return uid == 0;
    }

    /** Debian (or a derivative) with apt-get available. */
    public boolean isDebian() {
        return osRelease().isDebianFamily() && Files.isRegularFile(dpkgStatus()) && which("apt-get").isPresent();
    }

    /** The Debian architecture name of this JVM's machine. */
    public String debianArch() {
        String a = System.getProperty("os.arch");
        return switch (a) {
            case "amd64", "x86_64" -> "amd64";
            case "aarch64" -> "arm64";
            default -> a;
        };
    }

    /** Finds an executable on PATH. */
    public Optional<Path> which(String name) {
        String path = env.getOrDefault("PATH", "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin");
        for (String dir : path.split(":")) {
            if (dir.isEmpty()) {
                continue;
            }
            Path p = Path.of(dir, name);
            if (Files.isRegularFile(p) && Files.isExecutable(p)) {
                return Optional.of(p);
            }
        }
        for (String dir : new String[] {"/usr/sbin", "/sbin"}) {
            Path p = Path.of(dir, name);
            if (Files.isRegularFile(p) && Files.isExecutable(p)) {
                return Optional.of(p);
            }
        }
        return Optional.empty();
    }

    /**
     * The effective user id: the second number of /proc/self/status's "Uid:" line, read as bytes (every command
     * starts with this; lines, a charset decoder and a regular expression cost a few ms in a fresh JVM).
     */
    private static int readUid() {
        try {
            byte[] status = Files.readAllBytes(Path.of("/proc/self/status"));
            int i = dev.rkmod.format.Bytes.indexOf(status, "\nUid:".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            if (i < 0) {
                return -1;
            }
            i += 5;
            for (int field = 0; field < 2; field++) {
                while (i < status.length && (status[i] == ' ' || status[i] == '\t')) {
                    i++;
                }
                long v = 0;
                int start = i;
                while (i < status.length && status[i] >= '0' && status[i] <= '9' && i - start < 10) {
                    v = v * 10 + (status[i++] - '0');
                }
                if (i == start || v > Integer.MAX_VALUE) {
                    return -1;
                }
                if (field == 1) {
                    return (int) v;
                }
            }
        } catch (IOException | RuntimeException e) {
            // fall through: unknown, treat as unprivileged
        }
        return -1;
    }
}
