package dev.rkmod.format;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The ELF reader on objects gcc makes in the test. */
class ElfFileTest {
    @TempDir
    Path tmp;

    private Path gcc(String source, String... extra) throws Exception {
        Path c = tmp.resolve("m.c");
        Files.writeString(c, source);
        Path o = tmp.resolve("m.o");
        java.util.List<String> argv = new java.util.ArrayList<>(java.util.List.of("gcc", "-c", c.toString(), "-o", o.toString()));
        argv.addAll(Arrays.asList(extra));
        Process p = new ProcessBuilder(argv).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertThat(p.waitFor(5, TimeUnit.MINUTES)).isTrue();
        assertThat(p.exitValue()).as(out).isZero();
        return o;
    }

    static final String MODINFO = """
            __attribute__((section(".modinfo"), used)) static const char a[] = "license=GPL";
            __attribute__((section(".modinfo"), used)) static const char b[] = "description=test module";
            __attribute__((section(".modinfo"), used)) static const char c[] = "name=elf_test";
            __attribute__((section(".modinfo"), used)) static const char d[] = "vermagic=6.1.192 SMP mod_unload ";
            int f(void) { return 1; }
            """;

    @Test
    void readsModinfoFromAGccObject() throws Exception {
        byte[] data = Files.readAllBytes(gcc(MODINFO));
        ElfFile elf = ElfFile.parse(data);
        assertThat(elf.is64()).isTrue();
        assertThat(elf.type()).isEqualTo(1); // ET_REL
        ModInfo info = ModInfo.of(elf);
        assertThat(info.get("name")).contains("elf_test");
        assertThat(info.get("license")).contains("GPL");
        assertThat(info.get("vermagic")).contains("6.1.192 SMP mod_unload ");
        assertThat(elf.section(".text")).isPresent();
    }

