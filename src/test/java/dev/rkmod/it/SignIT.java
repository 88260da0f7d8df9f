package dev.rkmod.it;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static dev.rkmod.it.ItSetup.run;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * sign, verify and info against their oracles: the kernel's sign-file (Debian's linux-kbuild-6.1) and
 * kmod's modinfo, on real modules from the 6.1 and 6.12 builds.
 */
class SignIT {
    static final Path SIGN_FILE = Path.of("/usr/lib/linux-kbuild-6.1/scripts/sign-file");
    @ItSetup.Work("rkmod-sign")
    static Path work;
    static Path key;
    static Path cert;
    static List<Path> realModules = new ArrayList<>();

    @BeforeAll
    static void setUp() throws Exception {
        key = work.resolve("key.pem");
        cert = work.resolve("cert.pem");
        run(List.of("openssl", "req", "-new", "-nodes", "-utf8", "-sha256", "-days", "36500", "-batch", "-x509",
                "-newkey", "rsa:2048", "-keyout", key.toString(), "-out", cert.toString(), "-subj", "/CN=rkmod throwaway key/"));
        Files.setPosixFilePermissions(key, PosixFilePermissions.fromString("rw-------"));
        for (String profile : List.of("6.1", "6.12")) {
            Path tree = ItSetup.kernel(profile);
            try (var s = Files.list(tree.resolve("samples/rust"))) {
                realModules.addAll(s.filter(p -> p.toString().endsWith(".ko")).toList());
            }
        }
        assertThat(realModules).hasSizeGreaterThanOrEqualTo(3);
    }

    @Test
    void signIsByteIdenticalToSignFileForEveryHash() throws Exception {
        Path module = realModules.get(0);
        for (String hash : List.of("sha256", "sha384", "sha512", "sha1", "sha224")) {
            Path theirs = work.resolve("theirs-" + hash + ".ko");
            Path ours = work.resolve("ours-" + hash + ".ko");
            Files.copy(module, theirs);
            Files.copy(module, ours);
            run(List.of(SIGN_FILE.toString(), hash, key.toString(), cert.toString(), theirs.toString()));
            Rkmod.Result r = Rkmod.jar(Map.of(), "sign", ours.toString(), "--key", key.toString(), "--cert", cert.toString(),
                    "--hash", hash);
            assertThat(r.exit()).as(r.err()).isZero();
            assertThat(ours).as(hash).hasSameBinaryContentAs(theirs);
            assertThat(r.out() + r.err()).doesNotContain("PRIVATE KEY").doesNotContain("MII");
            Rkmod.Result v = Rkmod.jar(Map.of(), "verify", theirs.toString(), "--cert", cert.toString());
            assertThat(v.exit()).as(v.out()).isZero();
            assertThat(v.out()).startsWith("valid");
        }
    }

    @Test
    void verifyRejectsAFlippedByteAnotherKeyAndNoSignature() throws Exception {
        Path signed = work.resolve("flip.ko");
        Files.copy(realModules.get(0), signed);
        run(List.of(SIGN_FILE.toString(), "sha256", key.toString(), cert.toString(), signed.toString()));
        byte[] b = Files.readAllBytes(signed);
        b[200] ^= 0x01;
        Files.write(signed, b);
        Rkmod.Result r = Rkmod.jar(Map.of(), "verify", signed.toString(), "--cert", cert.toString(), "--json");
        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.out()).contains("modified after signing");

        Path otherKey = work.resolve("other.pem");
        Path otherCert = work.resolve("other.crt");
        run(List.of("openssl", "req", "-new", "-nodes", "-batch", "-x509", "-newkey", "rsa:2048", "-keyout",
                otherKey.toString(), "-out", otherCert.toString(), "-subj", "/CN=another key/"));
        Path good = work.resolve("good.ko");
        Files.copy(realModules.get(0), good);
        run(List.of(SIGN_FILE.toString(), "sha256", key.toString(), cert.toString(), good.toString()));
        Rkmod.Result wrong = Rkmod.jar(Map.of(), "verify", good.toString(), "--cert", otherCert.toString());
        assertThat(wrong.exit()).isEqualTo(1);
        assertThat(wrong.out()).contains("signed with another key");

