package dev.rkmod.it;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.rkmod.infra.fs.FileOps;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A tiny-rust kernel with CONFIG_MODULE_SIG_FORCE and a known signing key: an unsigned out-of-tree
 * module fails to load in vmtest, and the same module signed by `rkmod sign` loads.
 */
class SignedVmIT {
    @ItSetup.Work("rkmod-sigvm")
    static Path work;

    @Test
    void unsignedIsRejectedAndSignedLoadsUnderModuleSigForce() throws Exception {
        Path dir = Path.of(System.getProperty("user.home"), ".cache", "rkmod-test", "sigforce");
        Files.createDirectories(dir);
        Path keyPem = dir.resolve("signing_key.pem");
        Path cert = dir.resolve("signing_key.x509.pem");
        if (!Files.exists(keyPem)) {
            Path k = dir.resolve("k.pem");
            ItSetup.run(List.of("openssl", "req", "-new", "-nodes", "-utf8", "-sha256", "-days", "36500", "-batch", "-x509",
                    "-newkey", "rsa:2048", "-keyout", k.toString(), "-out", cert.toString(), "-subj", "/CN=rkmod sigforce test/"));
            Files.writeString(keyPem, Files.readString(k) + Files.readString(cert));
            Files.delete(k);
        }
        Files.setPosixFilePermissions(keyPem, PosixFilePermissions.fromString("rw-------"));
        String fingerprint = FileOps.sha256(keyPem);
        Path fragment = dir.resolve("sigforce.config");
        Files.writeString(fragment, "# key sha256 " + fingerprint + "\n"
                + "CONFIG_MODULE_SIG=y\nCONFIG_MODULE_SIG_FORCE=y\nCONFIG_MODULE_SIG_SHA256=y\n"
                + "CONFIG_MODULE_SIG_KEY=\"" + keyPem + "\"\nCONFIG_CRYPTO_RSA=y\nCONFIG_CRYPTO_SHA256=y\n");

        Rkmod.Result k = Rkmod.jar(Map.of(), "kernel", "build", "--profile", "6.1", "--fragment", fragment.toString(), "--json", "-q");
        assertThat(k.exit()).as(k.err()).isZero();
        Path tree = Path.of(JsonParser.parseString(k.out()).getAsJsonObject().get("tree").getAsString());
        assertThat(tree.resolve(".config")).content().contains("CONFIG_MODULE_SIG_FORCE=y");

        Path pkg = work.resolve("pkg");
        assertThat(Rkmod.jar(Map.of(), "package", "--kdir", tree.toString(), "--out", pkg.toString(), "--no-verify", "-q")
                .exit()).isZero();
        assertThat(pkg.resolve("certs/signing_key.pem")).doesNotExist();
        Path mod = work.resolve("mod");
        assertThat(Rkmod.jar(Map.of(), "new", "rust_signed", "--kdir", pkg.toString(), "--dir", mod.toString()).exit()).isZero();
        Rkmod.Result b = Rkmod.jar(Map.of(), "build", mod.toString(), "--kdir", pkg.toString());
        assertThat(b.exit()).as(b.err()).isZero();
        Path ko = mod.resolve("rust_signed.ko");

        Rkmod.Result unsigned = Rkmod.jar(Map.of(), "vmtest", ko.toString(), "--kdir", tree.toString(), "--json");
        assertThat(unsigned.exit()).isEqualTo(1);
        JsonObject u = JsonParser.parseString(unsigned.out()).getAsJsonObject();
        assertThat(u.getAsJsonArray("reasons").toString()).contains("insmod rust_signed exited with status");

        Rkmod.Result s = Rkmod.jar(Map.of(), "sign", ko.toString(), "--key", keyPem.toString(), "--cert", cert.toString(),
                "--kdir", tree.toString());
        assertThat(s.exit()).as(s.err()).isZero();
        assertThat(s.out()).contains("sha256");
        Rkmod.Result signed = Rkmod.jar(Map.of(), "vmtest", ko.toString(), "--kdir", tree.toString(), "--json");
        assertThat(signed.exit()).as(signed.out()).isZero();
        assertThat(JsonParser.parseString(signed.out()).getAsJsonObject().getAsJsonArray("moduleLines").toString())
                .contains("rust_signed: Rust out-of-tree module (init)");
    }
}
