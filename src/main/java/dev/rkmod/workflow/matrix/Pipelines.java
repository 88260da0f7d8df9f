package dev.rkmod.workflow.matrix;

import dev.rkmod.infra.fs.FileOps;
import dev.rkmod.model.ExitCode;
import dev.rkmod.model.RkmodException;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * The matrix as a pipeline of a CI engine users already have, which schedules it: a GitLab CI job with
 * {@code parallel:matrix}, or a GitHub Actions workflow with {@code strategy.matrix}, one job per kernel. Each job
 * installs rkmod's deps for its kernel, restores the kernel package from the CI cache (keyed on the kernel; made with
 * rkmod on a miss), runs {@code rkmod build} and {@code rkmod vmtest --junit}, and uploads the JUnit report. The
 * text depends only on the request: the same request gives the same bytes.
 */
public final class Pipelines {
    /** Where jobs keep the kernel packages, in the checkout (what the CI cache saves and restores). */
    static final String KERNELS = ".rkmod-kernels";

    private Pipelines() {
    }

    /** The CI engines rkmod writes pipelines for, named as --emit takes them. */
    public enum Engine {
        GITLAB, GITHUB;

        public String id() {
            return name().toLowerCase(Locale.ROOT);
        }

        public static Optional<Engine> byId(String id) {
            return Arrays.stream(values()).filter(e -> e.id().equals(id)).findFirst();
        }
    }

    /**
     * What to write: the module's directory and the pipeline file relative to the repository's root ("." for the root
     * itself), the kernels, and each VM's timeout.
     */
    public record Request(Engine engine, String module, List<KernelSpec> kernels, long vmTimeoutSeconds, String out) { }

    /** A written pipeline: its file, the repository it belongs to and the module's directory in it. */
    public record Emitted(Engine engine, Path file, Path repository, String module, long bytes) { }

    /**
     * Writes the pipeline of the module in {@code moduleDir} to {@code out}, atomically. Paths in the pipeline are
     * relative to the repository's root: the nearest directory above the module holding {@code .git}, else the
     * module's directory itself.
     */
    public static Emitted emit(Engine engine, Path moduleDir, List<KernelSpec> kernels, long vmTimeoutSeconds, Path out) {
        Path module = moduleDir.toAbsolutePath().normalize();
        if (!Files.isRegularFile(module.resolve("Kbuild")) && !Files.isRegularFile(module.resolve("Makefile"))) {
            throw new RkmodException(ExitCode.USAGE, module + " is not a module project", "It has no Kbuild or Makefile",
                    "Pass the module's directory");
        }
        Path repo = module;
        for (Path p = module; p != null; p = p.getParent()) {
            if (Files.exists(p.resolve(".git"))) {
                repo = p;
                break;
            }
        }
        Path file = out.toAbsolutePath().normalize();
        String rel = repo.relativize(module).toString();
        String text = write(new Request(engine, rel.isEmpty() ? "." : rel, kernels, vmTimeoutSeconds,
                file.startsWith(repo) ? repo.relativize(file).toString() : file.getFileName().toString()));
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        FileOps.writeAtomically(file, bytes);
        return new Emitted(engine, file, repo, rel.isEmpty() ? "." : rel, bytes.length);
    }

    /** The pipeline's text. Usage error for a kernel a CI job cannot name (a path on this machine). */
    public static String write(Request req) {
        for (KernelSpec k : req.kernels()) {
            if (k.toolchainProfile().isEmpty()) {
                throw new RkmodException(ExitCode.USAGE, "--emit cannot name the kernel '" + k.label() + "' in a pipeline",
                        "A CI job runs on another machine, where a tree or package of this one does not exist; it makes"
                                + " the kernels of profiles and distros itself, and caches them",
                        "Pass profiles (" + KernelSpec.names() + ") or distro kernels with --emit");
            }
        }
        return req.engine() == Engine.GITLAB ? gitlab(req) : github(req);
    }

