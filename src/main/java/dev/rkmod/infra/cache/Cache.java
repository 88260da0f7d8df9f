package dev.rkmod.infra.cache;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonObject;
import com.google.gson.reflect.TypeToken;
import dev.rkmod.infra.event.EventSink;
import dev.rkmod.infra.fs.FileOps;
import dev.rkmod.infra.lifecycle.Cleanup;
import dev.rkmod.model.ExitCode;
import dev.rkmod.model.RkmodException;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;
import java.util.regex.Pattern;

/**
 * Content-addressed cache under {@code $XDG_CACHE_HOME/rkmod}. A result is built in a temporary
 * directory and published by an atomic rename to {@code <kind>/<key>}. A lock file stops two rkmod
 * processes (or threads) from building the same key at once: the second waits, then reuses.
 */
public final class Cache {
    public static final String ENTRY_FILE = ".rkmod-entry.json";
    private static final Pattern KIND = Pattern.compile("[a-z][a-z0-9-]{0,39}");
    private static final Map<Path, ReentrantLock> JVM_LOCKS = new ConcurrentHashMap<>();
    /** Gson, made when an entry is written or an unusual one read: reading entries needs no Gson (FlatJson). */
    private static final class Json {
        static final Gson GSON = new GsonBuilder().setPrettyPrinting().disableHtmlEscaping().create();
    }

    private final Path root;

    public Cache(Path root) {
        Path abs = root.toAbsolutePath().normalize();
        // mount tables list real paths: resolve symbolic links so mount checks and unmounts see the same path
        Path real = abs;
        try {
            Files.createDirectories(abs);
            real = abs.toRealPath();
        } catch (IOException ignored) {
            // unwritable: reported when the cache is first used
        }
        this.root = real;
    }

    /** {@code $XDG_CACHE_HOME/rkmod}, or {@code ~/.cache/rkmod}. */
    public static Path defaultRoot(Map<String, String> env) {
        String xdg = env.get("XDG_CACHE_HOME");
        if (xdg != null && !xdg.isBlank() && Path.of(xdg).isAbsolute()) {
            return Path.of(xdg, "rkmod");
        }
        String home = env.getOrDefault("HOME", System.getProperty("user.home"));
        return Path.of(home, ".cache", "rkmod");
    }

    public Path root() {
        return root;
    }

    public Path logDir() {
        return root.resolve("logs");
    }

    /** A scratch directory for work that is not cached itself. */
    public Path scratch(String prefix) {
        try {
            Files.createDirectories(root.resolve("tmp"));
            sweepStale();
            return Files.createTempDirectory(root.resolve("tmp"), prefix + OWNER + ProcessHandle.current().pid() + ".");
        } catch (IOException e) {
            throw unwritable(e);
        }
    }

    /** Marks a temporary directory's owner: {@code <prefix>.pid<PID>.<random>}. */
    private static final String OWNER = ".pid";
    private static final Pattern OWNED = Pattern.compile(".+\\.pid(\\d+)\\..*");

