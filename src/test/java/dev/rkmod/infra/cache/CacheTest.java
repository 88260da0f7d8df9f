package dev.rkmod.infra.cache;

import dev.rkmod.infra.event.Event;
import dev.rkmod.model.RkmodException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class CacheTest {
    @TempDir
    Path tmp;

    private static final CacheKey KEY = CacheKey.of(Map.of("source", "linux-6.1", "config", "abc"));

    @Test
    void keyIsContentAddressedAndOrderIndependent() {
        CacheKey a = CacheKey.of(Map.of("a", "1", "b", "2"));
        CacheKey b = CacheKey.of(new java.util.TreeMap<>(Map.of("b", "2", "a", "1")));
        assertThat(a.hex()).isEqualTo(b.hex()).hasSize(64);
        assertThat(CacheKey.of(Map.of("a", "1", "b", "3")).hex()).isNotEqualTo(a.hex());
    }

    @Test
    void defaultRootFollowsXdg() {
        assertThat(Cache.defaultRoot(Map.of("XDG_CACHE_HOME", "/x/cache", "HOME", "/home/u"))).isEqualTo(Path.of("/x/cache/rkmod"));
        assertThat(Cache.defaultRoot(Map.of("HOME", "/home/u"))).isEqualTo(Path.of("/home/u/.cache/rkmod"));
        assertThat(Cache.defaultRoot(Map.of("XDG_CACHE_HOME", "relative", "HOME", "/home/u"))).isEqualTo(Path.of("/home/u/.cache/rkmod"));
    }

    @Test
    void buildsOnceThenHits() {
        Cache cache = new Cache(tmp);
        AtomicInteger builds = new AtomicInteger();
        CacheEntry first = cache.getOrBuild("kernel", KEY, "test kernel", e -> { }, dir -> {
            builds.incrementAndGet();
            Files.writeString(dir.resolve("bzImage"), "kernel");
        });
        CacheEntry second = cache.getOrBuild("kernel", KEY, "test kernel", e -> { }, dir -> builds.incrementAndGet());
        assertThat(builds).hasValue(1);
        assertThat(second.dir()).isEqualTo(first.dir()).isEqualTo(tmp.resolve("kernel").resolve(KEY.hex()));
        assertThat(first.dir().resolve("bzImage")).hasContent("kernel");
        assertThat(first.inputs()).containsEntry("source", "linux-6.1");
        assertThat(cache.lookup("kernel", KEY)).isPresent();
        assertThat(tmp.resolve("tmp")).isEmptyDirectory();
    }

    @Test
    void failedBuildLeavesNothingBehind() {
        Cache cache = new Cache(tmp);
        assertThatThrownBy(() -> cache.getOrBuild("kernel", KEY, "test kernel", e -> { }, dir -> {
            Files.writeString(dir.resolve("half"), "written");
            throw new IOException("disk full");
        })).isInstanceOfSatisfying(RkmodException.class,
                e -> assertThat(e.paragraph()).contains("Building test kernel failed").contains("disk full"));
        assertThat(cache.lookup("kernel", KEY)).isEmpty();
        assertThat(tmp.resolve("kernel").resolve(KEY.hex())).doesNotExist();
        assertThat(tmp.resolve("tmp")).isEmptyDirectory();
    }

    @Test
    void concurrentThreadsBuildOnce() throws Exception {
        Cache cache = new Cache(tmp);
        AtomicInteger builds = new AtomicInteger();
        CountDownLatch go = new CountDownLatch(1);
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<CacheEntry>> futures = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                futures.add(pool.submit(() -> {
                    go.await();
                    return cache.getOrBuild("kernel", KEY, "k", e -> { }, dir -> {
                        builds.incrementAndGet();
                        Thread.sleep(300);
                        Files.writeString(dir.resolve("x"), "y");
                    });
                }));
            }
            go.countDown();
            for (Future<CacheEntry> f : futures) {
                assertThat(f.get(30, TimeUnit.SECONDS).dir().resolve("x")).hasContent("y");
            }
        } finally {
            pool.shutdownNow();
        }
        assertThat(builds).hasValue(1);
    }

    @Test
    void secondProcessWaitsForTheLockAndReusesTheResult() throws Exception {
        String java = ProcessHandle.current().info().command().orElse("java");
        Path started = tmp.resolve("started");
        Process other = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
                CacheBuilderMain.class.getName(), tmp.resolve("cache").toString(), started.toString(), "1500")
                .redirectErrorStream(true).redirectOutput(tmp.resolve("other.log").toFile()).start();
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (!Files.exists(started) && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertThat(started).as("the other process started building").exists();
            Cache cache = new Cache(tmp.resolve("cache"));
            List<Event> events = new CopyOnWriteArrayList<>();
            AtomicInteger builds = new AtomicInteger();
            CacheEntry e = cache.getOrBuild("kernel", CacheBuilderMain.KEY, "shared kernel", events::add, dir -> {
                builds.incrementAndGet();
                Files.writeString(dir.resolve("builder"), "this process");
            });
            assertThat(builds).as("this process must not build").hasValue(0);
            assertThat(e.dir().resolve("builder")).hasContent("other process");
            assertThat(events).anySatisfy(ev -> assertThat(ev.toString()).contains("waiting for another rkmod process"));
            assertThat(other.waitFor(30, TimeUnit.SECONDS)).isTrue();
            assertThat(other.exitValue()).as(Files.readString(tmp.resolve("other.log"))).isZero();
        } finally {
            other.destroyForcibly();
        }
    }

    @Test
    void listAndClear() {
        Cache cache = new Cache(tmp);
        cache.getOrBuild("kernel", KEY, "k1", e -> { }, dir -> Files.writeString(dir.resolve("a"), "1"));
        CacheKey other = CacheKey.of(Map.of("suite", "trixie"));
        cache.getOrBuild("root", other, "r1", e -> { }, dir -> Files.createDirectories(dir.resolve("root/usr")));
        assertThat(cache.list()).extracting(CacheEntry::kind).containsExactlyInAnyOrder("kernel", "root");
        assertThat(cache.clear("root")).extracting(CacheEntry::description).containsExactly("r1");
        assertThat(cache.list()).extracting(CacheEntry::description).containsExactly("k1");
        assertThat(cache.clear(null)).hasSize(1);
        assertThat(cache.list()).isEmpty();
    }

    @Test
    void anUnreadableLeftoverIsReplacedAndClearedAway() throws Exception {
        Cache cache = new Cache(tmp);
        Path leftover = Files.createDirectories(tmp.resolve("kernel").resolve(KEY.hex()).resolve("half"));
        Files.writeString(leftover.resolve("x"), "interrupted delete");
        CacheEntry e = cache.getOrBuild("kernel", KEY, "k", ev -> { }, dir -> Files.writeString(dir.resolve("ok"), "1"));
        assertThat(e.dir().resolve("ok")).exists();
        assertThat(e.dir().resolve("half")).doesNotExist();
        Path other = Files.createDirectories(tmp.resolve("kernel").resolve("0".repeat(64)));
        cache.clear("kernel");
        assertThat(other).doesNotExist();
    }

    @Test
    void rejectsReservedKinds() {
        Cache cache = new Cache(tmp);
        assertThatThrownBy(() -> cache.lookup("tmp", KEY)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> cache.lookup("../x", KEY)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void entryTimesReadWithoutJavaTimeAreTheInstantsJavaTimeReads() {
        java.util.Random r = new java.util.Random(11);
        java.util.List<String> texts = new java.util.ArrayList<>(java.util.List.of("1970-01-01T00:00:00Z",
                "2000-02-29T23:59:59.999999999Z", "2026-11-29T10:34:04.825582599Z", "1969-12-31T23:59:59.5Z",
                "2100-03-01T00:00:00.120Z", "0001-01-01T00:00:00Z"));
        for (int i = 0; i < 50_000; i++) {
            texts.add(java.time.Instant.ofEpochSecond(r.nextLong() % 253_402_300_799L, r.nextInt(1_000_000_000) / (i % 4 == 0 ? 1 : 1000) * (i % 4 == 0 ? 1 : 1000)).toString());
        }
        for (String t : texts) {
            assertThat(Cache.instant(t)).as(t).isEqualTo(java.time.Instant.parse(t));
        }
        // odd texts go to Instant.parse: the same instant, or the same error
        for (String odd : new String[] {"2023-02-29T00:00:00Z", "2026-13-01T00:00:00Z", "2026-04-31T00:00:00Z",
            "2026-11-29T24:00:00Z", "2026-11-29 10:34:04Z", "2026-11-29T10:34:04.1234567890Z", "+12026-01-01T00:00:00Z",
            "2026-11-29T10:34:04+01:00", "", "x"}) {
            Object expected;
            try {
                expected = java.time.Instant.parse(odd);
            } catch (java.time.format.DateTimeParseException e) {
                expected = e.getClass();
            }
            Object actual;
            try {
                actual = Cache.instant(odd);
            } catch (java.time.format.DateTimeParseException e) {
                actual = e.getClass();
            }
            assertThat(actual).as(odd).isEqualTo(expected);
        }
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> Cache.instant("2023-02-29T00:00:00Z"))
                .isInstanceOf(java.time.format.DateTimeParseException.class);
    }
}