        Rkmod.Result none = Rkmod.jar(Map.of(), "verify", realModules.get(0).toString(), "--cert", cert.toString());
        assertThat(none.exit()).isEqualTo(1);
        assertThat(none.out()).contains("no signature");
    }

    @Test
    void alreadySignedIsRefusedAndForceReplacesWithoutStacking() throws Exception {
        Path m = work.resolve("twice.ko");
        Files.copy(realModules.get(0), m);
        List<String> sign = List.of("sign", m.toString(), "--key", key.toString(), "--cert", cert.toString());
        assertThat(Rkmod.jar(Map.of(), sign.toArray(String[]::new)).exit()).isZero();
        long once = Files.size(m);
        Rkmod.Result again = Rkmod.jar(Map.of(), sign.toArray(String[]::new));
        assertThat(again.exit()).isEqualTo(2);
        assertThat(again.err()).contains("already signed").contains("--force");
        List<String> force = new ArrayList<>(sign);
        force.add("--force");
        assertThat(Rkmod.jar(Map.of(), force.toArray(String[]::new)).exit()).isZero();
        assertThat(Files.size(m)).isEqualTo(once);
        assertThat(Rkmod.jar(Map.of(), "verify", m.toString(), "--cert", cert.toString()).exit()).isZero();
    }

    @Test
    void manyModulesInOneProcessAndCompressedModules() throws Exception {
        List<String> argv = new ArrayList<>(List.of("sign", "--key", key.toString(), "--cert", cert.toString()));
        List<Path> copies = new ArrayList<>();
        for (int i = 0; i < realModules.size(); i++) {
            Path c = work.resolve("many-" + i + ".ko");
            Files.copy(realModules.get(i), c);
            copies.add(c);
            argv.add(c.toString());
        }
        Path xz = work.resolve("packed.ko.xz");
        run(List.of("sh", "-c", "xz --check=crc32 --lzma2=dict=1MiB -c " + realModules.get(0) + " > " + xz));
        argv.add(xz.toString());
        assertThat(Rkmod.jar(Map.of(), argv.toArray(String[]::new)).exit()).isZero();
        List<String> verify = new ArrayList<>(List.of("verify", "--cert", cert.toString()));
        copies.forEach(c -> verify.add(c.toString()));
        verify.add(xz.toString());
        Rkmod.Result v = Rkmod.jar(Map.of(), verify.toArray(String[]::new));
        assertThat(v.exit()).as(v.out()).isZero();
        assertThat(run(List.of("xz", "-t", xz.toString()))).isEmpty();
        assertThat(run(List.of("modinfo", "-F", "signer", xz.toString())).strip()).isEqualTo("rkmod throwaway key");
    }

    @Test
    void aWorldReadableKeyIsRefused() throws Exception {
        Path loose = work.resolve("loose.pem");
        Files.copy(key, loose);
        Files.setPosixFilePermissions(loose, PosixFilePermissions.fromString("rw-r--r--"));
        Path m = work.resolve("loose.ko");
        Files.copy(realModules.get(0), m);
        Rkmod.Result r = Rkmod.jar(Map.of(), "sign", m.toString(), "--key", loose.toString(), "--cert", cert.toString());
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).contains("readable by every user").contains("chmod 600");
        assertThat(Rkmod.jar(Map.of(), "sign", m.toString(), "--key", loose.toString(), "--cert", cert.toString(),
                "--insecure-key-perms").exit()).isZero();
    }

    @Test
    void infoFieldsEqualModinfoOnRealModules() throws Exception {
        Path signed = work.resolve("info-signed.ko");
        Files.copy(realModules.get(0), signed);
        run(List.of(SIGN_FILE.toString(), "sha512", key.toString(), cert.toString(), signed.toString()));
        List<Path> all = new ArrayList<>(realModules);
        all.add(signed);
        for (Path m : all) {
            for (String f : List.of("filename", "name", "license", "description", "author", "vermagic", "depends", "alias",
                    "signer", "sig_key", "sig_hashalgo")) {
                String theirs = new String(new ProcessBuilder("modinfo", "-F", f, m.toString()).start().getInputStream()
                        .readAllBytes());
                Rkmod.Result ours = Rkmod.jar(Map.of(), "info", "-F", f, m.toString());
                assertThat(ours.exit()).isZero();
                assertThat(ours.out()).as(m + " -F " + f).isEqualTo(theirs);
            }
        }
    }

    @Test
    void infoWithKdirChecksVermagicAndSymbols() throws Exception {
        Path tree61 = ItSetup.kernel("6.1");
        Path tree612 = ItSetup.kernel("6.12");
        Path minimal61 = tree61.resolve("samples/rust/rust_minimal.ko");
        Rkmod.Result ok = Rkmod.jar(Map.of(), "info", minimal61.toString(), "--kdir", tree61.toString(), "--json");
        assertThat(ok.exit()).as(ok.out()).isZero();
        JsonObject o = JsonParser.parseString(ok.out()).getAsJsonObject().getAsJsonArray("modules").get(0).getAsJsonObject();
        assertThat(o.getAsJsonArray("problems")).isEmpty();
        Rkmod.Result wrong = Rkmod.jar(Map.of(), "info", minimal61.toString(), "--kdir", tree612.toString());
        assertThat(wrong.exit()).isEqualTo(1);
        assertThat(wrong.out()).contains("does not match the tree's '6.12").contains("undefined symbol");
    }
}
