package dev.rkmod.it;

import dev.rkmod.infra.cache.Cache;
import dev.rkmod.infra.host.Host;
import dev.rkmod.model.Profile;
import dev.rkmod.workflow.Context;
import dev.rkmod.workflow.toolchain.DebianRoots;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static dev.rkmod.it.ItSetup.run;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Concurrent use with real processes: rkmod processes at once on the same cache, the same Debian root and the same
 * KDIR. Builds of one cache key wait for each other and reuse; module builds in one chroot never unmount each other's
 * /proc or binds; signing one file from four processes leaves one valid signature.
 */
class ConcurrencyIT {
    @ItSetup.Work("rkmod-concurrency")
    static Path work;

    @Test
    void threeModuleBuildsInTheSameRootAgainstTheSameKdirAllPassAndLeaveNoMount() throws Exception {
        Path kdir = ItSetup.kernel("6.12");
        Host host = Host.current();
        Context ctx = Context.create(host, new Cache(Cache.defaultRoot(host.env())), e -> { });
        Path root = new DebianRoots(ctx).find(Profile.LINUX_6_12.root().orElseThrow()).orElseThrow(
                () -> new AssertionError("the trixie root is missing: run 'rkmod deps --install --profile 6.12'"));
        Path logs = work.resolve("build/logs");
        List<Path> dirs = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            Path d = work.resolve("build/m" + i);
            Rkmod.Result n = Rkmod.jar(Map.of(), "new", "conc_" + i, "--kdir", kdir.toString(), "--dir", d.toString());
            assertThat(n.exit()).as(n.err()).isZero();
            dirs.add(d);
        }
        for (int round = 0; round < 1; round++) {
            List<Kill.Run> runs = new ArrayList<>();
            for (Path d : dirs) {
                runs.add(Kill.start(logs, Map.of(), "build", d.toString(), "--kdir", kdir.toString(), "--no-check"));
                // staggered so that one finishes (and closes its session) while the next is in the middle of its make: the
                // old Chroot (mounts shared in the host's namespace) unmounted the KDIR bind under the next build here
                Thread.sleep(6_000);
            }
            for (int i = 0; i < runs.size(); i++) {
                Kill.Run r = runs.get(i);
                assertThat(r.waitExit(900)).as("build " + i + " in round " + round + ":\n" + r.stderr() + r.stdout()).isZero();
                assertThat(dirs.get(i).resolve("conc_" + i + ".ko")).isRegularFile();
            }
            List<String> marks = new ArrayList<>(List.of(work.toString()));
            runs.forEach(r -> marks.add(".pid" + r.process().pid() + "."));
            Kill.assertNothingMounted(List.of(work, kdir), List.of(root), marks.toArray(String[]::new));
        }
        Path dirsFile = root.resolveSibling("." + root.getFileName() + ".rkmod-chroot.dirs");
        assertThat(dirsFile).as("the last session removed the mount points sessions made").doesNotExist();
        assertThat(root.resolve(work.toString().substring(1))).as("no mount point is left in the root").doesNotExist();
    }

    @Test
    void twoBuildsOfOneCacheKeyWaitAndReuse() throws Exception {
        Path xdg = work.resolve("wait/xdg");
        Path logs = work.resolve("wait/logs");
        Map<String, String> env = Map.of("XDG_CACHE_HOME", xdg.toString());
        Kill.Run a = Kill.start(logs, env, "kernel", "build", "--profile", "6.1");
        Thread.sleep(1500);
        Kill.Run b = Kill.start(logs, env, "kernel", "build", "--profile", "6.1");
        long end = System.currentTimeMillis() + 300_000;
        while (!b.stderr().contains("built by another process")) {
            assertThat(System.currentTimeMillis()).as("B never reused A's source:\n" + b.stderr()).isLessThan(end);
            assertThat(b.process().isAlive()).as("B ended:\n" + b.stderr()).isTrue();
            assertThat(a.process().isAlive()).as("A ended:\n" + a.stderr()).isTrue();
            Thread.sleep(100);
        }
        assertThat(b.stderr()).contains("waiting for another rkmod process building kernel source");
        // both now configure and compile the same kernel key: the second waits again, so stop both here (SIGKILL)
        Kill.Outcome ka = Kill.killAfter(a, 0);
        Kill.Outcome kb = Kill.killAfter(b, 0);
        Kill.assertChildrenGone(ka);
        Kill.assertChildrenGone(kb);
        Rkmod.Result list = Rkmod.jar(env, "cache", "list");
        List<String> entries = list.out().lines().filter(l -> !l.startsWith("cache:") && !l.isBlank() && !l.contains("(empty)")).toList();
        assertThat(entries).as(list.out()).hasSize(1);
        assertThat(entries.get(0)).startsWith("source");
        assertThat(a.stderr()).doesNotContain("waiting for another");
        run(List.of("rm", "-rf", "--one-file-system", xdg.toString())); // 1.2 GiB of source: faster than a walk in Java
    }

    @Test
    void fourProcessesSigningOneFileLeaveOneValidSignature() throws Exception {
        Path dir = Files.createDirectories(work.resolve("sign"));
        Path key = dir.resolve("key.pem");
        Path cert = dir.resolve("cert.pem");
        run(List.of("openssl", "req", "-new", "-nodes", "-utf8", "-sha256", "-days", "36500", "-batch", "-x509",
                "-newkey", "rsa:2048", "-keyout", key.toString(), "-out", cert.toString(), "-subj", "/CN=rkmod conc key/"));
        Files.setPosixFilePermissions(key, PosixFilePermissions.fromString("rw-------"));
        byte[] module = Files.readAllBytes(ItSetup.kernel("6.1").resolve("samples/rust/rust_minimal.ko"));
        Path ko = dir.resolve("one.ko");
        for (String force : List.of("--force", "")) {
            for (int round = 0; round < 2; round++) {
                Files.write(ko, module);
                List<Kill.Run> runs = new ArrayList<>();
                for (int i = 0; i < 4; i++) {
                    List<String> args = new ArrayList<>(List.of("sign", ko.toString(), "--key", key.toString(),
                            "--cert", cert.toString(), "-q"));
                    if (!force.isEmpty()) {
                        args.add(force);
                    }
                    runs.add(Kill.start(dir.resolve("logs"), Map.of(), args.toArray(String[]::new)));
                }
                int ok = 0;
                for (Kill.Run r : runs) {
                    int exit = r.waitExit(300);
                    if (exit == 0) {
                        ok++;
                    } else {
                        assertThat(exit).as(r.stderr()).isEqualTo(2);
                        assertThat(r.stderr()).contains("already signed");
                    }
                }
                assertThat(ok).isPositive();
                byte[] b = Files.readAllBytes(ko);
                byte[] magic = "~Module signature appended~\n".getBytes(StandardCharsets.US_ASCII);
                int sigLen = ByteBuffer.wrap(b, b.length - magic.length - 4, 4).getInt();
                assertThat(b.length).as("exactly one signature").isEqualTo(module.length + sigLen + 12 + magic.length);
                assertThat(Arrays.copyOf(b, module.length)).isEqualTo(module);
                if (round == 1) {
                    Rkmod.Result v = Rkmod.jar(Map.of(), "verify", ko.toString(), "--cert", cert.toString());
                    assertThat(v.exit()).as(v.out() + v.err()).isZero();
                }
                assertThat(Kill.names(dir).stream().filter(n -> n.startsWith(".")).toList()).as("no temporary file is left")
                        .isEmpty();
            }
        }
    }
}
