package dev.rkmod.format;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** modules.dep: names, lookups, the load order of a closure, and what is refused. */
public class ModulesDepTest {
    @TempDir
    Path dir;

    /** Lines as depmod writes them for Debian sid's 7.2 (btrfs's is real; the chain below it is made up to go deep). */
    public static final String SID = """
            kernel/fs/btrfs/btrfs.ko.xz: kernel/lib/crypto/libblake2b.ko.xz kernel/lib/raid/raid6/raid6_pq.ko.xz kernel/lib/raid/xor/xor.ko.xz
            kernel/fs/configfs/configfs.ko.xz:
            kernel/drivers/iio/industrialio-configfs.ko.xz: kernel/drivers/iio/industrialio.ko.xz kernel/fs/configfs/configfs.ko.xz
            kernel/drivers/iio/industrialio.ko.xz:
            kernel/lib/crypto/libblake2b.ko.xz:
            kernel/lib/raid/raid6/raid6_pq.ko.xz:
            kernel/lib/raid/xor/xor.ko.xz:
            kernel/a/top.ko.zst: kernel/a/mid.ko.zst kernel/a/low.ko.gz kernel/a/base.ko
            kernel/a/mid.ko.zst: kernel/a/low.ko.gz kernel/a/base.ko
            kernel/a/low.ko.gz: kernel/a/base.ko
            kernel/a/base.ko:
            """;

    static List<String> names(List<ModulesDep.Entry> es) {
        return es.stream().map(ModulesDep.Entry::name).toList();
    }

    @Test
    void modulesAreKnownByTheirNameWithDashAndUnderscoreAlike() {
        ModulesDep d = ModulesDep.parse(SID, "modules.dep");
        assertThat(d.size()).isEqualTo(11);
        assertThat(d.byName("configfs").map(ModulesDep.Entry::path)).contains("kernel/fs/configfs/configfs.ko.xz");
        assertThat(d.byName("industrialio-configfs")).isEqualTo(d.byName("industrialio_configfs")).isPresent();
        assertThat(d.byName("raid6_pq").get().needs()).isEmpty();
        assertThat(d.byName("btrfs").get().needs()).hasSize(3);
        assertThat(d.byName("nothing")).isEmpty();
        assertThat(ModulesDep.moduleName("kernel/lib/lz4/lz4hc_compress.ko.xz")).isEqualTo("lz4hc_compress");
        assertThat(ModulesDep.moduleName("extra/rust-foo.ko")).isEqualTo("rust_foo");
    }

    @Test
    void aClosureLoadsEachModuleAfterWhatItNeedsAndOnce() {
        ModulesDep d = ModulesDep.parse(SID, "modules.dep");
        // modules.dep lists a module's needs so that right to left loads: modprobe's order
        assertThat(names(d.closure(List.of("btrfs")).order())).containsExactly("xor", "raid6_pq", "libblake2b", "btrfs");
        assertThat(names(d.closure(List.of("top")).order())).containsExactly("base", "low", "mid", "top");
        ModulesDep.Closure c = d.closure(List.of("industrialio_configfs", "configfs", "nothing", "btrfs", "nothing"));
        assertThat(names(c.order())).containsExactly("configfs", "industrialio", "industrialio_configfs", "xor", "raid6_pq",
                "libblake2b", "btrfs");
        assertThat(c.missing()).containsExactly("nothing");
        // every module comes after all it needs
        for (int i = 0; i < c.order().size(); i++) {
            for (String need : c.order().get(i).needs()) {
                assertThat(c.order().subList(0, i).stream().map(ModulesDep.Entry::path)).as(c.order().get(i).name()).contains(need);
            }
        }
    }

    @Test
    void aDependencyWithoutALineOfItsOwnNeedsNothingAndCyclesEnd() {
        ModulesDep d = ModulesDep.parse("a.ko: b.ko c.ko\nb.ko: a.ko\n", "m");
        assertThat(names(d.closure(List.of("a")).order())).containsExactly("c", "b", "a");
        // a deep chain is resolved without recursion
        StringBuilder chain = new StringBuilder();
        for (int i = 0; i < 50_000; i++) {
            chain.append("m").append(i).append(".ko: m").append(i + 1).append(".ko\n");
        }
        assertThat(ModulesDep.parse(chain.toString(), "m").closure(List.of("m0")).order()).hasSize(50_001);
    }

    @Test
    void readsAFileAndRefusesWhatIsNotAModulesDep() throws Exception {
        Path f = Files.writeString(dir.resolve("modules.dep"), SID);
        assertThat(ModulesDep.read(f).size()).isEqualTo(11);
        for (String[] bad : new String[][] {
                {"kernel/fs/x.ko kernel/y.ko\n", "line 1 is not 'PATH: DEPENDENCIES'"},
                {"\n/lib/modules/x.ko:\n", "line 2 names '/lib/modules/x.ko'"},
                {"kernel/../../etc/x.ko:\n", "not a module path"},
                {"kernel/x.ko: ../y.ko\n", "names '../y.ko'"},
                {"kernel/x.txt:\n", "not a module path"},
                {"kernel/.ko:\n", "not a module path"},
                {"kernel/x'$(reboot).ko:\n", "is not a module name"}}) {
            assertThatThrownBy(() -> ModulesDep.parse(bad[0], "m")).as(bad[0])
                    .isInstanceOfSatisfying(FormatException.class, e -> {
                        assertThat(e.reason()).isEqualTo(FormatException.Reason.CORRUPT);
                        assertThat(e.what()).isEqualTo("m is not a valid modules.dep");
                        assertThat(e.why()).contains(bad[1]);
                    });
        }
        assertThat(ModulesDep.parse("# comment\n\n", "m").size()).isZero();
    }
}
