package dev.rkmod.it;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
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
        ItSetup.SigForce sf = ItSetup.sigForceKernel();
        Path tree = sf.tree();
        Path keyPem = sf.keyPem();
        Path cert = sf.cert();

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
