package dev.rkmod.it;

import dev.rkmod.infra.cache.Cache;
import dev.rkmod.infra.host.Host;
import dev.rkmod.model.Profile;
import dev.rkmod.workflow.Context;
import dev.rkmod.workflow.toolchain.DebianRoots;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;

import static dev.rkmod.it.ItSetup.run;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Crash safety: rkmod is killed with SIGKILL at 51 points spread over the run time of {@code sign} (many modules),
 * {@code package}, {@code install}, {@code kernel build} (early phases, in a scratch cache) and {@code kernel config} in
 * the trixie root (under chroot). After every kill: each output is the old file or the complete new one, a module is
 * unsigned or fully signed, every program rkmod had started is gone without anyone killing it, nothing is mounted, and
 * the cache has no entry that is not complete; the next run repairs what the killed one left.
 */
class CrashIT {
    static final byte[] MAGIC = "~Module signature appended~\n".getBytes(StandardCharsets.US_ASCII);

    @ItSetup.Work("rkmod-crash")
    static Path work;
    static Path kdir61;
    static byte[] module;
    static Path key;
    static Path cert;
    static final List<String> REPORT = new ArrayList<>();

    @BeforeAll
    static void setUp() throws Exception {
        kdir61 = ItSetup.kernel("6.1");
        module = Files.readAllBytes(kdir61.resolve("samples/rust/rust_minimal.ko"));
        key = work.resolve("key.pem");
        cert = work.resolve("cert.pem");
        run(List.of("openssl", "req", "-new", "-nodes", "-utf8", "-sha256", "-days", "36500", "-batch", "-x509",
                "-newkey", "rsa:2048", "-keyout", key.toString(), "-out", cert.toString(), "-subj", "/CN=rkmod crash key/"));
        Files.setPosixFilePermissions(key, PosixFilePermissions.fromString("rw-------"));
    }

    /** The module unchanged, or the module with exactly one complete signature appended. */
    static void assertUnsignedOrFullySigned(Path f, byte[] original) throws IOException {
        byte[] b = Files.readAllBytes(f);
        if (Arrays.equals(b, original)) {
            return;
        }
        assertThat(b.length).as(f + " is neither the original nor signed").isGreaterThan(original.length + 40);
        assertThat(Arrays.copyOf(b, original.length)).as(f + " does not start with the original module").isEqualTo(original);
        assertThat(Arrays.copyOfRange(b, b.length - MAGIC.length, b.length)).as(f + " has no signature magic").isEqualTo(MAGIC);
        int sigLen = ByteBuffer.wrap(b, b.length - MAGIC.length - 4, 4).getInt();
        assertThat(original.length + sigLen + 12 + MAGIC.length).as(f + ": one complete signature").isEqualTo(b.length);
    }

    @Test
    void signOfManyModulesLeavesEachUnsignedOrFullySigned() throws Exception {
        Path dir = Files.createDirectories(work.resolve("sign/mods"));
        Path logs = work.resolve("sign/logs");
        List<String> files = new ArrayList<>();
        for (int i = 0; i < 400; i++) {
            Path m = dir.resolve(String.format("m%03d.ko", i));
            Files.write(m, module);
            files.add(m.toString());
        }
        List<String> args = new ArrayList<>(List.of("sign"));
        args.addAll(files);
        args.addAll(List.of("--key", key.toString(), "--cert", cert.toString(), "--force", "-q"));
        Kill.Run timing = Kill.start(logs, Map.of(), args.toArray(String[]::new));
        long t0 = System.nanoTime();
        assertThat(timing.waitExit(300)).as(timing.stderr()).isZero();
        long full = (System.nanoTime() - t0) / 1_000_000;
        for (String f : files) {
            Files.write(Path.of(f), module); // unsigned again
        }
        int killed = 0;
        for (long at : Kill.spread(12, 300, full * 3 / 4)) {
            Kill.Outcome o = Kill.killAfter(Kill.start(logs, Map.of(), args.toArray(String[]::new)), at);
            killed += o.killed() ? 1 : 0;
            Kill.assertChildrenGone(o);
            for (String f : files) {
                assertUnsignedOrFullySigned(Path.of(f), module);
            }
        }
        Kill.Run last = Kill.start(logs, Map.of(), args.toArray(String[]::new));
        assertThat(last.waitExit(300)).as(last.stderr()).isZero();
        List<String> verify = new ArrayList<>(List.of("verify"));
        verify.addAll(files);
        verify.addAll(List.of("--cert", cert.toString()));
        Rkmod.Result v = Rkmod.jar(Map.of(), verify.toArray(String[]::new));
        assertThat(v.exit()).as(v.out() + v.err()).isZero();
        assertThat(Kill.names(dir)).as("the next run removed the temporary files of the killed ones")
                .isEqualTo(files.stream().map(f -> Path.of(f).getFileName().toString()).collect(Collectors.toCollection(TreeSet::new)));
        report("sign (400 modules)", 12, killed, full);
    }

