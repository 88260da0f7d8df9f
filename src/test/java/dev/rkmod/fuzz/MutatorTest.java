package dev.rkmod.fuzz;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The mutator replays from its seed (so every fuzz finding can be reproduced), mutates, and keeps to its bound. */
class MutatorTest {
    private static final List<byte[]> SEEDS = List.of("CONFIG_A=y\n# CONFIG_B is not set\nCONFIG_C=\"x\"\n"
            .getBytes(StandardCharsets.UTF_8), new byte[] {0x7F, 'E', 'L', 'F', 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0});

    private static List<byte[]> run(long seed, boolean text, int n) {
        Mutator m = new Mutator(seed, text, List.of("CONFIG_"), 4096);
        List<byte[]> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            out.add(m.mutate(SEEDS));
        }
        return out;
    }

    @Test
    void theSameSeedGivesTheSameInputs() {
        for (boolean text : new boolean[] {false, true}) {
            List<byte[]> a = run(42, text, 2000);
            List<byte[]> b = run(42, text, 2000);
            List<byte[]> c = run(43, text, 2000);
            for (int i = 0; i < a.size(); i++) {
                assertThat(a.get(i)).isEqualTo(b.get(i));
            }
            assertThat(a.stream().map(Arrays::toString).toList()).isNotEqualTo(c.stream().map(Arrays::toString).toList());
        }
    }

    @Test
    void mutantsDifferFromTheSeedsAndKeepToTheBound() {
        List<byte[]> out = run(7, true, 5000);
        long unchanged = out.stream().filter(b -> SEEDS.stream().anyMatch(s -> Arrays.equals(s, b))).count();
        assertThat(unchanged).isLessThan(out.size() / 10);
        assertThat(out).allSatisfy(b -> assertThat(b.length).isLessThanOrEqualTo(4096));
        assertThat(out).anySatisfy(b -> assertThat(b.length).isGreaterThan(1000)); // long runs are made
        assertThat(out).anySatisfy(b -> assertThat(b.length).isLessThan(8));       // and truncations
    }
}
