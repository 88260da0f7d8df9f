package dev.rkmod.cli;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.rkmod.infra.host.Host;
import dev.rkmod.model.FailureCatalogue;
import dev.rkmod.workflow.dkms.DkmsWorkflow;
import dev.rkmod.workflow.tree.TreeFixture;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The build step 'rkmod dkms init' ships (rkmod-dkms-build, run by the real sh) and 'rkmod dkms check' decide the
 * same on the same synthetic kernel trees and the same rustc candidates (fake rustc scripts on PATH and in a
 * rustup home): the same outcome, the same version and where it was read, the same rustc, the same missing files.
 */
class DkmsCommandTest {
    @TempDir
    Path tmp;

    Path module;
    Path script;
    Map<String, String> env;

    @BeforeEach
    void setUp() throws Exception {
        module = Files.createDirectories(tmp.resolve("hello"));
        Files.writeString(module.resolve("Kbuild"), "obj-m := hello.o\n");
        Files.writeString(module.resolve("hello.rs"), "// a module\n");
        assertThat(CliRun.run(host(Map.of()), "dkms", "init", module.toString()).exit()).isZero();
        script = module.resolve(DkmsWorkflow.SCRIPT);
        env = new LinkedHashMap<>();
        env.put("PATH", tmp.resolve("bin1") + ":" + tmp.resolve("bin2") + ":/usr/bin:/bin");
        env.put("HOME", tmp.resolve("home").toString());
    }

    private Host host(Map<String, String> extra) {
        Map<String, String> e = new HashMap<>(extra);
        e.put("XDG_CACHE_HOME", tmp.resolve("cache").toString());
        return new Host(Path.of("/"), 1000, e);
    }

    /** A fake rustc that prints {@code version}. */
    private Path rustc(Path file, String version) throws IOException {
        Files.createDirectories(file.getParent());
        Files.writeString(file, "#!/bin/sh\necho '" + version + "'\n");
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rwxr-xr-x"));
        return file;
    }

    /** TreeFixture's built 6.1 tree (rmeta headers naming {@code rmetaRustc}) with the proc macro added. */
    private Path tree(String name, String rmetaRustc) throws IOException {
        Path t = TreeFixture.tree(tmp.resolve(name), rmetaRustc);
        Files.write(t.resolve("rust/libmacros.so"), new byte[] {0x7f, 'E', 'L', 'F'});
        return t;
    }

    record Run(int exit, String out, String err) { }