    @Test
    void packageIsTheOldOrTheCompleteNewTree() throws Exception {
        Path parent = Files.createDirectories(work.resolve("package/out"));
        Path out = parent.resolve("pkg");
        Path logs = work.resolve("package/logs");
        String[] args = {"package", "--kdir", kdir61.toString(), "--out", out.toString(), "--no-verify", "--force", "-q"};
        Kill.Run first = Kill.start(logs, Map.of(), args);
        long t0 = System.nanoTime();
        assertThat(first.waitExit(600)).as(first.stderr()).isZero();
        long full = (System.nanoTime() - t0) / 1_000_000;
        var reference = Kill.snapshot(out);
        assertThat(reference).containsKey("rkmod-package.json");
        Set<Long> killedPids = new TreeSet<>();
        int killed = 0;
        for (long at : Kill.spread(12, 300, full * 3 / 4)) {
            Kill.Outcome o = Kill.killAfter(Kill.start(logs, Map.of(), args), at);
            if (o.killed()) {
                killed++;
                killedPids.add(o.pid());
            }
            Kill.assertChildrenGone(o);
            if (Files.exists(out)) {
                assertThat(Kill.snapshot(out)).as("the package after a kill at " + at + " ms").isEqualTo(reference);
            } else {
                // killed between setting the old tree aside and renaming the new one in: the old one is there to restore
                Path old = parent.resolve(".pkg.rkmod-old-" + o.pid());
                assertThat(old).as("no package and nothing set aside after a kill at " + at + " ms").isDirectory();
                assertThat(Kill.snapshot(old)).isEqualTo(reference);
            }
        }
        Kill.Run last = Kill.start(logs, Map.of(), args);
        assertThat(last.waitExit(600)).as(last.stderr()).isZero();
        assertThat(Kill.snapshot(out)).isEqualTo(reference);
        assertThat(Kill.names(parent)).as("the next run removed what the killed ones left").containsExactly("pkg");
        Path tmp = Cache.defaultRoot(System.getenv()).resolve("tmp");
        for (String n : Kill.names(tmp)) {
            for (long pid : killedPids) {
                assertThat(n).as("a staging directory of a killed run is left in the cache").doesNotContain(".pid" + pid + ".");
            }
        }
        report("package", 12, killed, full);
    }

    @Test
    void installLeavesTheModuleAbsentOrCompleteAndTheNextRunFinishes() throws Exception {
        Path root = Files.createDirectories(work.resolve("install/root"));
        Path ko = work.resolve("install/rust_minimal.ko");
        Files.write(ko, module);
        Path logs = work.resolve("install/logs");
        String[] args = {"install", ko.toString(), "--root", root.toString(), "--kdir", kdir61.toString(), "--sign",
                "--key", key.toString(), "--cert", cert.toString(), "-q"};
        Kill.Run timing = Kill.start(logs, Map.of(), args);
        long t0 = System.nanoTime();
        assertThat(timing.waitExit(300)).as(timing.stderr()).isZero();
        long full = (System.nanoTime() - t0) / 1_000_000;
        Path installed = root.resolve("lib/modules/6.1.192/updates/rust_minimal.ko");
        assertUnsignedOrFullySigned(installed, module);
        assertThat(Files.size(installed)).isGreaterThan(module.length);
        int killed = 0;
        for (long at : Kill.spread(14, 300, full * 3 / 4)) {
            Kill.Outcome o = Kill.killAfter(Kill.start(logs, Map.of(), args), at);
            killed += o.killed() ? 1 : 0;
            Kill.assertChildrenGone(o);
            if (Files.exists(installed)) {
                assertUnsignedOrFullySigned(installed, module);
            }
        }
        Kill.Run last = Kill.start(logs, Map.of(), args);
        assertThat(last.waitExit(300)).as(last.stderr()).isZero();
        assertUnsignedOrFullySigned(installed, module);
        Rkmod.Result v = Rkmod.jar(Map.of(), "verify", installed.toString(), "--cert", cert.toString());
        assertThat(v.exit()).as(v.out() + v.err()).isZero();
        assertThat(Kill.names(installed.getParent())).as("no temporary file is left").containsExactly("rust_minimal.ko");
        String deps = run(List.of("modprobe", "--dirname", root.toString(), "-S", "6.1.192", "--show-depends", "rust_minimal"));
        assertThat(deps).contains(installed.toString());
        report("install --sign", 14, killed, full);
    }