    /**
     * Removes temporary directories whose owner is gone: killed (even with SIGKILL) or ended without cleaning up. An owner
     * is gone when no process has its PID, or the process with that PID started after the directory was made (the PID
     * was reused). Directories of live rkmod processes are never touched.
     */
    public void sweepStale() {
        Path tmp = root.resolve("tmp");
        if (!Files.isDirectory(tmp)) {
            return;
        }
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(tmp)) {
            for (Path p : ds) {
                if (isStale(p)) {
                    FileOps.deleteQuietly(p);
                }
            }
        } catch (IOException | RuntimeException e) {
            // best effort: 'rkmod cache clear' removes them too
        }
    }

    static boolean isStale(Path p) {
        var m = OWNED.matcher(p.getFileName().toString());
        if (!m.matches()) {
            return false;
        }
        long pid;
        try {
            pid = Long.parseLong(m.group(1));
        } catch (NumberFormatException e) {
            return false;
        }
        if (pid == ProcessHandle.current().pid()) {
            return false;
        }
        Optional<ProcessHandle> h = ProcessHandle.of(pid);
        if (h.isEmpty() || !h.get().isAlive()) {
            return true;
        }
        Optional<Instant> started = h.get().info().startInstant();
        try {
            // the owner made (and since changed) the directory after it started; a process that started later reuses the PID
            Instant changed = Files.getLastModifiedTime(p, java.nio.file.LinkOption.NOFOLLOW_LINKS).toInstant();
            return started.isPresent() && started.get().isAfter(changed);
        } catch (IOException e) {
            return false;
        }
    }

    public Optional<CacheEntry> lookup(String kind, CacheKey key) {
        checkKind(kind);
        return read(root.resolve(kind).resolve(key.hex()));
    }

    /** Builds the content of an entry inside an empty directory. */
    @FunctionalInterface
    public interface Builder {
        void build(Path dir) throws Exception;
    }

    /**
     * Returns the entry for {@code key}, building it first when absent. Concurrent callers for the
     * same key wait for the first and then reuse its result.
     */
    public CacheEntry getOrBuild(String kind, CacheKey key, String description, EventSink sink, Builder builder) {
        checkKind(kind);
        Path finalDir = root.resolve(kind).resolve(key.hex());
        Optional<CacheEntry> hit = read(finalDir);
        if (hit.isPresent()) {
            sink.debug("cache hit: " + kind + "/" + key.shortHex());
            return hit.get();
        }
        Path lockFile = root.resolve("locks").resolve(kind + "-" + key.hex() + ".lock");
        ReentrantLock jvmLock = JVM_LOCKS.computeIfAbsent(lockFile, p -> new ReentrantLock());
        try {
            Files.createDirectories(lockFile.getParent());
        } catch (IOException e) {
            throw unwritable(e);
        }
        if (!jvmLock.tryLock()) {
            sink.info("waiting for another build of " + description + " to finish");
            jvmLock.lock();
        }
        try (FileChannel ch = FileChannel.open(lockFile, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
            FileLock lock = ch.tryLock();
            if (lock == null) {
                sink.info("waiting for another rkmod process building " + description + " (lock " + lockFile + ")");
                lock = ch.lock();
            }
            try {
                hit = read(finalDir);
                if (hit.isPresent()) {
                    sink.info("reusing " + description + " built by another process");
                    return hit.get();
                }
                return buildAndPublish(kind, key, description, finalDir, builder);
            } finally {
                lock.release();
            }
        } catch (IOException e) {
            throw unwritable(e);
        } finally {
            jvmLock.unlock();
        }
    }

    private CacheEntry buildAndPublish(String kind, CacheKey key, String description, Path finalDir, Builder builder)
            throws IOException {
        Path tmpRoot = root.resolve("tmp");
        Files.createDirectories(tmpRoot);
        Files.createDirectories(finalDir.getParent());
        sweepStale();
        Path tmp = Files.createTempDirectory(tmpRoot, kind + "-" + key.shortHex() + OWNER + ProcessHandle.current().pid() + ".");
        boolean published = false;
        try (Cleanup.Handle ignored = Cleanup.register(Cleanup.Phase.FILES, () -> FileOps.deleteQuietly(tmp))) {
            try {
                builder.build(tmp);
            } catch (RkmodException e) {
                throw e;
            } catch (IOException e) {
                throw new RkmodException(ExitCode.ENVIRONMENT, "Building " + description + " failed",
                        e.getClass().getSimpleName() + ": " + e.getMessage(),
                        "Check free disk space and permissions under " + root, e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new RkmodException(ExitCode.INTERNAL, "Interrupted while building " + description, null, null, e);
            } catch (Exception e) {
                throw new RkmodException(ExitCode.INTERNAL, "Building " + description + " failed unexpectedly",
                        e.toString(), "Rerun with --debug and report the problem", e);
            }
            JsonObject meta = new JsonObject();
            meta.addProperty("kind", kind);
            meta.addProperty("key", key.hex());
            meta.addProperty("description", description);
            meta.addProperty("created", Instant.now().toString());
            meta.add("inputs", Json.GSON.toJsonTree(key.inputs()));
            Files.writeString(tmp.resolve(ENTRY_FILE), Json.GSON.toJson(meta), StandardCharsets.UTF_8);
            if (Files.exists(finalDir)) {
                // an unreadable leftover (interrupted delete, truncated metadata): we hold the lock, replace it
                discard(finalDir);
            }
            FileOps.moveAtomically(tmp, finalDir);
            published = true;
        } finally {
            if (!published) {
                FileOps.deleteQuietly(tmp);
            }
        }
        return read(finalDir).orElseThrow(() -> new IllegalStateException("published entry unreadable: " + finalDir));
    }

    /** Every published entry, newest first. */
    public List<CacheEntry> list() {
        return list(null);
    }

    /** The published entries of one kind (all kinds for null), newest first. */
    public List<CacheEntry> list(String kindOrNull) {
        if (kindOrNull != null) {
            checkKind(kindOrNull);
        }
        List<CacheEntry> out = new ArrayList<>();
        if (!Files.isDirectory(root)) {
            return out;
        }
        try (DirectoryStream<Path> kinds = Files.newDirectoryStream(root, Files::isDirectory)) {
            for (Path kindDir : kinds) {
                String name = kindDir.getFileName().toString();
                if (!KIND.matcher(name).matches() || name.equals("tmp") || name.equals("locks") || name.equals("logs")
                        || kindOrNull != null && !kindOrNull.equals(name)) {
                    continue;
                }
                try (DirectoryStream<Path> entries = Files.newDirectoryStream(kindDir, Files::isDirectory)) {
                    for (Path e : entries) {
                        read(e).filter(c -> kindOrNull == null || kindOrNull.equals(c.kind())).ifPresent(out::add);
                    }
                }
            }
        } catch (IOException e) {
            throw unwritable(e);
        }
        out.sort(Comparator.comparing(CacheEntry::created).reversed());
        return out;
    }

    /** Removes entries (all, or of one kind) plus stale temporary directories and logs. */
    public List<CacheEntry> clear(String kindOrNull) {
        List<CacheEntry> removed = new ArrayList<>();
        for (CacheEntry e : list()) {
            if (kindOrNull == null || kindOrNull.equals(e.kind())) {
                discard(e.dir());
                removed.add(e);
            }
        }
        // directories without readable metadata are leftovers of interrupted work
        try (DirectoryStream<Path> kinds = Files.newDirectoryStream(root, Files::isDirectory)) {
            for (Path kindDir : kinds) {
                String name = kindDir.getFileName().toString();
                if (List.of("tmp", "locks", "logs").contains(name) || (kindOrNull != null && !kindOrNull.equals(name))) {
                    continue;
                }
                try (DirectoryStream<Path> entries = Files.newDirectoryStream(kindDir, Files::isDirectory)) {
                    for (Path e : entries) {
                        if (read(e).isEmpty()) {
                            discard(e);
                        }
                    }
                }
            }
        } catch (IOException e) {
            throw unwritable(e);
        }
        if (kindOrNull == null) {
            // temporary directories of live rkmod processes are their builds in progress: leave them
            Path tmp = root.resolve("tmp");
            if (Files.isDirectory(tmp)) {
                try (DirectoryStream<Path> ds = Files.newDirectoryStream(tmp)) {
                    for (Path p : ds) {
                        if (!OWNED.matcher(p.getFileName().toString()).matches() || isStale(p)) {
                            FileOps.deleteTree(p);
                        }
                    }
                } catch (IOException e) {
                    throw unwritable(e);
                }
            }
            FileOps.deleteTree(root.resolve("logs"));
        }
        return removed;
    }

    /**
     * Removes an entry so that it is gone at once: it is first renamed into {@code tmp/} (atomically, so no reader and no
     * interrupted run ever sees a half-deleted entry that still has its metadata), then deleted there.
     */
    private void discard(Path entryDir) {
        List<Path> mounted = dev.rkmod.infra.fs.Mounts.under(entryDir);
        if (!mounted.isEmpty()) {
            FileOps.deleteTree(entryDir); // refuses, naming the mount
        }
        Path aside;
        try {
            Files.createDirectories(root.resolve("tmp"));
            aside = root.resolve("tmp").resolve("discard-" + entryDir.getFileName() + OWNER
                    + ProcessHandle.current().pid() + "." + System.nanoTime());
            FileOps.moveAtomically(entryDir, aside);
        } catch (java.nio.file.NoSuchFileException e) {
            return;
        } catch (IOException e) {
            throw unwritable(e);
        }
        FileOps.deleteTree(aside);
    }

    private Optional<CacheEntry> read(Path dir) {
        Path meta = dir.resolve(ENTRY_FILE);
        if (!Files.isRegularFile(meta)) {
            return Optional.empty();
        }
        String text;
        try {
            text = Files.readString(meta, StandardCharsets.UTF_8);
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
        try {
            // the flat reader first (no Gson to load on a short command); anything it does not take goes to Gson
            Map<String, Object> m = dev.rkmod.format.FlatJson.parse(text);
            if (m.get("kind") instanceof String kind && m.get("key") instanceof String k
                    && m.get("description") instanceof String description && m.get("created") instanceof String created
                    && (m.get("inputs") == null || m.get("inputs") instanceof Map)) {
                @SuppressWarnings("unchecked")
                Map<String, String> inputs = m.get("inputs") == null ? Map.of() : (Map<String, String>) m.get("inputs");
                return Optional.of(new CacheEntry(kind, k, description, instant(created), dir, inputs));
            }
        } catch (RuntimeException e) {
            // not flat, or an unusual time: Gson reads it as before
        }
        try {
            JsonObject o = Json.GSON.fromJson(text, JsonObject.class);
            Map<String, String> inputs = Json.GSON.fromJson(o.get("inputs"), new TypeToken<Map<String, String>>() { }.getType());
            return Optional.of(new CacheEntry(o.get("kind").getAsString(), o.get("key").getAsString(),
                    o.get("description").getAsString(), Instant.parse(o.get("created").getAsString()), dir,
                    inputs == null ? Map.of() : inputs));
        } catch (RuntimeException e) {
            return Optional.empty();
        }
    }

    /**
     * The instant Instant.toString wrote ("2026-11-29T10:34:04.825582599Z", 0 to 9 fraction digits), read without
     * java.time's formatter (about 8 ms in a fresh JVM); any other text goes to Instant.parse.
     */
    static Instant instant(String t) {
        int n = t.length();
        boolean plain = n >= 20 && t.charAt(4) == '-' && t.charAt(7) == '-' && t.charAt(10) == 'T' && t.charAt(13) == ':'
                && t.charAt(16) == ':' && t.charAt(n - 1) == 'Z' && (n == 20 || t.charAt(19) == '.' && n > 21 && n <= 30);
        for (int i = 0; plain && i < n - 1; i++) {
            if (i != 4 && i != 7 && i != 10 && i != 13 && i != 16 && i != 19) {
                plain = t.charAt(i) >= '0' && t.charAt(i) <= '9';
            }
        }
        if (!plain) {
            return Instant.parse(t);
        }
        int year = Integer.parseInt(t, 0, 4, 10);
        int month = Integer.parseInt(t, 5, 7, 10);
        int day = Integer.parseInt(t, 8, 10, 10);
        int hour = Integer.parseInt(t, 11, 13, 10);
        int minute = Integer.parseInt(t, 14, 16, 10);
        int second = Integer.parseInt(t, 17, 19, 10);
        int nanos = 0;
        if (n > 20) {
            String f = t.substring(20, n - 1);
            nanos = Integer.parseInt(f) * (int) Math.pow(10, 9 - f.length());
        }
        int monthDays = switch (month) {
            case 2 -> year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) ? 29 : 28;
            case 4, 6, 9, 11 -> 30;
            default -> 31;
        };
        if (month < 1 || month > 12 || day < 1 || day > monthDays || hour > 23 || minute > 59 || second > 59) {
            return Instant.parse(t); // its error, as before
        }
        // days from civil (proleptic Gregorian)
        int y = month <= 2 ? year - 1 : year;
        int era = Math.floorDiv(y, 400);
        int yoe = y - era * 400;
        int doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
        int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        long days = (long) era * 146_097 + doe - 719_468;
        return Instant.ofEpochSecond(days * 86_400 + hour * 3600L + minute * 60L + second, nanos);
    }

    private static void checkKind(String kind) {
        if (!KIND.matcher(kind).matches() || List.of("tmp", "locks", "logs").contains(kind)) {
            throw new IllegalArgumentException("bad cache kind: " + kind);
        }
    }

    private RkmodException unwritable(IOException e) {
        return new RkmodException(ExitCode.ENVIRONMENT, "The rkmod cache at " + root + " is not usable",
                e.getClass().getSimpleName() + ": " + e.getMessage(),
                "Make it writable, free disk space, or point XDG_CACHE_HOME elsewhere", e);
    }
}
