package dev.rkmod.format;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The object-tree paths that exported macros include, read from real metadata: a crate written like the kernel
 * crate's {@code bug.rs} and {@code jump_label.rs} (a macro that {@code include!}s a file under {@code $OBJTREE}),
 * compiled by Debian's rustc 1.63 and rustup's 1.95.
 */
class RmetaObjtreePathsTest {
    @TempDir
    Path tmp;

    private static final String CRATE = """
            #![no_std]
            /// Like kernel::warn_on!: the architecture's asm comes from a file kbuild generated in the object tree.
            #[macro_export]
            macro_rules! warn_on {
                ($cond:expr) => {{
                    if $cond {
                        const _ASM: &str = include_str!(concat!(env!("OBJTREE"), "/rust/kernel/generated_arch_warn_asm.rs"));
                    }
                }};
            }
            /// Compiled out, as kernel::static_branch! is without CONFIG_JUMP_LABEL.
            #[cfg(CONFIG_JUMP_LABEL)]
            #[macro_export]
            macro_rules! static_branch {
                () => { include!(concat!(env!("OBJTREE"), "/rust/kernel/generated_arch_static_branch_asm.rs")) };
            }
            /// A string that is no path relative to the object tree.
            pub const SOURCE: &str = "/usr/src/linux/rust/kernel/bug.rs";
            pub const NOT_A_PATH: &str = "/rust/ has a space";
            """;

    private Path rmeta(Path rustc, String name) throws Exception {
        Path dir = Files.createDirectories(tmp.resolve(name));
        Files.writeString(dir.resolve("k.rs"), CRATE);
        RustFixtures.Result r = RustFixtures.run(dir, Map.of(), rustc.toString(), "--emit=metadata", "--crate-type=lib",
                "--crate-name", "kernel", "--edition=2021", "k.rs", "-o", "libkernel.rmeta");
        assertThat(r.exit()).as(r.out()).isZero();
        return dir.resolve("libkernel.rmeta");
    }

    @Test
    void findsWhatAnExportedMacroIncludesAndNothingCompiledOut() throws Exception {
        for (Path rustc : List.of(RustFixtures.DEBIAN_RUSTC, RustFixtures.RUSTUP_RUSTC)) {
            Path rmeta = rmeta(rustc, rustc.getParent().getFileName().toString());
            assertThat(RmetaObjtreePaths.read(rmeta)).as(rustc.toString())
                    .containsExactly("rust/kernel/generated_arch_warn_asm.rs");
            assertThat(RmetaObjtreePaths.parse(Files.readAllBytes(rmeta))).containsExactly("rust/kernel/generated_arch_warn_asm.rs");
        }
    }

    @Test
    void findsALiteralAcrossEveryChunkBoundary() throws Exception {
        byte[] real = Files.readAllBytes(rmeta(RustFixtures.RUSTUP_RUSTC, "chunks"));
        int at = indexOf(real, "/rust/kernel/generated_arch_warn_asm.rs".getBytes());
        assertThat(at).isPositive();
        // pad the front so that the chunk boundary (1 MiB) falls before, inside and just after the literal and its length
        for (int shift = -3; shift <= 42; shift++) {
            int pad = (1 << 20) - at + shift;
            byte[] padded = new byte[pad + real.length];
            System.arraycopy(real, 0, padded, pad, real.length);
            Path f = tmp.resolve("padded.rmeta");
            Files.write(f, padded);
            assertThat(RmetaObjtreePaths.read(f)).as("boundary at %d", shift).containsExactly("rust/kernel/generated_arch_warn_asm.rs");
        }
    }

    @Test
    void acceptsOnlyAFramedPathLiteral() {
        assertThat(RmetaObjtreePaths.parse(framed("/rust/kernel/x.rs", 0xC1))).containsExactly("rust/kernel/x.rs");
        assertThat(RmetaObjtreePaths.parse(framed("/rust/kernel/x.rs", 0x00))).isEmpty(); // no sentinel
        assertThat(RmetaObjtreePaths.parse(framed("/rust/../etc/passwd", 0xC1))).isEmpty();
        byte[] wrongLength = framed("/rust/kernel/x.rs", 0xC1);
        wrongLength[1]++;
        assertThat(RmetaObjtreePaths.parse(wrongLength)).isEmpty();
        String longPath = "/rust/" + "a".repeat(200) + ".rs"; // a two-byte LEB128 length
        byte[] b = longPath.getBytes();
        byte[] two = new byte[b.length + 3];
        two[0] = (byte) ((b.length & 0x7F) | 0x80);
        two[1] = (byte) (b.length >>> 7);
        System.arraycopy(b, 0, two, 2, b.length);
        two[two.length - 1] = (byte) 0xC1;
        assertThat(RmetaObjtreePaths.parse(two)).containsExactly(longPath.substring(1));
        assertThat(RmetaObjtreePaths.parse(new byte[0])).isEmpty();
    }

    private static byte[] framed(String s, int sentinel) {
        byte[] b = s.getBytes();
        byte[] out = new byte[b.length + 3];
        out[0] = 7;
        out[1] = (byte) b.length;
        System.arraycopy(b, 0, out, 2, b.length);
        out[out.length - 1] = (byte) sentinel;
        return out;
    }

    private static int indexOf(byte[] data, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= data.length; i++) {
            for (int k = 0; k < needle.length; k++) {
                if (data[i + k] != needle[k]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }
}
