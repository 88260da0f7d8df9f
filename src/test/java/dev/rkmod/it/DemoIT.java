package dev.rkmod.it;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * `rkmod demo` on the shared test cache (so the suite builds each kernel once: whichever test runs first
 * builds the tiny-rust 6.1 kernel, the others reuse it), then again, when everything is reused. The demo
 * from an empty cache on a fresh machine is measured by hand and reported in the README.
 */
class DemoIT {

    @Test
    void demoPassesAndReusesTheCacheTheSecondTime() throws Exception {
        Map<String, String> env = Map.of("PATH", KernelIT.RUSTUP_FIRST.get("PATH"));
        Rkmod.Result first = Rkmod.jar(env, "demo", "--json");
        assertThat(first.exit()).as(first.err()).isZero();
        JsonObject o = JsonParser.parseString(first.out()).getAsJsonObject();
        assertThat(o.getAsJsonObject("vmtest").get("verdict").getAsString()).isEqualTo("pass");
        assertThat(o.getAsJsonObject("vmtest").getAsJsonArray("moduleLines").toString())
                .contains("rust_out_of_tree: Rust out-of-tree sample (init)")
                .contains("rust_out_of_tree: My numbers are [72, 108, 200]")
                .contains("rust_out_of_tree: Rust out-of-tree sample (exit)");
        assertThat(o.getAsJsonArray("stages")).hasSize(8);

        Rkmod.Result second = Rkmod.jar(env, "demo");
        assertThat(second.exit()).as(second.err()).isZero();
        assertThat(second.out()).contains("[2/8] kernel").contains("cached").contains("reusing")
                .contains("rkmod demo, profile 6.1: PASS");
        System.out.println("demo: first run " + first.millis() + " ms, second run " + second.millis() + " ms");
    }
}
