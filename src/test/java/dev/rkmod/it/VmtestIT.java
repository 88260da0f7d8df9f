package dev.rkmod.it;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** Real QEMU boots of the real tiny-rust kernels with modules built by rkmod build. */
class VmtestIT {
    @ItSetup.Work("rkmod-vmtest")
    static Path work;
    static Path kernel61;
    static Path kernel612;
    static Path pkg61;
    static Path pkg612;

    @BeforeAll
    static void setUp() throws Exception {
        kernel61 = ItSetup.kernel("6.1");
        kernel612 = ItSetup.kernel("6.12");
        pkg61 = ItSetup.pack(kernel61, work.resolve("pkg61"));
        pkg612 = ItSetup.pack(kernel612, work.resolve("pkg612"));
    }

    static Path module(Path pkg, String name, String file, String source) throws Exception {
        Path dir = Files.createDirectories(work.resolve(name + "-" + pkg.getFileName()));
        Files.writeString(dir.resolve(file), source);
        Files.writeString(dir.resolve("Kbuild"), "obj-m := " + file.replaceAll("\\.(rs|c)$", ".o") + "\n");
        Rkmod.Result b = Rkmod.jar(Map.of(), "build", dir.toString(), "--kdir", pkg.toString());
        assertThat(b.exit()).as(b.out() + b.err()).isZero();
        return dir.resolve(file.replaceAll("\\.(rs|c)$", ".ko"));
    }

    static JsonObject vmtest(String... args) throws Exception {
        List<String> argv = new java.util.ArrayList<>(List.of("vmtest", "--json"));
        argv.addAll(List.of(args));
        Rkmod.Result r = Rkmod.jar(Map.of(), argv.toArray(String[]::new));
        JsonObject o = r.out().isBlank() ? new JsonObject() : JsonParser.parseString(r.out()).getAsJsonObject();
        o.addProperty("exit", r.exit());
        o.addProperty("stderr", r.err());
        return o;
    }

    /** The reasons exactly as the user reads them. */
    static List<String> reasons(JsonObject v) {
        List<String> out = new java.util.ArrayList<>();
        v.getAsJsonArray("reasons").forEach(r -> out.add(r.getAsString()));
        return out;
    }

    private static void scaffoldedPasses(Path pkg, Path kernel) throws Exception {
        Path dir = work.resolve("seed-" + pkg.getFileName());
        assertThat(Rkmod.jar(Map.of(), "new", "rust_out_of_tree", "--kdir", pkg.toString(), "--dir", dir.toString(),
                "--description", "Rust out-of-tree sample").exit()).isZero();
        assertThat(Rkmod.jar(Map.of(), "build", dir.toString(), "--kdir", pkg.toString()).exit()).isZero();
        Path junit = work.resolve("junit-" + pkg.getFileName() + ".xml");
        JsonObject v = vmtest(dir.resolve("rust_out_of_tree.ko").toString(), "--kdir", kernel.toString(),
                "--junit", junit.toString());
        assertThat(v.get("exit").getAsInt()).as(v.toString()).isZero();
        assertThat(v.get("verdict").getAsString()).isEqualTo("pass");
        assertThat(reasons(v)).isEmpty();
        assertThat(v.get("accel").getAsString()).isEqualTo("tcg");
        assertThat(v.getAsJsonArray("moduleLines").toString())
                .contains("rust_out_of_tree: Rust out-of-tree sample (init)")
                .contains("rust_out_of_tree: My numbers are [72, 108, 200]")
                .contains("rust_out_of_tree: Rust out-of-tree sample (exit)");
        assertThat(Path.of(v.get("consoleLog").getAsString())).content().contains("Linux version");
        assertThat(junit).content().contains("<testsuite name=\"rkmod.vmtest\"").contains("failures=\"0\"");
    }

    @Test
    void theScaffoldedModulePassesWithTheSeedsThreeLinesOn61() throws Exception {
        scaffoldedPasses(pkg61, kernel61);
    }

    @Test
    void theScaffoldedModulePassesWithTheSeedsThreeLinesOn612() throws Exception {
        scaffoldedPasses(pkg612, kernel612);
    }

