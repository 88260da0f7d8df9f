package dev.rkmod.it;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static dev.rkmod.it.Rkmod.finding;
import static org.assertj.core.api.Assertions.assertThat;

/** doctor on the real 6.1 and 6.12 trees, with rustup's rustc 1.95 first on PATH. */
class DoctorIT {
    @ItSetup.Work("rkmod-doctor")
    static Path work;
    static Path kdir61;
    static Path pkg612;

    @BeforeAll
    static void trees() throws Exception {
        kdir61 = ItSetup.kernel("6.1");
        pkg612 = ItSetup.pack(ItSetup.kernel("6.12"), work.resolve("pkg612"));
    }

    static JsonObject doctor(Path kdir, String... extra) throws Exception {
        List<String> args = new ArrayList<>(List.of("doctor", "--kdir", kdir.toString(), "--json"));
        args.addAll(List.of(extra));
        Rkmod.Result r = Rkmod.jar(KernelIT.RUSTUP_FIRST, args.toArray(String[]::new));
        JsonObject o = JsonParser.parseString(r.out()).getAsJsonObject();
        o.addProperty("exit", r.exit());
        return o;
    }

    static Path copy(String name) throws Exception {
        return ItSetup.pack(kdir61, work.resolve(name));
    }

    @Test
    void rustupFirstOnPathIsAMismatchAndNamesDebiansRustc() throws Exception {
        JsonObject r = doctor(kdir61);
        assertThat(r.get("exit").getAsInt()).isEqualTo(1);
        JsonObject f = finding(r, "rustc.mismatch");
        assertThat(f.get("severity").getAsString()).isEqualTo("error");
        assertThat(f.get("what").getAsString()).contains("rustc 1.95").contains("'rustc 1.63.0'");
        assertThat(f.get("why").getAsString()).contains("custom targets are unstable");
        assertThat(f.get("fix").getAsString()).contains("RUSTC=/usr/bin/rustc");
        assertThat(r.getAsJsonObject("match").get("rustc").getAsString()).isEqualTo("/usr/bin/rustc");
    }

    @Test
    void withDebiansRustcEverythingIsFine() throws Exception {
        JsonObject r = doctor(kdir61, "--rustc", "/usr/bin/rustc");
        assertThat(r.get("exit").getAsInt()).as(r.toString()).isZero();
        assertThat(finding(r, "target.ok").get("why").getAsString()).matches("rustc names it target-\\d+");
    }

    @Test
    void missingLibcorePredictsE0463() throws Exception {
        Path copy = copy("no-core");
        Files.delete(copy.resolve("rust/libcore.rmeta"));
        JsonObject r = doctor(copy, "--rustc", "/usr/bin/rustc");
        assertThat(r.get("exit").getAsInt()).isEqualTo(1);
        JsonObject f = finding(r, "rust.missing-rmeta");
        assertThat(f.get("what").getAsString()).isEqualTo("rust/libcore.rmeta is missing");
        assertThat(f.get("why").getAsString()).contains("E0463");
    }

    @Test
    void anEditedTargetSpecPredictsE0461() throws Exception {
        Path copy = copy("edited-target");
        Path spec = copy.resolve("rust/target.json");
        Files.writeString(spec, Files.readString(spec).replace("\"arch\": \"x86_64\"", "\"arch\":  \"x86_64\""));
        JsonObject r = doctor(copy, "--rustc", "/usr/bin/rustc");
        assertThat(r.get("exit").getAsInt()).isEqualTo(1);
        JsonObject f = finding(r, "target.mismatch");
        assertThat(f.get("why").getAsString()).contains("E0461").containsPattern("target-\\d+");
    }

    @Test
    void on612TheMatchIsTheTrixieRustcWithItsSuffix() throws Exception {
        JsonObject r = doctor(pkg612);
        // the kernel's rustc is only in rkmod's trixie root: the PATH rustc's mismatch warns (plain make would
        // fail) but is no error of the tree, since 'rkmod build' runs the root's rustc
        assertThat(r.get("exit").getAsInt()).isZero();
        assertThat(r.get("rustc").getAsString()).endsWith("(built from a source tarball)");
        assertThat(finding(r, "rustc.mismatch").get("fix").getAsString()).contains("Debian trixie root");
        assertThat(finding(r, "rustc.mismatch").get("severity").getAsString()).isEqualToIgnoringCase("warning");
        assertThat(r.getAsJsonObject("match").get("root").isJsonNull()).isFalse();
        assertThat(finding(r, "rustc.match").get("what").getAsString()).contains("trixie");
    }

    @Test
    void aDirectoryThatIsNoKernelTreeIsAFindingNotACrash() throws Exception {
        JsonObject r = doctor(Files.createDirectories(work.resolve("nothing")));
        assertThat(r.get("exit").getAsInt()).isEqualTo(1);
        assertThat(finding(r, "tree.unusable").get("what").getAsString()).contains("is not a built kernel tree");
    }
}
