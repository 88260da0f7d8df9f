package dev.rkmod.it;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

class LauncherIT {

    @Test
    void launcherRunsTheJarWithoutRebuildingIt() throws Exception {
        Rkmod.Result first = Rkmod.launcher("--help");
        assertThat(first.exit()).as(first.err()).isZero();
        assertThat(first.out()).contains("deps", "cache", "Exit codes:");
        FileTime built = Files.getLastModifiedTime(Rkmod.repo().resolve("target/rkmod.jar"));

        Rkmod.Result second = Rkmod.launcher("--version");
        assertThat(second.exit()).isZero();
        assertThat(second.out()).startsWith("rkmod ");
        assertThat(second.err()).doesNotContain("building");
        assertThat(Files.getLastModifiedTime(Rkmod.repo().resolve("target/rkmod.jar"))).isEqualTo(built);
    }

    @Test
    void usageErrorsExit2WithoutAStackTrace() throws Exception {
        Rkmod.Result r = Rkmod.launcher("deps", "--profile", "5.4");
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).contains("Unknown profile '5.4'").doesNotContain("\tat ");
    }

    /**
     * The launcher in a copy of the repository layout, with the real jar and a stand-in for Maven that only records
     * that it ran and touches the jar: nothing changed means no build; a newer source file means exactly one build;
     * the class-data archive is made once per jar, and a corrupt one is ignored without a word.
     */
    @Test
    void rebuildsOnlyWhenASourceIsNewerAndKeepsItsClassArchiveFresh(@org.junit.jupiter.api.io.TempDir Path repo) throws Exception {
        Files.copy(Rkmod.repo().resolve("rkmod"), repo.resolve("rkmod"));
        Files.writeString(repo.resolve("pom.xml"), "<project/>\n");
        Path source = repo.resolve("src/main/java/dev/rkmod/A.java");
        Files.createDirectories(source.getParent());
        Files.writeString(source, "class A { }\n");
        Path jar = repo.resolve("target/rkmod.jar");
        Files.createDirectories(jar.getParent());
        Files.copy(Rkmod.jar(), jar, StandardCopyOption.REPLACE_EXISTING);
        FileTime t0 = FileTime.fromMillis(System.currentTimeMillis() - 60_000);
        Files.setLastModifiedTime(repo.resolve("pom.xml"), t0);
        Files.setLastModifiedTime(source, t0);
        Files.setLastModifiedTime(source.getParent(), t0);
        Path bin = repo.resolve("bin");
        Files.createDirectories(bin);
        Path log = repo.resolve("mvn.log");
        Path mvn = bin.resolve("mvn");
        Files.writeString(mvn, "#!/bin/sh\necho \"mvn $*\" >>" + log + "\ntouch target/rkmod.jar\n");
        Files.setPosixFilePermissions(mvn, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path jsa = repo.resolve("target/rkmod.jsa");

        Rkmod.Result first = run(repo, bin, "--version");
        assertThat(first.exit()).as(first.err()).isZero();
        assertThat(first.out()).startsWith("rkmod ");
        assertThat(first.err()).isEmpty();
        assertThat(log).doesNotExist();
        assertThat(jsa).isNotEmptyFile();
        assertThat(Files.getLastModifiedTime(jsa)).isGreaterThan(Files.getLastModifiedTime(jar));
        FileTime archived = Files.getLastModifiedTime(jsa);

        Files.setLastModifiedTime(source, FileTime.fromMillis(Files.getLastModifiedTime(jar).toMillis() + 5_000));
        Rkmod.Result edited = run(repo, bin, "--version");
        assertThat(edited.exit()).as(edited.err()).isZero();
        assertThat(edited.err()).contains("building target/rkmod.jar");
        assertThat(Files.readAllLines(log)).hasSize(1).allMatch(l -> l.contains("package"));
        Files.setLastModifiedTime(jar, FileTime.fromMillis(Files.getLastModifiedTime(source).toMillis() + 5_000));

        Rkmod.Result again = run(repo, bin, "info", "--help");
        assertThat(again.exit()).as(again.err()).isZero();
        assertThat(again.err()).isEmpty();
        assertThat(Files.readAllLines(log)).as("no second build").hasSize(1);
        assertThat(Files.getLastModifiedTime(jsa)).as("the archive of the new jar").isGreaterThan(archived);

        Files.write(jsa, "not an archive".getBytes(StandardCharsets.US_ASCII));
        Rkmod.Result corrupt = run(repo, bin, "--version");
        assertThat(corrupt.exit()).isZero();
        assertThat(corrupt.out()).startsWith("rkmod ");
        assertThat(corrupt.err()).isEmpty();
    }

    private static Rkmod.Result run(Path repo, Path bin, String... args) throws Exception {
        List<String> argv = new java.util.ArrayList<>(List.of("bash", repo.resolve("rkmod").toString()));
        argv.addAll(List.of(args));
        return Rkmod.exec(argv, Map.of("PATH", bin + ":" + System.getenv("PATH")), 600);
    }
}
