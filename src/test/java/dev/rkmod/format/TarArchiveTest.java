package dev.rkmod.format;

import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class TarArchiveTest {
    @TempDir
    Path tmp;

    private List<TarArchive.Item> tree(Path root) throws Exception {
        Files.createDirectories(root.resolve("scripts/mod"));
        Files.writeString(root.resolve("Makefile"), "VERSION = 6\n");
        Files.writeString(root.resolve("scripts/mod/modpost"), "#!/bin/sh\n");
        Files.setPosixFilePermissions(root.resolve("scripts/mod/modpost"), PosixFilePermissions.fromString("rwx------"));
        Files.createSymbolicLink(root.resolve("scripts/link"), Path.of("mod/modpost"));
        return List.of(new TarArchive.Item("Makefile", root.resolve("Makefile")),
                new TarArchive.Item("scripts", root.resolve("scripts")),
                new TarArchive.Item("scripts/link", root.resolve("scripts/link")),
                new TarArchive.Item("scripts/mod", root.resolve("scripts/mod")),
                new TarArchive.Item("scripts/mod/modpost", root.resolve("scripts/mod/modpost")));
    }

    @Test
    void archivesAreByteIdenticalWhateverTheFileTimesAndRoundTrip() throws Exception {
        List<TarArchive.Item> items = tree(tmp.resolve("a"));
        Path one = tmp.resolve("one.tar.zst");
        try (OutputStream os = Files.newOutputStream(one)) {
            TarArchive.write(os, TarArchive.Compression.ZSTD, items, 0, 3);
        }
        Files.setLastModifiedTime(tmp.resolve("a/Makefile"), FileTime.fromMillis(123456789));
        Path two = tmp.resolve("two.tar.zst");
        try (OutputStream os = Files.newOutputStream(two)) {
            TarArchive.write(os, TarArchive.Compression.ZSTD, items, 0, 3);
        }
        assertThat(Files.readAllBytes(two)).isEqualTo(Files.readAllBytes(one));
        assertThat(TarArchive.detect(one)).isEqualTo(TarArchive.Compression.ZSTD);

        Path out = Files.createDirectories(tmp.resolve("out"));
        assertThat(TarArchive.extract(one, out)).isEqualTo(5);
        assertThat(out.resolve("Makefile")).hasContent("VERSION = 6");
        assertThat(Files.isExecutable(out.resolve("scripts/mod/modpost"))).isTrue();
        assertThat(Files.readSymbolicLink(out.resolve("scripts/link"))).isEqualTo(Path.of("mod/modpost"));
    }

    @Test
    void xzArchivesRoundTrip() throws Exception {
        List<TarArchive.Item> items = tree(tmp.resolve("x"));
        Path a = tmp.resolve("p.tar.xz");
        try (OutputStream os = Files.newOutputStream(a)) {
            TarArchive.write(os, TarArchive.Compression.XZ, items, 1700000000L, 3);
        }
        assertThat(TarArchive.detect(a)).isEqualTo(TarArchive.Compression.XZ);
        Path out = Files.createDirectories(tmp.resolve("xo"));
        TarArchive.extract(a, out);
        assertThat(out.resolve("scripts/mod/modpost")).exists();
    }

    private Path evil(String name, String link) throws Exception {
        Path a = tmp.resolve("evil-" + Math.abs(name.hashCode()) + ".tar");
        try (TarArchiveOutputStream tar = new TarArchiveOutputStream(Files.newOutputStream(a))) {
            TarArchiveEntry e;
            if (link != null) {
                e = new TarArchiveEntry(name, TarArchiveEntry.LF_SYMLINK);
                e.setLinkName(link);
                tar.putArchiveEntry(e);
            } else {
                e = new TarArchiveEntry(name);
                byte[] data = "x".getBytes(StandardCharsets.UTF_8);
                e.setSize(data.length);
                tar.putArchiveEntry(e);
                tar.write(data);
            }
            tar.closeArchiveEntry();
        }
        return a;
    }

    @Test
    void extractionRefusesPathsThatLeaveTheDestination() throws Exception {
        Path out = Files.createDirectories(tmp.resolve("dest"));
        assertThatThrownBy(() -> TarArchive.extract(evil("../escape", null), out))
                .isInstanceOf(FormatException.class).hasMessageContaining("Unsafe archive entry '../escape'");
        assertThatThrownBy(() -> TarArchive.extract(evil("a/../../escape", null), out))
                .isInstanceOf(FormatException.class);
        assertThatThrownBy(() -> TarArchive.extract(evil("link", "/etc/passwd"), out))
                .isInstanceOfSatisfying(FormatException.class, e -> assertThat(e.paragraph()).contains("outside the archive"));
        assertThatThrownBy(() -> TarArchive.extract(evil("dir/link", "../../x"), out))
                .isInstanceOf(FormatException.class);
        assertThat(tmp.resolve("escape")).doesNotExist();
    }

    /** An archive of entries in order: name and link target, or name and null for a file holding "x" (a directory if the name ends in '/'). */
    private Path hostile(String file, String... entries) throws Exception {
        Path a = tmp.resolve(file);
        try (TarArchiveOutputStream tar = new TarArchiveOutputStream(Files.newOutputStream(a))) {
            for (int i = 0; i < entries.length; i += 2) {
                TarArchiveEntry e;
                if (entries[i + 1] != null) {
                    e = new TarArchiveEntry(entries[i], TarArchiveEntry.LF_SYMLINK);
                    e.setLinkName(entries[i + 1]);
                    tar.putArchiveEntry(e);
                } else if (entries[i].endsWith("/")) {
                    tar.putArchiveEntry(new TarArchiveEntry(entries[i]));
                } else {
                    e = new TarArchiveEntry(entries[i]);
                    e.setSize(1);
                    tar.putArchiveEntry(e);
                    tar.write('x');
                }
                tar.closeArchiveEntry();
            }
        }
        return a;
    }

    @Test
    void linksAreCheckedAgainstWhatIsAlreadyExtractedNotByTheirSpelling() throws Exception {
        // 'here -> .' is harmless; 'esc -> here/../outside' looks inside when spelled out (here/.. cancels), but the
        // kernel resolves 'here' first, so it points next to the destination
        Path d1 = Files.createDirectories(tmp.resolve("box1/dest"));
        assertThatThrownBy(() -> TarArchive.extract(hostile("a1.tar", "here", ".", "esc", "here/../outside"), d1))
                .isInstanceOfSatisfying(FormatException.class, e -> assertThat(e.paragraph())
                        .contains("Unsafe archive entry 'esc'").contains("outside the archive"));

        // a link inside the tree, then a file written through it: refused, nothing lands where the link points
        Path d2 = Files.createDirectories(tmp.resolve("box2/dest"));
        Files.createDirectories(tmp.resolve("box2/victim"));
        assertThatThrownBy(() -> TarArchive.extract(hostile("a2.tar", "sub/", null, "up", "sub/..", "up/x", null), d2))
                .isInstanceOf(FormatException.class);
        Path d2b = Files.createDirectories(tmp.resolve("box2b/dest"));
        assertThatThrownBy(() -> TarArchive.extract(hostile("a2b.tar", "in", "sub", "in/payload", null), d2b))
                .isInstanceOfSatisfying(FormatException.class, e -> assertThat(e.paragraph())
                        .contains("written through the symbolic link in"));

        // 'a -> c/..' is inside while c does not exist; the later 'c -> .' turns it into a way out
        Path d3 = Files.createDirectories(tmp.resolve("box3/dest"));
        assertThatThrownBy(() -> TarArchive.extract(hostile("a3.tar", "a", "c/..", "c", "."), d3))
                .isInstanceOfSatisfying(FormatException.class, e -> assertThat(e.paragraph())
                        .contains("Unsafe archive entry 'a'").contains("points outside"));

        // a file entry at the path of an earlier link replaces the link and is not written through it
        Path d4 = Files.createDirectories(tmp.resolve("box4/dest"));
        Files.writeString(tmp.resolve("box4/dest/target"), "keep");
        TarArchive.extract(hostile("a4.tar", "f", "target", "f", null), d4);
        assertThat(Files.isSymbolicLink(d4.resolve("f"))).isFalse();
        assertThat(Files.readString(d4.resolve("f"))).isEqualTo("x");
        assertThat(Files.readString(d4.resolve("target"))).isEqualTo("keep");

        // links that stay inside, also through other links, still extract
        Path d5 = Files.createDirectories(tmp.resolve("box5/dest"));
        TarArchive.extract(hostile("a5.tar", "dir/file", null, "dir/self", ".", "ok", "dir/self/file", "top", "dir/self/.."), d5);
        assertThat(Files.readString(d5.resolve("ok"))).isEqualTo("x");
        assertThat(d5.resolve("top").toRealPath()).isEqualTo(d5.toRealPath());
        assertThat(tmp.resolve("box1/outside")).doesNotExist();
        assertThat(tmp.resolve("box2/x")).doesNotExist();
    }

    @Test
    void aCorruptArchiveIsATypedError() throws Exception {
        Path a = tmp.resolve("bad.tar.zst");
        Files.write(a, new byte[] {0x28, (byte) 0xB5, 0x2F, (byte) 0xFD, 1, 2, 3, 4, 5});
        Path out = Files.createDirectories(tmp.resolve("bad"));
        assertThatThrownBy(() -> TarArchive.extract(a, out)).isInstanceOfSatisfying(FormatException.class,
                e -> assertThat(e.reason()).isEqualTo(FormatException.Reason.CORRUPT));
    }
}