    @Test
    void aMappedFileReadsLikeItsBytes() throws Exception {
        Path o = gcc(MODINFO);
        byte[] data = Files.readAllBytes(o);
        try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(o)) {
            ElfFile mapped = ElfFile.parse(ch.map(java.nio.channels.FileChannel.MapMode.READ_ONLY, 0, ch.size()), (int) ch.size());
            ElfFile read = ElfFile.parse(data);
            assertThat(mapped.sections()).isEqualTo(read.sections());
            assertThat(ModInfo.of(mapped)).isEqualTo(ModInfo.of(read));
            assertThat(mapped.symbols()).isEqualTo(read.symbols());
            assertThat(ModInfo.of(mapped).get("name")).contains("elf_test");
        }
        // bounds still hold: a buffer cut short is a truncated file, not an exception of the buffer
        java.nio.ByteBuffer cut = java.nio.ByteBuffer.wrap(data, 0, 100).slice();
        assertThatThrownBy(() -> ElfFile.parse(cut, cut.limit())).isInstanceOf(FormatException.class)
                .hasMessageContaining("truncated");
    }

    @Test
    void readsElf32() throws Exception {
        Path o;
        try {
            o = gcc(MODINFO, "-m32");
        } catch (AssertionError e) {
            org.junit.jupiter.api.Assumptions.abort("gcc -m32 is not available here");
            return;
        }
        ElfFile elf = ElfFile.parse(Files.readAllBytes(o));
        assertThat(elf.is64()).isFalse();
        assertThat(ModInfo.of(elf).get("name")).contains("elf_test");
    }

    /** More than 65,535 sections: e_shnum is 0 and e_shstrndx is SHN_XINDEX; the real values are in section 0. */
    @Test
    void extendedSectionNumbering() throws Exception {
        StringBuilder src = new StringBuilder(MODINFO);
        for (int i = 0; i < 66_000; i++) {
            src.append("__attribute__((section(\".s").append(i).append("\"), used)) static int v").append(i).append(" = 1;\n");
        }
        byte[] data = Files.readAllBytes(gcc(src.toString()));
        assertThat(((data[0x3C] & 0xFF) | ((data[0x3D] & 0xFF) << 8))).as("e_shnum").isZero();
        ElfFile elf = ElfFile.parse(data);
        assertThat(elf.sections().size()).isGreaterThan(66_000);
        assertThat(elf.section(".s65999")).isPresent();
        assertThat(ModInfo.of(elf).get("name")).contains("elf_test");
    }

    @Test
    void truncatedAndCorruptFilesGiveTypedErrors() throws Exception {
        byte[] data = Files.readAllBytes(gcc(MODINFO));
        for (int len : new int[] {0, 10, 20, 63, 64, data.length / 2, data.length - 1}) {
            byte[] cut = Arrays.copyOf(data, len);
            try {
                ModInfo.of(ElfFile.parse(cut));
            } catch (FormatException e) {
                assertThat(e.reason()).isIn(FormatException.Reason.TRUNCATED, FormatException.Reason.CORRUPT,
                        FormatException.Reason.BAD_MAGIC);
            }
        }
        byte[] bad = data.clone();
        bad[1] = 'X';
        assertThatThrownBy(() -> ElfFile.parse(bad)).isInstanceOfSatisfying(FormatException.class,
                e -> assertThat(e.reason()).isEqualTo(FormatException.Reason.BAD_MAGIC));
    }

    /** Seeded mutations of a real object: the reader either succeeds or throws FormatException, nothing else. */
    @Test
    void tenThousandSeededMutations() throws Exception {
        byte[] data = Files.readAllBytes(gcc(MODINFO));
        Random rnd = new Random(20261128L);
        int typed = 0;
        for (int i = 0; i < 10_000; i++) {
            byte[] m = data.clone();
            int flips = 1 + rnd.nextInt(8);
            for (int f = 0; f < flips; f++) {
                int at = rnd.nextInt(Math.min(m.length, rnd.nextBoolean() ? 128 : m.length));
                m[at] = (byte) rnd.nextInt(256);
            }
            int len = rnd.nextInt(10) == 0 ? rnd.nextInt(m.length) : m.length;
            try {
                ElfFile elf = ElfFile.parse(m, len);
                ModInfo.of(elf);
                elf.sections().forEach(s -> {
                    try {
                        elf.contents(s);
                    } catch (FormatException ignored) {
                        // typed
                    }
                });
            } catch (FormatException e) {
                typed++;
            }
        }
        assertThat(typed).isPositive();
    }

    private Path link(String name, String... flags) throws Exception {
        Path c = tmp.resolve(name + ".c");
        Files.writeString(c, "#include <stdio.h>\nint main(void) { puts(\"hi\"); return 3; }\n");
        Path exe = tmp.resolve(name);
        java.util.List<String> argv = new java.util.ArrayList<>(java.util.List.of("gcc"));
        argv.addAll(Arrays.asList(flags));
        argv.addAll(java.util.List.of("-o", exe.toString(), c.toString()));
        Process p = new ProcessBuilder(argv).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertThat(p.waitFor(5, TimeUnit.MINUTES)).isTrue();
        assertThat(p.exitValue()).as(out).isZero();
        return exe;
    }

    @Test
    void anExecutablesSegmentsSayWhetherItIsLinkedStatically() throws Exception {
        ElfFile dyn = ElfFile.parse(Files.readAllBytes(link("dyn")));
        assertThat(dyn.segments()).isNotEmpty();
        assertThat(dyn.interpreter()).hasValueSatisfying(i -> assertThat(i).startsWith("/lib").contains("ld-linux"));
        ElfFile stat = ElfFile.parse(Files.readAllBytes(link("stat", "-static")));
        assertThat(stat.type()).isEqualTo(ElfFile.ET_EXEC);
        assertThat(stat.machine()).isEqualTo(ElfFile.EM_X86_64);
        assertThat(stat.segments()).isNotEmpty().noneMatch(s -> s.type() == ElfFile.PT_INTERP);
        assertThat(stat.interpreter()).isEmpty();
        ElfFile pie = ElfFile.parse(Files.readAllBytes(link("spie", "-static-pie")));
        assertThat(pie.type()).isEqualTo(ElfFile.ET_DYN);
        assertThat(pie.interpreter()).isEmpty();
        // a relocatable object has no program headers at all
        assertThat(ElfFile.parse(Files.readAllBytes(gcc(MODINFO))).segments()).isEmpty();
        assertThat(ElfFile.machineName(183)).isEqualTo("aarch64");
        assertThat(ElfFile.machineName(9999)).isEqualTo("machine 9999");
    }

    @Test
    void aProgramHeaderTablePastTheEndIsTruncatedNotAnArrayIndexError() throws Exception {
        byte[] data = Files.readAllBytes(link("dyn2"));
        // e_phoff (0x20) far past the end
        byte[] far = data.clone();
        for (int i = 0; i < 8; i++) {
            far[0x20 + i] = (byte) (i == 3 ? 0x7F : 0);
        }
        assertThatThrownBy(() -> ElfFile.parse(far).interpreter()).isInstanceOfSatisfying(FormatException.class,
                e -> assertThat(e.reason()).isEqualTo(FormatException.Reason.TRUNCATED));
        // the interpreter's name runs past the file: the file cut right after the program headers
        assertThatThrownBy(() -> ElfFile.parse(data, 64 + 56 * 13).interpreter()).isInstanceOf(FormatException.class);
        // seeded mutations of the headers: a result or a FormatException, nothing else
        Random rnd = new Random(20261207L);
        for (int i = 0; i < 5_000; i++) {
            byte[] m = data.clone();
            for (int f = 0; f < 1 + rnd.nextInt(6); f++) {
                m[rnd.nextInt(64 + 56 * 14)] = (byte) rnd.nextInt(256);
            }
            try {
                ElfFile.parse(m).interpreter();
            } catch (FormatException expected) {
                // typed
            }
        }
    }
}