    private static String gitlab(Request req) {
        StringBuilder y = new StringBuilder();
        header(y, req, List.of(
                "One job, rkmod-matrix, runs once per kernel (parallel:matrix); GitLab schedules the jobs. Each job",
                "installs rkmod's dependencies for its kernel, restores the kernel package from the CI cache (keyed on",
                "the kernel; rkmod makes it on a miss), builds the module with 'rkmod build' and loads it in a throwaway",
                "VM with 'rkmod vmtest', whose JUnit report GitLab shows with the pipeline.",
                "The jobs need a Debian 12 (bookworm) runner on which they run as root (rkmod uses chroot, mount and QEMU)",
                "and find rkmod on PATH: a shell executor on such a machine, for instance."));
        y.append("stages:\n  - test\n\n");
        y.append("rkmod-matrix:\n");
        y.append("  stage: test\n");
        y.append("  parallel:\n    matrix:\n      - RKMOD_KERNEL:\n");
        for (KernelSpec k : req.kernels()) {
            y.append("          - ").append(quote(k.label())).append('\n');
        }
        y.append("  variables:\n");
        y.append("    RKMOD_MODULE: ").append(quote(req.module())).append('\n');
        y.append("    RKMOD_VM_TIMEOUT: ").append(quote(Long.toString(req.vmTimeoutSeconds()))).append('\n');
        y.append("  cache:\n");
        y.append("    key: \"rkmod-kernel-$RKMOD_KERNEL\"\n");
        y.append("    paths:\n      - \"" + KERNELS + "/$RKMOD_KERNEL/\"\n");
        y.append("  script:\n");
        y.append("    - |\n").append(indent(profileOf(req.kernels()) + "rkmod deps --install --profile \"$profile\"\n"
                + prepare("RKMOD_KERNEL"), 6));
        y.append("    - rkmod build \"$RKMOD_MODULE\" --kdir \"" + KERNELS + "/$RKMOD_KERNEL/kdir\"\n");
        y.append("    - |\n").append(indent(vmtest("RKMOD_KERNEL"), 6));
        y.append("  artifacts:\n");
        y.append("    when: always\n");
        y.append("    paths:\n      - \"rkmod-junit-$RKMOD_KERNEL.xml\"\n");
        y.append("    reports:\n      junit: \"rkmod-junit-$RKMOD_KERNEL.xml\"\n");
        return y.toString();
    }

    private static String github(Request req) {
        StringBuilder y = new StringBuilder();
        header(y, req, List.of(
                "One job, rkmod-matrix, runs once per kernel (strategy.matrix); GitHub schedules the jobs. Each job",
                "installs rkmod's dependencies for its kernel, restores the kernel package from the Actions cache (keyed",
                "on the kernel; rkmod makes it on a miss), builds the module with 'rkmod build', loads it in a throwaway",
                "VM with 'rkmod vmtest' and uploads its JUnit report.",
                "The jobs need a self-hosted Debian 12 (bookworm) runner on which they run as root (rkmod uses chroot,",
                "mount and QEMU) and find rkmod on PATH."));
        y.append("name: rkmod matrix\n\n");
        y.append("on:\n  push:\n  pull_request:\n  workflow_dispatch:\n\n");
        y.append("jobs:\n");
        y.append("  rkmod-matrix:\n");
        y.append("    name: rkmod ${{ matrix.kernel }}\n");
        y.append("    runs-on: [self-hosted, linux, x64]\n");
        y.append("    strategy:\n      fail-fast: false\n      matrix:\n        include:\n");
        for (KernelSpec k : req.kernels()) {
            y.append("          - kernel: ").append(quote(k.label())).append('\n');
            y.append("            slug: ").append(quote(k.slug())).append('\n');
        }
        y.append("    env:\n");
        y.append("      RKMOD_KERNEL: ${{ matrix.kernel }}\n");
        y.append("      RKMOD_SLUG: ${{ matrix.slug }}\n");
        y.append("      RKMOD_MODULE: ").append(quote(req.module())).append('\n');
        y.append("      RKMOD_VM_TIMEOUT: ").append(quote(Long.toString(req.vmTimeoutSeconds()))).append('\n');
        y.append("    steps:\n");
        y.append("      - uses: actions/checkout@v4\n");
        y.append("      - name: Install rkmod's dependencies for the kernel\n");
        y.append("        run: |\n").append(indent(profileOf(req.kernels()), 10));
        y.append("          rkmod deps --install --profile \"$profile\"\n");
        y.append("      - name: Restore the kernel package\n");
        y.append("        uses: actions/cache@v4\n");
        y.append("        with:\n");
        y.append("          path: " + KERNELS + "/${{ matrix.slug }}\n");
        y.append("          key: rkmod-kernel-${{ matrix.slug }}\n");
        y.append("      - name: Make the kernel package on a cache miss\n");
        y.append("        run: |\n").append(indent(profileOf(req.kernels()) + prepare("RKMOD_SLUG"), 10));
        y.append("      - name: rkmod build\n");
        y.append("        run: rkmod build \"$RKMOD_MODULE\" --kdir \"" + KERNELS + "/$RKMOD_SLUG/kdir\"\n");
        y.append("      - name: rkmod vmtest\n");
        y.append("        run: |\n").append(indent(vmtest("RKMOD_SLUG"), 10));
        y.append("      - name: Upload the JUnit report\n");
        y.append("        if: always()\n");
        y.append("        uses: actions/upload-artifact@v4\n");
        y.append("        with:\n");
        y.append("          name: rkmod-junit-${{ matrix.slug }}\n");
        y.append("          path: rkmod-junit-${{ matrix.slug }}.xml\n");
        return y.toString();
    }

