package dev.rkmod.cli;

import com.google.gson.JsonPrimitive;
import dev.rkmod.model.Finding;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The one serializer of the commands' result records. */
class JsonTest {
    private record Inner(String name, long size) { }

    private record Outer(boolean ok, Path dir, List<Inner> items, Optional<Inner> absent, Optional<String> present,
                         String none, Map<String, Long> stages, Finding.Severity severity, int count, double ratio) { }

    private record Head(String kind, String key) { }

    private record Flat(@Json.Inline Head head, long bytes, Object raw) { }

    private record Maybe(String out, @Json.Inline Optional<Head> head, int files) { }

    @Test
    void keysFollowTheComponentOrderWithEveryKindOfValue() {
        Map<String, Long> stages = new LinkedHashMap<>();
        stages.put("make", 2000L);
        stages.put("copy", 10L);
        Outer o = new Outer(true, Path.of("/tmp/x"), List.of(new Inner("a.ko", 3), new Inner("b.ko", 4)), Optional.empty(),
                Optional.of("yes"), null, stages, Finding.Severity.WARNING, 7, 0.5);
        assertThat(Json.write(o)).isEqualTo("""
                {
                  "ok": true,
                  "dir": "/tmp/x",
                  "items": [
                    {
                      "name": "a.ko",
                      "size": 3
                    },
                    {
                      "name": "b.ko",
                      "size": 4
                    }
                  ],
                  "present": "yes",
                  "none": null,
                  "stages": {
                    "make": 2000,
                    "copy": 10
                  },
                  "severity": "warning",
                  "count": 7,
                  "ratio": 0.5
                }""");
    }

    @Test
    void anInlineRecordIsWrittenInPlaceAndJsonElementsAsTheyAre() {
        assertThat(Json.write(new Flat(new Head("kernel", "abc"), 2048, new JsonPrimitive("as is")))).isEqualTo("""
                {
                  "kind": "kernel",
                  "key": "abc",
                  "bytes": 2048,
                  "raw": "as is"
                }""");
    }

    @Test
    void anInlineOptionalWritesItsRecordsComponentsOrNothing() {
        assertThat(Json.fromRecord(new Maybe("/o", Optional.of(new Head("k", null)), 3)).toString())
                .isEqualTo("{\"out\":\"/o\",\"kind\":\"k\",\"key\":null,\"files\":3}");
        assertThat(Json.fromRecord(new Maybe("/o", Optional.empty(), 3)).toString())
                .isEqualTo("{\"out\":\"/o\",\"files\":3}");
    }

    @Test
    void recordsOfOtherPackagesAndNestedContainers() {
        assertThat(Json.fromRecord(Finding.error("rustc.none", "no rustc", null, "install it")).toString())
                .isEqualTo("{\"id\":\"rustc.none\",\"severity\":\"error\",\"what\":\"no rustc\",\"why\":null,\"fix\":\"install it\"}");
        assertThat(Json.fromRecord(List.of(Optional.empty(), Optional.of(1), List.of("x"))).toString())
                .isEqualTo("[null,1,[\"x\"]]");
        assertThat(Json.fromRecord(new TreeMap<>(Map.of("b", List.of(), "a", Map.of()))).toString())
                .isEqualTo("{\"a\":{},\"b\":[]}");
        assertThat(Json.fromRecord(null).isJsonNull()).isTrue();
    }

    @Test
    void aValueWithoutAJsonFormIsAProgrammingError() {
        assertThatThrownBy(() -> Json.fromRecord(java.time.Duration.ofSeconds(1)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("java.time.Duration");
        assertThatThrownBy(() -> Json.fromRecord(new Object() { }))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("No JSON form");
    }
}
