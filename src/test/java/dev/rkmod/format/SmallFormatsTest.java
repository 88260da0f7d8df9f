package dev.rkmod.format;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class SmallFormatsTest {
    @TempDir
    Path tmp;

    /** GNU cpio, the reference implementation, lists and extracts what our writer made. */
    @Test
    void cpioNewcIsReadByGnuCpio() throws Exception {
        byte[] data = new CpioNewc().dir("bin").file("bin/hello", 0755, "#!/bin/sh\necho hi\n".getBytes(StandardCharsets.UTF_8))
                .symlink("bin/sh", "hello").file("init", 0755, "x".getBytes(StandardCharsets.UTF_8)).toBytes();
        assertThat(data.length % 4).isZero();
        Path archive = tmp.resolve("initrd.cpio");
        Files.write(archive, data);
        Path out = Files.createDirectories(tmp.resolve("out"));
        Process p = new ProcessBuilder("cpio", "-idm", "--quiet", "-F", archive.toString()).directory(out.toFile())
                .redirectErrorStream(true).start();
        String msg = new String(p.getInputStream().readAllBytes());
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(msg).isZero();
        assertThat(out.resolve("bin/hello")).hasContent("#!/bin/sh\necho hi");
        assertThat(Files.isExecutable(out.resolve("bin/hello"))).isTrue();
        assertThat(Files.readSymbolicLink(out.resolve("bin/sh"))).isEqualTo(Path.of("hello"));
        assertThat(out.resolve("init")).hasContent("x");
    }

    /** {@code size} bytes with the "HdrS" signature and a kernel_version pointer to 0x300 (0x200 + 0x100). */
    static byte[] bzImage(int size) {
        byte[] d = new byte[size];
        System.arraycopy("HdrS".getBytes(StandardCharsets.US_ASCII), 0, d, 0x202, 4);
        d[0x20F] = 0x01;
        return d;
    }

    @Test
    void bzImageHeader() {
        byte[] d = bzImage(0x400);
        d[0x206] = 0x0F;
        d[0x207] = 0x02;
        byte[] v = "6.1.192 (root@host) #1 Sat Nov 28".getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(v, 0, d, 0x300, v.length);
        BzImage b = BzImage.parse(d, "k");
        assertThat(b.release()).isEqualTo("6.1.192");
        assertThat(b.protocol()).isEqualTo(0x020F);
        assertThatThrownBy(() -> BzImage.parse(new byte[0x400], "zero")).isInstanceOfSatisfying(FormatException.class,
                e -> assertThat(e.reason()).isEqualTo(FormatException.Reason.BAD_MAGIC));
        assertThatThrownBy(() -> BzImage.parse(new byte[10], "tiny")).isInstanceOfSatisfying(FormatException.class,
                e -> assertThat(e.reason()).isEqualTo(FormatException.Reason.TRUNCATED));
    }

    @Test
    void bzImageVersionStringMustEndWithinItsBound() {
        byte[] d = bzImage(0x800);
        java.util.Arrays.fill(d, 0x300, 0x300 + 512, (byte) '6');
        assertThat(BzImage.parse(d, "512").versionString()).hasSize(512);
        d[0x300 + 512] = '6';
        assertThatThrownBy(() -> BzImage.parse(d, "513")).isInstanceOfSatisfying(FormatException.class,
                e -> assertThat(e.reason()).isEqualTo(FormatException.Reason.CORRUPT));
        byte[] cut = java.util.Arrays.copyOf(d, 0x300 + 100);
        assertThatThrownBy(() -> BzImage.parse(cut, "cut")).isInstanceOfSatisfying(FormatException.class,
                e -> assertThat(e.what()).isEqualTo("cut has a corrupt kernel version string"));
    }

    @Test
    void ktapWithPrintkPrefixes() {
        List<String> log = List.of(
                "[    1.000000] booting",
                "[    1.100000] KTAP version 1",
                "[    1.100001] 1..2",
                "[    1.100002]     KTAP version 1",
                "[    1.100003]     # Subtest: rust_doctests",
                "[    1.100004]     ok 1 rust_doctest_a",
                "[    1.100005]     not ok 2 rust_doctest_b",
                "[    1.100006] not ok 1 rust_doctests",
                "[    1.100007] ok 2 example # SKIP not on this arch");
        List<Ktap.Result> r = Ktap.parse(log);
        assertThat(r).extracting(Ktap.Result::name)
                .containsExactly("rust_doctest_a", "rust_doctest_b", "rust_doctests", "example");
        assertThat(r).extracting(Ktap.Result::status)
                .containsExactly(Ktap.Status.PASS, Ktap.Status.FAIL, Ktap.Status.FAIL, Ktap.Status.SKIP);
        assertThat(r.get(0).depth()).isEqualTo(1);
        assertThat(r.get(2).depth()).isZero();
        assertThat(Ktap.parse(List.of("ok 1 not ktap because no header"))).isEmpty();
    }

    @Test
    void projectTomlRoundTrip() {
        ProjectToml t = new ProjectToml("demo", "6.1", "/k dir/\"x\"", List.of("demo: a (init)", "demo: \"quoted\""));
        ProjectToml back = ProjectToml.parse(t.format());
        assertThat(back).isEqualTo(t);
        assertThat(ProjectToml.parse("name = \"x\"\n[vmtest]\nexpect = [\"a\", \"b\"]\n").expect()).containsExactly("a", "b");
        assertThatThrownBy(() -> ProjectToml.parse("garbage line\n")).isInstanceOf(FormatException.class);
    }

    @Test
    void projectTomlDevicesAndProgramsOfVmtest() {
        ProjectToml t = ProjectToml.parse("""
                name = "drv"
                [vmtest]
                expect = [
                  "drv: probed", "drv: \\"x\\"",
                  # a comment inside
                  "drv: bye",
                ]
                devices = ["pci-testdev", "virtio-rng-pci,id=rng0"]
                run = [
                  "tests/open.sh",
                  "ioctl-test"
                ]
                device = ["misspelt"]
                """);
        assertThat(t.expect()).containsExactly("drv: probed", "drv: \"x\"", "drv: bye");
        assertThat(t.devices()).containsExactly("pci-testdev", "virtio-rng-pci,id=rng0");
        assertThat(t.run()).containsExactly("tests/open.sh", "ioctl-test");
        assertThat(t.ignored()).containsExactly("device");
        ProjectToml full = new ProjectToml("drv", "7.2", null, List.of("a"), List.of("pci-testdev", "isa-serial"),
                List.of("t.sh"), List.of());
        assertThat(ProjectToml.parse(full.format())).isEqualTo(full);
        assertThat(new ProjectToml("drv", "7.2", null, List.of()).format()).doesNotContain("devices").doesNotContain("run");
        assertThatThrownBy(() -> ProjectToml.parse("[vmtest]\nrun = \"t.sh\"\n")).isInstanceOf(FormatException.class)
                .hasMessageContaining("run is not an array");
        assertThatThrownBy(() -> ProjectToml.parse("[vmtest]\nrun = [\"t.sh\"\n")).isInstanceOf(FormatException.class)
                .hasMessageContaining("does not end");
    }

    @Test
    void junitXmlEscapes() {
        String xml = JunitXml.write("s", 1.5, List.of(new JunitXml.Case("c", "a<b>", null, false),
                new JunitXml.Case("c", "f", "bad \"thing\" & more", false), new JunitXml.Case("c", "s", null, true)));
        assertThat(xml).contains("tests=\"3\" failures=\"1\"").contains("skipped=\"1\"").contains("a&lt;b&gt;")
                .contains("message=\"bad &quot;thing&quot; &amp; more\"");
    }
}
