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
    private static final Gson GSON = new GsonBuilder().setPrettyPrinting().disableHtmlEscaping().create();

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
            meta.add("inputs", GSON.toJsonTree(key.inputs()));
            Files.writeString(tmp.resolve(ENTRY_FILE), GSON.toJson(meta), StandardCharsets.UTF_8);
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
        try {
            JsonObject o = GSON.fromJson(Files.readString(meta, StandardCharsets.UTF_8), JsonObject.class);
            Map<String, String> inputs = GSON.fromJson(o.get("inputs"), new TypeToken<Map<String, String>>() { }.getType());
            return Optional.of(new CacheEntry(o.get("kind").getAsString(), o.get("key").getAsString(),
                    o.get("description").getAsString(), Instant.parse(o.get("created").getAsString()), dir,
                    inputs == null ? Map.of() : inputs));
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
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