    @Test
    void theKernelsRustMinimalBuiltOutOfTreePasses() throws Exception {
        for (Path[] p : new Path[][] {{pkg61, kernel61}, {pkg612, kernel612}}) {
            Path ko = module(p[0], "minimal", "rust_minimal.rs", Files.readString(p[1].resolve("samples/rust/rust_minimal.rs")));
            JsonObject v = vmtest(ko.toString(), "--kernel", p[1].resolve("arch/x86/boot/bzImage").toString(),
                    "--expect", "rust_minimal: Rust minimal sample \\(init\\)", "--expect", "rust_minimal: Rust minimal sample \\(exit\\)");
            assertThat(v.get("exit").getAsInt()).as(v.toString()).isZero();
        }
    }

    @Test
    void aModuleThatPanicsInInitFails() throws Exception {
        Path ko = module(pkg61, "panics", "rkmod_panics.rs", """
                use kernel::prelude::*;
                module! { type: P, name: b"rkmod_panics", author: b"it", description: b"panics", license: b"GPL", }
                struct P;
                impl kernel::Module for P {
                    fn init(_module: &'static ThisModule) -> Result<Self> {
                        panic!("rkmod deliberate panic");
                    }
                }
                """);
        JsonObject v = vmtest(ko.toString(), "--kdir", kernel61.toString(), "--timeout", "90");
        assertThat(v.get("exit").getAsInt()).isEqualTo(1);
        assertThat(v.get("verdict").getAsString()).isEqualTo("fail");
        // a Rust panic in init is a kernel BUG on 6.1 (rust/helpers.c's BUG() in rust_helper_BUG), insmod dies
        // with it (SIGSEGV: 128 + 11), and the half-loaded module cannot be removed
        assertThat(reasons(v)).containsExactly("insmod rkmod_panics exited with status 139",
                "rmmod rkmod_panics exited with status 1", "kernel log: kernel BUG at rust/helpers.c:26!");
    }

    @Test
    void aModuleThatHangsInInitFailsOnTheTimeout() throws Exception {
        Path ko = module(pkg61, "hangs", "rkmod_hangs.c", """
                #include <linux/module.h>
                #include <linux/delay.h>
                static int __init hang_init(void) { pr_info("rkmod_hangs: hanging\\n"); for (;;) msleep(1000); return 0; }
                module_init(hang_init);
                MODULE_LICENSE("GPL");
                """);
        JsonObject v = vmtest(ko.toString(), "--kdir", kernel61.toString(), "--timeout", "15");
        assertThat(v.get("exit").getAsInt()).isEqualTo(1);
        assertThat(reasons(v)).containsExactly("timed out in insmod rkmod_hangs (it did not return); QEMU was stopped");
        assertThat(ProcessHandle.allProcesses().filter(h -> {
            String cmd = h.info().commandLine().orElse("");
            return cmd.contains("qemu-system") && cmd.contains("/vmtest-");
        })).as("no QEMU left behind").isEmpty();
    }

    @Test
    void aModuleForAnotherKernelIsRefusedBeforeBooting() throws Exception {
        Path ko = module(pkg612, "other", "rkmod_other.c", """
                #include <linux/module.h>
                static int __init o_init(void) { return 0; }
                module_init(o_init);
                MODULE_LICENSE("GPL");
                """);
        Rkmod.Result r = Rkmod.jar(Map.of(), "vmtest", ko.toString(), "--kdir", kernel61.toString());
        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.err()).contains("was built for Linux 6.12").contains("checked before booting").doesNotContain("==> boot");
    }

    @Test
    void aMissingOrCorruptKernelImageIsAClearError() throws Exception {
        Path ko = work.resolve("seed-pkg61/rust_out_of_tree.ko");
        Path any = Files.exists(ko) ? ko : module(pkg61, "any", "rkmod_any.c",
                "#include <linux/module.h>\nMODULE_LICENSE(\"GPL\");\n");
        Rkmod.Result missing = Rkmod.jar(Map.of(), "vmtest", any.toString(), "--kernel", work.resolve("nope").toString());
        assertThat(missing.exit()).isEqualTo(2);
        assertThat(missing.err()).contains("does not exist");
        Rkmod.Result regex = Rkmod.jar(Map.of(), "vmtest", any.toString(), "--kdir", kernel61.toString(), "--expect", "init(");
        assertThat(regex.exit()).isEqualTo(2);
        assertThat(regex.err()).contains("is not a valid regular expression").doesNotContain("==> boot");
        Path bad = work.resolve("bzImage.bad");
        Files.write(bad, new byte[4096]);
        Rkmod.Result corrupt = Rkmod.jar(Map.of(), "vmtest", any.toString(), "--kernel", bad.toString());
        assertThat(corrupt.exit()).isEqualTo(2);
        assertThat(corrupt.err()).contains("is not a bzImage").contains("HdrS");
    }
}
