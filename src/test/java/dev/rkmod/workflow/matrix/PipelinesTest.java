package dev.rkmod.workflow.matrix;

import dev.rkmod.model.ExitCode;
import dev.rkmod.model.RkmodException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The emitted pipelines against golden files (reviewed, and validated by gitlab-ci-local and action-validator in
 * MatrixIT); the same request gives the same bytes.
 */
class PipelinesTest {
    static final List<KernelSpec> KERNELS = KernelSpec.parseAll(List.of("6.1", "6.12", "debian-sid:7.2.13+deb14-amd64"));

    @TempDir
    Path dir;

    static String golden(String name) throws IOException {
        try (InputStream in = PipelinesTest.class.getResourceAsStream("/dev/rkmod/matrix/" + name)) {
            assertThat(in).as(name).isNotNull();
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    @Test
    void gitlabGolden() throws Exception {
        assertThat(Pipelines.write(new Pipelines.Request(Pipelines.Engine.GITLAB, "drivers/demo_mod", KERNELS, 90,
                ".gitlab-ci.yml"))).isEqualTo(golden("gitlab-ci.yml"));
    }

    @Test
    void githubGolden() throws Exception {
        assertThat(Pipelines.write(new Pipelines.Request(Pipelines.Engine.GITHUB, "drivers/demo_mod", KERNELS, 90,
                ".github/workflows/rkmod.yml"))).isEqualTo(golden("github-workflow.yml"));
    }

    @Test
    void emitWritesPathsRelativeToTheRepositoryTheSameBytesEachTime() throws Exception {
        Path repo = Files.createDirectories(dir.resolve("repo"));
        Files.createDirectories(repo.resolve(".git"));
        Path module = Files.createDirectories(repo.resolve("drivers/demo_mod"));
        Files.writeString(module.resolve("Kbuild"), "obj-m := demo_mod.o\n");
        Path out = repo.resolve(".gitlab-ci.yml");
        Pipelines.Emitted e = Pipelines.emit(Pipelines.Engine.GITLAB, module, KERNELS, 90, out);
        assertThat(e.repository()).isEqualTo(repo);
        assertThat(e.module()).isEqualTo("drivers/demo_mod");
        byte[] first = Files.readAllBytes(out);
        assertThat(new String(first, StandardCharsets.UTF_8)).isEqualTo(golden("gitlab-ci.yml"));
        Pipelines.emit(Pipelines.Engine.GITLAB, module, KERNELS, 90, out);
        assertThat(Files.readAllBytes(out)).isEqualTo(first);
        try (var s = Files.list(repo)) {
            assertThat(s.map(p -> p.getFileName().toString())).as("no temporary file left").containsExactlyInAnyOrder(
                    ".git", "drivers", ".gitlab-ci.yml");
        }
    }

    @Test
    void aModuleAtTheRootOfNoRepositoryIsDot() throws Exception {
        Path module = Files.createDirectories(dir.resolve("m"));
        Files.writeString(module.resolve("Makefile"), "all:\n");
        Pipelines.Emitted e = Pipelines.emit(Pipelines.Engine.GITHUB, module, KERNELS.subList(0, 1), 60,
                module.resolve(".github/workflows/rkmod.yml"));
        assertThat(e.module()).isEqualTo(".");
        assertThat(Files.readString(e.file())).contains("RKMOD_MODULE: \".\"")
                .contains("rkmod matrix . --kernel 6.1 --timeout 60 --emit github --out .github/workflows/rkmod.yml");
    }

    @Test
    void aKernelOfThisMachineCannotBeNamedInAPipeline() throws Exception {
        Path tree = Files.createDirectories(dir.resolve("linux"));
        Files.writeString(tree.resolve("Makefile"), "# kernel\n");
        assertThatThrownBy(() -> Pipelines.write(new Pipelines.Request(Pipelines.Engine.GITLAB, ".",
                List.of(KernelSpec.parse(tree.toString())), 60, ".gitlab-ci.yml")))
                .isInstanceOfSatisfying(RkmodException.class, e -> {
                    assertThat(e.exitCode()).isEqualTo(ExitCode.USAGE);
                    assertThat(e.paragraph()).contains("cannot name the kernel").contains("another machine");
                });
    }

    @Test
    void wordsAreQuotedForTheShellAndYaml() {
        assertThat(Pipelines.shellWord("debian-sid:7.2.13+deb14-amd64")).isEqualTo("debian-sid:7.2.13+deb14-amd64");
        assertThat(Pipelines.shellWord("my module's dir")).isEqualTo("'my module'\\''s dir'");
        assertThat(Pipelines.quote("a \"b\" \\c")).isEqualTo("\"a \\\"b\\\" \\\\c\"");
    }
}