    private static void header(StringBuilder y, Request req, List<String> about) {
        List<String> cmd = new ArrayList<>(List.of("rkmod", "matrix", shellWord(req.module())));
        req.kernels().forEach(k -> cmd.addAll(List.of("--kernel", shellWord(k.label()))));
        cmd.addAll(List.of("--timeout", Long.toString(req.vmTimeoutSeconds()), "--emit", req.engine().id(), "--out",
                shellWord(req.out())));
        y.append("# Generated by rkmod. Regenerate it rather than editing it:\n");
        y.append("#   ").append(String.join(" ", cmd)).append("\n#\n");
        about.forEach(l -> y.append("# ").append(l).append('\n'));
        y.append('\n');
    }

    /** Shell: the kind ('profile', built by rkmod, or 'distro') and rkmod profile of $RKMOD_KERNEL. */
    private static String profileOf(List<KernelSpec> kernels) {
        StringBuilder sh = new StringBuilder("case \"$RKMOD_KERNEL\" in\n");
        for (KernelSpec k : kernels) {
            sh.append("  ").append(shellWord(k.label())).append(") kind=")
                    .append(k instanceof KernelSpec.DistroKernel ? "distro" : "profile").append("; profile=")
                    .append(shellWord(k.toolchainProfile().orElseThrow().id())).append(" ;;\n");
        }
        sh.append("  *) echo \"rkmod: this pipeline does not know the kernel '$RKMOD_KERNEL'; regenerate it\" >&2; exit 2 ;;\n");
        sh.append("esac\n");
        return sh.toString();
    }

    /**
     * Shell: the kernel package in the checkout, restored by the CI cache or made with rkmod on a miss; {@code name}
     * is the variable naming the kernel's directory there.
     */
    private static String prepare(String name) {
        return "kpkg=\"" + KERNELS + "/$" + name + "\"\n"
                + "if [ ! -f \"$kpkg/kdir/rkmod-package.json\" ]; then\n"
                + "  rm -rf \"$kpkg\"\n"
                + "  mkdir -p \"$kpkg\"\n"
                + "  if [ \"$kind\" = distro ]; then\n"
                + "    rkmod headers complete --distro \"$RKMOD_KERNEL\" --out \"$kpkg/kdir\"\n"
                + "  else\n"
                + "    tree=$(rkmod kernel build --profile \"$profile\" --json -q | sed -n 's/^  \"tree\": \"\\(.*\\)\",$/\\1/p')\n"
                + "    test -n \"$tree\"\n"
                + "    rkmod package --kdir \"$tree\" --out \"$kpkg/kdir\"\n"
                + "    cp \"$tree/arch/x86/boot/bzImage\" \"$kpkg/bzImage\"\n"
                + "  fi\n"
                + "fi\n";
    }

    /** Shell: vmtest on the package's kernel (a profile's bzImage, or the distro's own image its package names). */
    private static String vmtest(String name) {
        return "kpkg=\"" + KERNELS + "/$" + name + "\"\n"
                + "if [ -f \"$kpkg/bzImage\" ]; then boot=\"--kernel=$kpkg/bzImage\"; else boot=\"--kdir=$kpkg/kdir\"; fi\n"
                + "rkmod vmtest \"$RKMOD_MODULE\"/*.ko \"$boot\" --timeout \"$RKMOD_VM_TIMEOUT\" --junit \"rkmod-junit-$" + name + ".xml\"\n";
    }

    private static String indent(String text, int spaces) {
        String pad = " ".repeat(spaces);
        StringBuilder sb = new StringBuilder();
        for (String l : text.split("\n", -1)) {
            if (!l.isEmpty()) {
                sb.append(pad).append(l).append('\n');
            }
        }
        return sb.toString();
    }

    /** A YAML double-quoted scalar. */
    static String quote(String s) {
        return "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
    }

    /** A word as a POSIX shell reads it: bare when safe, else single-quoted. */
    static String shellWord(String s) {
        return s.matches("[A-Za-z0-9._/:+=@%-]+") ? s : "'" + s.replace("'", "'\\''") + "'";
    }
}