    private Run sh(Path dir, List<String> argv, Map<String, String> e) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(argv).directory(dir.toFile());
        pb.environment().clear();
        pb.environment().putAll(e);
        Process p = pb.start();
        byte[] out = p.getInputStream().readAllBytes();
        byte[] err = p.getErrorStream().readAllBytes();
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        return new Run(p.exitValue(), new String(out, StandardCharsets.UTF_8), new String(err, StandardCharsets.UTF_8));
    }

    /** The script's decide mode, as key=value pairs. */
    private Map<String, String> decide(Path kdir) throws Exception {
        Run r = sh(module, List.of("/bin/sh", script.toString(), "decide", kdir.toString()), env);
        Map<String, String> out = new LinkedHashMap<>();
        for (String l : r.out().split("\n")) {
            int eq = l.indexOf('=');
            if (eq > 0) {
                out.put(l.substring(0, eq), l.substring(eq + 1));
            }
        }
        assertThat(r.exit()).as(r.out() + r.err()).isEqualTo("ok".equals(out.get("decision")) ? 0 : 1);
        return out;
    }

    /** 'rkmod dkms check --json' with the same environment. */
    private JsonObject check(Path kdir, int exit) {
        CliRun r = CliRun.run(host(env), "dkms", "check", module.toString(), "--kdir", kdir.toString(), "--json");
        assertThat(r.exit()).as(r.out() + r.err()).isEqualTo(exit);
        return JsonParser.parseString(r.out()).getAsJsonObject();
    }

    private static String str(JsonObject j, String k) {
        return j.has(k) && !j.get(k).isJsonNull() ? j.get(k).getAsString() : "";
    }

    /** Both decide; they must agree; returns the script's decision. */
    private Map<String, String> agree(Path kdir) throws Exception {
        Map<String, String> s = decide(kdir);
        JsonObject j = check(kdir, "ok".equals(s.get("decision")) ? 0 : 1);
        assertThat(str(j, "decision")).as("decision").isEqualTo(s.get("decision"));
        assertThat(str(j, "release")).as("release").isEqualTo(s.get("release"));
        assertThat(str(j, "wanted")).as("wanted").isEqualTo(s.get("wanted"));
        assertThat(str(j, "rustc")).as("rustc").isEqualTo(s.get("rustc"));
        String finding = "dkms." + s.get("decision");
        assertThat(j.getAsJsonArray("findings").toString()).contains("\"id\":\"" + finding + "\"");
        return s;
    }

    @Test
    void headersWithoutTheMacroIncludesOrTheRustProbeFailTheCheck() throws Exception {
        Path k = tree("incomplete", "rustc 1.63.0 (dkms-test rmeta)");
        rustc(tmp.resolve("bin2/rustc"), "rustc 1.63.0 (dkms-test rmeta)");
        TreeFixture.includeFromObjtree(k, "kernel", "rust/kernel/generated_arch_warn_asm.rs");
        Files.delete(k.resolve("scripts/rust_is_available.sh"));
        JsonObject j = check(k, 0); // a warning: a module that uses none of those macros still builds
        assertThat(j.getAsJsonArray("findings").toString()).contains("dkms.incomplete-rust-set")
                .contains("rust/kernel/generated_arch_warn_asm.rs, scripts/rust_is_available.sh");
        TreeFixture.write(k, "rust/kernel/generated_arch_warn_asm.rs", "// asm\n");
        TreeFixture.write(k, "scripts/rust_is_available.sh", "#!/bin/sh\n");
        assertThat(check(k, 0).getAsJsonArray("findings").toString()).doesNotContain("dkms.incomplete-rust-set");
    }

    @Test
    void theRmetaHeaderNamesTheRustcAndTheFirstMatchingOneOnPathIsUsed() throws Exception {
        Path k = tree("k", "rustc 1.63.0 (dkms-test rmeta)");
        rustc(tmp.resolve("bin1/rustc"), "rustc 1.63.0 (another build)");
        Path good = rustc(tmp.resolve("bin2/rustc"), "rustc 1.63.0 (dkms-test rmeta)");
        Map<String, String> s = agree(k);
        assertThat(s).containsEntry("decision", "ok").containsEntry("rustc", good.toString())
                .containsEntry("source", k.resolve("rust/libcore.rmeta").toString())
                .containsEntry("release", TreeFixture.RELEASE);
    }

    @Test
    void theRustToolchainFileComesFirstThenTheManifestsThenTheConfig() throws Exception {
        Path k = tree("k", "rustc 1.63.0 (dkms-test rmeta)");
        TreeFixture.write(k, "include/config/auto.conf", "CONFIG_RUST=y\nCONFIG_RUSTC_VERSION_TEXT=\"rustc 1.70.0 (config)\"\n");
        rustc(tmp.resolve("home/.rustup/toolchains/1.70.0-x86_64-unknown-linux-gnu/bin/rustc"), "rustc 1.70.0 (config)");
        assertThat(agree(k)).containsEntry("wanted", "rustc 1.70.0 (config)")
                .containsEntry("rustc", tmp.resolve("home/.rustup/toolchains/1.70.0-x86_64-unknown-linux-gnu/bin/rustc").toString());

        Files.writeString(k.resolve("rkmod-package.json"), "{\n  \"release\": \"6.1.192\",\n  \"rustc\": \"rustc 1.71.0 (package)\"\n}\n");
        assertThat(agree(k)).containsEntry("decision", "no-rustc").containsEntry("wanted", "rustc 1.71.0 (package)")
                .containsEntry("source", k.resolve("rkmod-package.json").toString());

        Files.writeString(k.resolve("rust-toolchain"), "# rustc 1.72.0 (toolchain)\n[toolchain]\nchannel = \"1.72.0\"\n");
        Path r = rustc(tmp.resolve("bin1/rustc"), "rustc 1.72.0 (toolchain)");
        assertThat(agree(k)).containsEntry("decision", "ok").containsEntry("rustc", r.toString())
                .containsEntry("source", k.resolve("rust-toolchain").toString());
    }

    @Test
    void aRustcWhoseSuffixDiffersIsNoMatchAndTheScriptNamesTheVersionToInstall() throws Exception {
        Path k = tree("k", "rustc 1.63.0 (dkms-test) (built from a source tarball)");
        rustc(tmp.resolve("bin1/rustc"), "rustc 1.63.0 (dkms-test)");
        assertThat(agree(k)).containsEntry("decision", "no-rustc");
        Run build = sh(module, List.of("/bin/sh", script.toString(), "build", k.toString()), env);
        assertThat(build.exit()).isEqualTo(1);
        assertThat(build.err()).contains("No rustc on this machine prints 'rustc 1.63.0 (dkms-test) (built from a source"
                + " tarball)'", "Install rustc 1.63.0,", tmp.resolve("bin1/rustc") + ": rustc 1.63.0 (dkms-test)");
        assertThat(build.err().strip().lines().count()).as("one paragraph").isEqualTo(1);
        assertThat(FailureCatalogue.get().explain(build.err().lines().toList())).extracting(m -> m.entry().id())
                .containsExactly("dkms.no-rustc");
    }

    @Test
    void distroHeadersWithoutTheRustSetAreExplainedAndNeverBuilt() throws Exception {
        Path k = tmp.resolve("headers");
        TreeFixture.write(k, ".config", "CONFIG_RUST=y\nCONFIG_RUSTC_VERSION_TEXT=\"rustc 1.97.1 (dkms-test)\"\n");
        TreeFixture.write(k, "include/config/kernel.release", "7.2.13+deb14-amd64\n");
        TreeFixture.write(k, "Makefile", "VERSION = 7\nPATCHLEVEL = 2\n");
        Map<String, String> s = agree(k);
        assertThat(s).containsEntry("decision", "missing-rust-metadata").containsEntry("wanted", "rustc 1.97.1 (dkms-test)")
                .containsEntry("missing", "rust/libcore.rmeta rust/libkernel.rmeta rust/libmacros.so target.json");
        // a fake make on PATH proves the step never runs make
        Path make = rustc(tmp.resolve("bin1/make"), "make ran");
        Run build = sh(module, List.of("/bin/sh", script.toString(), "build", k.toString()), env);
        assertThat(build.exit()).isEqualTo(1);
        assertThat(build.out()).doesNotContain("make ran");
        assertThat(build.err()).contains("The headers of Linux 7.2.13+deb14-amd64 in " + k + " lack the Rust metadata",
                "rkmod headers complete --kdir " + k, "linux-rust-meta-7.2.13+deb14-amd64");
        assertThat(build.err().strip().lines().count()).as("one paragraph").isEqualTo(1);
        assertThat(FailureCatalogue.get().explain(build.err().lines().toList())).extracting(m -> m.entry().id())
                .containsExactly("dkms.missing-rust-metadata");
        assertThat(make).exists();
    }

    @Test
    void aKernelWithoutRustAndADirectoryThatIsNoTreeAgreeToo() throws Exception {
        Path k = tmp.resolve("norust");
        TreeFixture.write(k, ".config", "CONFIG_MODULES=y\n");
        assertThat(agree(k)).containsEntry("decision", "rust-off");
        assertThat(agree(Files.createDirectories(tmp.resolve("empty")))).containsEntry("decision", "no-kdir");
        // a partial Rust set: only the proc macro is gone
        Path partial = tree("partial", "rustc 1.63.0 (dkms-test)");
        Files.delete(partial.resolve("rust/libmacros.so"));
        assertThat(agree(partial)).containsEntry("missing", "rust/libmacros.so");
    }

    /**
     * DKMS 3.0.10 turns MAKE[0] into 'make -jN KERNELRELEASE=R -f rkmod-dkms.mk RKMOD_KDIR=K CC=clang LD=ld.lld'
     * (dkms 3.1+: '... LLVM=1'): the real make runs the step, whose kernel make (a fake here, printing what it got)
     * receives -C K M=DIR RUSTC=..., and DKMS's variables through MAKEFLAGS, each once, with no LLVM=1 of its own.
     */
    @Test
    void whatDkmsAppendsReachesTheKernelsMakeOnceAndOnlyRustcIsAdded() throws Exception {
        Path k = tree("k", "rustc 1.63.0 (dkms-test)");
        Path r = rustc(tmp.resolve("bin2/rustc"), "rustc 1.63.0 (dkms-test)");
        Path fake = tmp.resolve("bin1/make");
        Files.createDirectories(fake.getParent());
        Files.writeString(fake, "#!/bin/sh\necho \"kernel make: $*\"\necho \"MAKEFLAGS: $MAKEFLAGS\"\n");
        Files.setPosixFilePermissions(fake, PosixFilePermissions.fromString("rwxr-xr-x"));
        Map<String, Map<String, String>> dkmsAppends = Map.of("3.0", Map.of("CC", "clang", "LD", "ld.lld"), "3.2", Map.of("LLVM", "1"));
        for (Map.Entry<String, Map<String, String>> v : dkmsAppends.entrySet()) {
            List<String> argv = new ArrayList<>(List.of("/usr/bin/make", "-j2", "KERNELRELEASE=" + TreeFixture.RELEASE,
                    "-f", DkmsWorkflow.MAKEFILE, "RKMOD_KDIR=" + k));
            v.getValue().forEach((key, val) -> argv.add(key + "=" + val));
            Run run = sh(module, argv, env);
            assertThat(run.exit()).as(run.out() + run.err()).isZero();
            String kernelMake = run.out().lines().filter(l -> l.startsWith("kernel make: ")).findFirst().orElseThrow();
            assertThat(kernelMake).isEqualTo("kernel make: -C " + k + " M=" + module + " RUSTC=" + r);
            String flags = run.out().lines().filter(l -> l.startsWith("MAKEFLAGS: ")).findFirst().orElseThrow();
            assertThat(flags).contains("KERNELRELEASE=" + TreeFixture.RELEASE).contains("-j");
            v.getValue().forEach((key, val) -> assertThat(flags.split(" ")).as(v.getKey()).containsOnlyOnce(key + "=" + val));
            if (v.getKey().equals("3.0")) {
                assertThat(flags).as("the step never adds LLVM=1").doesNotContain("LLVM=");
            }
            assertThat(run.out()).contains("rkmod-dkms-build: Linux " + TreeFixture.RELEASE + " was built with 'rustc 1.63.0"
                    + " (dkms-test)'");
        }
    }

    @Test
    void initWritesDkmsConfWithEveryModuleAndRefusesToOverwrite() throws Exception {
        Path m = Files.createDirectories(tmp.resolve("two"));
        Files.writeString(m.resolve("Kbuild"), "# two modules\nobj-m := first.o \\\n  second.o\nobj-m += third.o\nfirst-y := a.o\n");
        CliRun r = CliRun.run(host(Map.of()), "dkms", "init", m.toString(), "--version", "2.1.0", "--json");
        assertThat(r.exit()).as(r.err()).isZero();
        String conf = Files.readString(m.resolve("dkms.conf"));
        assertThat(conf).contains("PACKAGE_NAME=\"first\"\n", "PACKAGE_VERSION=\"2.1.0\"\n", "BUILT_MODULE_NAME[0]=\"first\"\n",
                "BUILT_MODULE_NAME[1]=\"second\"\n", "BUILT_MODULE_NAME[2]=\"third\"\n",
                "DEST_MODULE_LOCATION[2]=\"/updates/dkms\"\n", "AUTOINSTALL=\"yes\"\n").doesNotContain("BUILT_MODULE_NAME[3]");
        // DKMS sources dkms.conf with bash, kernel_source_dir set
        Run sourced = sh(m, List.of("/bin/bash", "-c", "kernel_source_dir=/lib/modules/6.1.192/build; . ./dkms.conf;"
                + " echo \"${MAKE[0]}|${#BUILT_MODULE_NAME[@]}\""), Map.of("PATH", "/usr/bin:/bin"));
        assertThat(sourced.out().strip()).isEqualTo("make -f rkmod-dkms.mk RKMOD_KDIR=/lib/modules/6.1.192/build|3");
        assertThat(Files.isExecutable(m.resolve(DkmsWorkflow.SCRIPT))).isTrue();
        assertThat(Files.readString(m.resolve(DkmsWorkflow.SCRIPT))).startsWith("#!/bin/sh\n").doesNotContain("@RKMOD_VERSION@");

        CliRun again = CliRun.run(host(Map.of()), "dkms", "init", m.toString());
        assertThat(again.exit()).isEqualTo(2);
        assertThat(again.err()).contains("already exist").contains("--force");
        assertThat(CliRun.run(host(Map.of()), "dkms", "init", m.toString(), "--force").exit()).isZero();

        Path none = Files.createDirectories(tmp.resolve("none"));
        Files.writeString(none.resolve("Makefile"), "all:\n\techo\n");
        CliRun no = CliRun.run(host(Map.of()), "dkms", "init", none.toString());
        assertThat(no.exit()).isEqualTo(2);
        assertThat(no.err()).contains("neither Kbuild nor Makefile has an obj-m line");
        assertThat(CliRun.run(host(Map.of()), "dkms", "init", m.toString(), "--force", "--version", "1 0").err())
                .contains("not a usable DKMS package version");
    }

    @Test
    void checkWithoutDkmsConfIsAnError() throws Exception {
        Path k = tree("k", "rustc 1.63.0 (dkms-test)");
        rustc(tmp.resolve("bin1/rustc"), "rustc 1.63.0 (dkms-test)");
        Path bare = Files.createDirectories(tmp.resolve("bare"));
        CliRun r = CliRun.run(host(env), "dkms", "check", bare.toString(), "--kdir", k.toString());
        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.out()).contains("dkms.no-conf", "rkmod dkms init", "dkms.ok", "dkms.llvm", "dkms build would fail");
    }
}
