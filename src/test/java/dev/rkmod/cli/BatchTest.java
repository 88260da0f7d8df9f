package dev.rkmod.cli;

import dev.rkmod.infra.host.Host;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * info, sign and verify over many files report every file: a bad one is named with its reason, the good ones are
 * still shown or signed, and the exit code is the worst status. Modules are ELF objects gcc makes here, keys come
 * from openssl.
 */
class BatchTest {
    @TempDir
    Path fs;

    private Host host;
    private Path good1;
    private Path good2;
    private Path truncated;

    @BeforeEach
    void setUp() throws Exception {
        Map<String, String> env = new HashMap<>(System.getenv());
        env.put("XDG_CACHE_HOME", fs.resolve("cache").toString());
        host = new Host(fs, 0, env);
        good1 = module("one");
        good2 = module("two");
        byte[] whole = Files.readAllBytes(module("three"));
        truncated = fs.resolve("truncated.ko");
        Files.write(truncated, Arrays.copyOf(whole, 100));
    }

    private Path module(String name) throws Exception {
        Path c = fs.resolve(name + ".c");
        Files.writeString(c, """
                __attribute__((section(".modinfo"), used)) static const char a[] = "license=GPL";
                __attribute__((section(".modinfo"), used)) static const char b[] = "name=%s";
                __attribute__((section(".modinfo"), used)) static const char d[] = "vermagic=6.1.192 SMP mod_unload ";
                int f(void) { return 1; }
                """.formatted(name));
        Path ko = fs.resolve(name + ".ko");
        run("gcc", "-c", c.toString(), "-o", ko.toString());
        return ko;
    }

    private static void run(String... argv) throws Exception {
        Process p = new ProcessBuilder(argv).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertThat(p.waitFor(5, TimeUnit.MINUTES)).isTrue();
        assertThat(p.exitValue()).as(out).isZero();
    }

    @Test
    void infoShowsEveryGoodModuleNamesTheBadOneAndExitsWithTheWorstStatus() {
        CliRun r = CliRun.run(host, "info", good1.toString(), truncated.toString(), good2.toString());
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.out()).contains("filename:       " + good1).contains("name:           one")
                .contains("filename:       " + good2).contains("name:           two")
                .doesNotContain("truncated.ko");
        assertThat(r.out().indexOf("name:           one")).isLessThan(r.out().indexOf("name:           two"));
        assertThat(r.err()).contains("rkmod: error: ").contains(truncated.toString()).doesNotContain("Exception");
        assertThat(r.err().lines().count()).as("one paragraph for the one bad file").isEqualTo(1);

        CliRun field = CliRun.run(host, "info", "-F", "name", good1.toString(), truncated.toString(), good2.toString());
        assertThat(field.exit()).isEqualTo(2);
        assertThat(field.out().lines().toList()).containsExactly("one", "two");

        CliRun json = CliRun.run(host, "info", "--json", good1.toString(), truncated.toString(), good2.toString());
        assertThat(json.exit()).isEqualTo(2);
        assertThat(json.out()).contains("\"unreadable\"").contains("\"exitCode\": 2").contains(truncated.toString());

        CliRun allGood = CliRun.run(host, "info", "--json", good1.toString(), good2.toString());
        assertThat(allGood.exit()).isZero();
        assertThat(allGood.out()).doesNotContain("unreadable");
    }

    @Test
    void signSignsEveryGoodModuleLeavesTheBadOneUnchangedAndVerifyReportsAll() throws Exception {
        Path key = fs.resolve("key.pem");
        Path cert = fs.resolve("cert.pem");
        run("openssl", "req", "-new", "-nodes", "-utf8", "-sha256", "-days", "1", "-batch", "-x509",
                "-subj", "/CN=batch test", "-newkey", "rsa:2048", "-keyout", key.toString(), "-out", cert.toString());
        Files.setPosixFilePermissions(key, java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
        byte[] truncatedBefore = Files.readAllBytes(truncated);
        Path missing = fs.resolve("missing.ko");

        CliRun r = CliRun.run(host, "sign", "--key", key.toString(), "--cert", cert.toString(),
                good1.toString(), missing.toString(), good2.toString());
        assertThat(r.exit()).as(r.err()).isEqualTo(2);
        assertThat(r.out().lines().toList()).containsExactlyInAnyOrder(
                "signed " + good1 + " (sha256, " + cmsBytes(r.out(), good1) + " byte signature)",
                "signed " + good2 + " (sha256, " + cmsBytes(r.out(), good2) + " byte signature)");
        assertThat(r.err()).contains("rkmod: error: ").contains(missing.toString()).doesNotContain("Exception");
        assertThat(missing).doesNotExist();
        assertThat(Files.readAllBytes(truncated)).isEqualTo(truncatedBefore);

        CliRun v = CliRun.run(host, "verify", "--cert", cert.toString(), good1.toString(), missing.toString(),
                good2.toString(), truncated.toString());
        assertThat(v.exit()).isEqualTo(2);
        List<String> lines = v.out().lines().toList();
        assertThat(lines).hasSize(4);
        assertThat(lines.get(0)).isEqualTo("valid    " + good1);
        assertThat(lines.get(1)).startsWith("INVALID  " + missing + ": ").contains("Cannot read");
        assertThat(lines.get(2)).isEqualTo("valid    " + good2);
        assertThat(lines.get(3)).isEqualTo("INVALID  " + truncated + ": no signature");

        CliRun signedOnly = CliRun.run(host, "verify", "--cert", cert.toString(), good1.toString(), truncated.toString());
        assertThat(signedOnly.exit()).as("an unsigned module is a failed check, not a bad input").isEqualTo(1);
    }

    private static String cmsBytes(String out, Path module) {
        return out.lines().filter(l -> l.startsWith("signed " + module + " ")).findFirst().orElseThrow()
                .replaceAll(".*sha256, (\\d+) byte signature\\)", "$1");
    }
}