    @Test
    void aKilledKernelBuildLeavesNoEntryAndTheNextRunStartsClean() throws Exception {
        Path xdg = work.resolve("kernel/xdg");
        Path logs = work.resolve("kernel/logs");
        Map<String, String> env = Map.of("XDG_CACHE_HOME", xdg.toString());
        String[] args = {"kernel", "build", "--profile", "6.1"};
        Path tmp = xdg.resolve("rkmod/tmp");
        Set<Long> killedPids = new TreeSet<>();
        int killed = 0;
        for (long at : Kill.spread(8, 500, 8_000)) {
            Kill.Outcome o = Kill.killAfter(Kill.start(logs, env, args), at);
            assertThat(o.killed()).as("a kernel build cannot finish in " + at + " ms").isTrue();
            killed++;
            killedPids.add(o.pid());
            Kill.assertChildrenGone(o);
            assertNoEntry(env);
        }
        // the next run takes the lock at once, removes what the killed runs left before it stages its own work
        Kill.Run next = Kill.start(logs, env, args);
        long end = System.currentTimeMillis() + 120_000;
        String mine = ".pid" + next.process().pid() + ".";
        while (Kill.names(tmp).stream().noneMatch(n -> n.contains(mine))) {
            assertThat(System.currentTimeMillis()).as("the next run staged nothing in 120 s: " + next.stderr()).isLessThan(end);
            assertThat(next.process().isAlive()).as(next.stderr()).isTrue();
            Thread.sleep(50);
        }
        Kill.Outcome o = Kill.killAfter(next, 0);
        Kill.assertChildrenGone(o);
        for (String n : Kill.names(tmp)) {
            for (long pid : killedPids) {
                assertThat(n).as("the next run left a killed run's staging directory").doesNotContain(".pid" + pid + ".");
            }
        }
        assertThat(next.stderr()).doesNotContain("waiting for another");
        assertNoEntry(env);
        report("kernel build (scratch cache)", 9, killed + 1, -1);
    }

    @Test
    void aKilledKernelConfigInTheTrixieRootLeavesNoMountAndNoProgram() throws Exception {
        Host host = Host.current();
        Context ctx = Context.create(host, new Cache(Cache.defaultRoot(host.env())), e -> { });
        Path root = new DebianRoots(ctx).find(Profile.LINUX_6_12.root().orElseThrow()).orElseThrow(
                () -> new AssertionError("the trixie root is missing: run 'rkmod deps --install --profile 6.12'"));
        Path logs = work.resolve("config/logs");
        String[] args = {"kernel", "config", "--profile", "6.12", "--out", work.resolve("config/out").toString()};
        int killed = 0;
        for (long at : List.of(2_500L, 5_000L, 8_000L, 11_000L)) {
            Kill.Run r = Kill.start(logs, Map.of(), args);
            Kill.Outcome o = Kill.killAfter(r, at);
            killed += o.killed() ? 1 : 0;
            Kill.assertChildrenGone(o);
            // the root is shared with whatever else runs on this machine: none of the killed run's mounts may be left
            Kill.assertNothingMounted(List.of(work), List.of(root), work.toString(), ".pid" + o.pid() + ".");
            assertThat(work.resolve("config/out")).as("a killed config writes no --out").doesNotExist();
        }
        report("kernel config --profile 6.12 (chroot)", 4, killed, -1);
    }

    private static void assertNoEntry(Map<String, String> env) throws Exception {
        Rkmod.Result list = Rkmod.jar(env, "cache", "list");
        assertThat(list.exit()).as(list.err()).isZero();
        List<String> entries = list.out().lines().filter(l -> !l.startsWith("cache:") && !l.isBlank() && !l.contains("(empty)")).toList();
        assertThat(entries).as("a killed build published an entry").isEmpty();
    }

    private static synchronized void report(String what, int points, int killed, long fullMillis) {
        String line = String.format("CrashIT: %-40s %2d kill points, %2d hit a running rkmod%s", what, points, killed,
                fullMillis < 0 ? "" : " (a full run took " + fullMillis + " ms)");
        REPORT.add(line);
        System.out.println(line);
    }
}
