package dev.rkmod.cli;

import dev.rkmod.infra.host.Host;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A fuzz finding, as a user meets it: a module whose headers parse but whose build-id note lies past the end of the
 * file (src/test/resources/fuzz/regressions/info/) made 'rkmod info' stop the whole batch with exit 3 and an error that
 * named no file. It is now one unreadable module among good ones: named, with exit 2.
 */
class InfoDamagedModuleTest {
    @TempDir
    Path fs;

    @Test
    void aSectionPastTheEndIsOneUnreadableModuleNotTheEndOfTheBatch() {
        Map<String, String> env = new HashMap<>(System.getenv());
        env.put("XDG_CACHE_HOME", fs.resolve("cache").toString());
        Host host = new Host(fs, 0, env);
        Path bad = Path.of("src/test/resources/fuzz/regressions/info/build-id-note-past-eof.bin").toAbsolutePath();
        Path good = Path.of("src/test/resources/fuzz/elf/rust_minimal.ko").toAbsolutePath();
        CliRun r = CliRun.run(host, "info", bad.toString(), good.toString());
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.out()).contains("filename:       " + good).contains("name:           rust_minimal");
        assertThat(r.err()).contains("rkmod: error: " + bad + ": The ELF file is truncated")
                .contains(".note.gnu.build-id").doesNotContain("Exception");
    }
}
