package dev.rkmod.it;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

import javax.xml.parsers.DocumentBuilderFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * `rkmod matrix` on the real kernels of the shared cache: the tiny-rust 6.1 and 6.12 kernels and Debian sid's own 7.2
 * (its completed headers), never a kernel that is not cached. The emitted pipelines are run and checked by the real
 * tools provision.sh installs: gitlab-ci-local (shell executor) and @action-validator/cli.
 */
class MatrixIT {
    /** Where provision.sh --ci-tools puts the npm tools. */
    static final Path NPM_BIN = Path.of(System.getenv().getOrDefault("XDG_CACHE_HOME",
            System.getProperty("user.home") + "/.cache"), "rkmod-test/npm/node_modules/.bin");

    @ItSetup.Work("rkmod-matrix")
    static Path work;
    /** A scaffolded module in the 6.1 syntax: what `rkmod new --generation 6.1` writes. */
    static Path syntax61;
    /** One module for all three kernels: the three sources `rkmod new` writes, the kernel's crates choosing. */
    static Path portable;

    @BeforeAll
    static void modules() throws Exception {
        // the kernels the matrix uses, from the cache (built by KernelIT if the suite starts empty)
        ItSetup.kernel("6.1");
        ItSetup.kernel("6.12");
        syntax61 = work.resolve("syntax61/demo_mod");
        rkmod("new", "demo_mod", "--generation", "6.1", "--dir", syntax61.toString(), "--description", "Demo module");
        portable = portable(work.resolve("portable/portable_mod"));
    }

    static Rkmod.Result rkmod(String... args) throws Exception {
        Rkmod.Result r = Rkmod.jar(Map.of(), args);
        assertThat(r.exit()).as(String.join(" ", args) + "\n" + r.out() + r.err()).isZero();
        return r;
    }

    /**
     * `rkmod new` writes a module in one generation's syntax (6.1: byte strings and try_push; 6.13, which 6.12.117 is:
     * KVec; 7.2: authors and KVec). This module holds the three, each included when the kernel's Rust crates say it
     * applies (Kbuild passes the cfg), so one source builds and loads on all three kernels.
     */
    static Path portable(Path dir) throws Exception {
        Files.createDirectories(dir.resolve("api"));
        for (String gen : List.of("6.1", "6.13", "7.2")) {
            Path g = work.resolve("portable/" + gen);
            rkmod("new", "portable_mod", "--generation", gen, "--dir", g.toString(), "--description", "Portable module");
            List<String> lines = Files.readAllLines(g.resolve("portable_mod.rs")).stream().filter(l -> !l.startsWith("//!")).toList();
            Files.write(dir.resolve("api/" + gen + ".rs"), lines);
            if (gen.equals("6.1")) {
                Files.copy(g.resolve("rkmod.toml"), dir.resolve("rkmod.toml"));
            }
        }
        Files.writeString(dir.resolve("Kbuild"), """
                obj-m := portable_mod.o
                # One source per module API, as 'rkmod new' writes them; the kernel's Rust crates say which applies.
                portable_api := $(if $(wildcard $(objtree)/rust/libzerocopy.rmeta),api_7_2,$(if $(wildcard $(objtree)/rust/libffi.rmeta),api_6_13,api_6_1))
                rustflags-y += --cfg $(portable_api)
                """);
        Files.writeString(dir.resolve("portable_mod.rs"), """
                // SPDX-License-Identifier: GPL-2.0

                //! Portable module: the 6.1, 6.13 and 7.2 module APIs, each part written by 'rkmod new'.

                #[cfg(api_6_1)]
                include!("api/6.1.rs");
                #[cfg(api_6_13)]
                include!("api/6.13.rs");
                #[cfg(api_7_2)]
                include!("api/7.2.rs");
                """);
        return dir;
    }

    static JsonObject json(Rkmod.Result r) {
        return JsonParser.parseString(r.out()).getAsJsonObject();
    }

    static Map<String, JsonObject> rows(JsonObject matrix) {
        Map<String, JsonObject> out = new HashMap<>();
        for (JsonElement e : matrix.getAsJsonArray("kernels")) {
            out.put(e.getAsJsonObject().get("kernel").getAsString(), e.getAsJsonObject());
        }
        return out;
    }

    static List<Element> testcases(Path junit) throws Exception {
        Document d = DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(junit.toFile());
        NodeList n = d.getElementsByTagName("testcase");
        List<Element> out = new ArrayList<>();
        for (int i = 0; i < n.getLength(); i++) {
            out.add((Element) n.item(i));
        }
        return out;
    }

    @Test
    void oneModuleBuildsAndLoadsOn61And612AndDebiansOwnKernelAndASecondRunReusesEveryKernel() throws Exception {
        Path junit = work.resolve("portable.xml");
        Rkmod.Result r = Rkmod.jar(Map.of(), "matrix", portable.toString(), "--kernel", "6.1", "--kernel", "6.12",
                "--kernel", "debian-sid", "--junit", junit.toString(), "--json");
        assertThat(r.exit()).as(r.out() + r.err()).isZero();
        JsonObject m = json(r);
        assertThat(m.get("ok").getAsBoolean()).isTrue();
        Map<String, JsonObject> rows = rows(m);
        assertThat(rows).containsOnlyKeys("6.1", "6.12", "debian-sid");
        assertThat(rows.get("6.1").get("generation").getAsString()).isEqualTo("6.1");
        assertThat(rows.get("6.12").get("generation").getAsString()).isEqualTo("6.13");
        assertThat(rows.get("debian-sid").get("generation").getAsString()).isEqualTo("7.2");
        for (JsonObject row : rows.values()) {
            assertThat(row.get("status").getAsString()).as(row.toString()).isEqualTo("pass");
            assertThat(row.get("firstLine").getAsString()).isEqualTo("portable_mod: Portable module (init)");
            assertThat(row.getAsJsonObject("load").getAsJsonObject("vmtest").getAsJsonArray("moduleLines").toString())
                    .contains("portable_mod: My numbers are [72, 108, 200]").contains("portable_mod: Portable module (exit)");
        }
        List<Element> cases = testcases(junit);
        assertThat(cases).extracting(c -> c.getAttribute("name")).containsExactly("6.1 (Linux 6.1.192)",
                "6.12 (Linux 6.12.117)", "debian-sid (Linux " + rows.get("debian-sid").get("release").getAsString() + ")");
        assertThat(cases).allSatisfy(c -> {
            assertThat(c.getElementsByTagName("failure").getLength()).isZero();
            String out = c.getElementsByTagName("system-out").item(0).getTextContent();
            assertThat(out).contains("[[ATTACHMENT|").contains("----- build log: ").contains("----- console log: ")
                    .contains("portable_mod: Portable module (init)");
        });

        // again: every kernel, package and completed headers comes from the cache; only the module is built and loaded
        Rkmod.Result again = Rkmod.jar(Map.of(), "matrix", portable.toString(), "--kernel", "6.1", "--kernel", "6.12",
                "--kernel", "debian-sid");
        assertThat(again.exit()).as(again.out() + again.err()).isZero();
        assertThat(again.out()).contains("3 of 3 kernels passed");
        assertThat(again.err()).contains("[6.1] cached: Linux 6.1.192").contains("[6.12] cached: Linux 6.12.117")
                .doesNotContain("==> make: -j").doesNotContain("probe Rust").doesNotContain("==> make: rust/");
        Rkmod.Result json = Rkmod.jar(Map.of(), "matrix", portable.toString(), "--kernel", "6.1", "--kernel", "6.12",
                "--kernel", "debian-sid", "--json");
        Map<String, JsonObject> third = rows(json(json));
        assertThat(third.get("6.1").get("origin").getAsString()).isEqualTo("tiny-rust kernel of profile 6.1, cached, package cached");
        assertThat(third.get("6.12").get("origin").getAsString()).isEqualTo("tiny-rust kernel of profile 6.12, cached, package cached");
        assertThat(third.get("debian-sid").get("origin").getAsString()).isEqualTo("Debian sid's own kernel, completed headers reused");
        System.out.println("matrix over 3 kernels: first run " + r.millis() + " ms, second " + again.millis() + " ms, third "
                + json.millis() + " ms");
    }

    @Test
    void theSame61SourceFailsOn612And7xWithTheGenerationExplanationAndPassesOn61() throws Exception {
        Path junit = work.resolve("syntax61.xml");
        Rkmod.Result r = Rkmod.jar(Map.of(), "matrix", syntax61.toString(), "--kernel", "6.1", "--kernel", "6.12",
                "--kernel", "debian-sid", "--junit", junit.toString());
        assertThat(r.exit()).as(r.out() + r.err()).isEqualTo(1);
        assertThat(r.out()).containsPattern("(?m)^6\\.1 +6\\.1\\.192 +6\\.1 +1\\.63\\.0 +ok .* PASS .* demo_mod: Demo module \\(init\\)$")
                .containsPattern("(?m)^6\\.12 +6\\.12\\.117 +6\\.13 +1\\.85\\.1 +FAIL +[0-9.]+ s +-$")
                .containsPattern("(?m)^debian-sid +7\\.2\\.\\S+ +7\\.2 +1\\.97\\.1 +FAIL +[0-9.]+ s +-$")
                .contains("6.12: build failed: module! is written for another kernel generation [api.module-macro-syntax]")
                .contains("debian-sid: build failed: module! is written for another kernel generation [api.module-macro-syntax]")
                .contains("  seen:  = help: message: Expected string").contains("  seen:  error: expected string literal")
                .contains("  fix:   Write module! in the kernel's generation's syntax: 'rkmod new NAME --kdir KDIR' scaffolds it.")
                .contains("1 of 3 kernels passed");
        List<Element> cases = testcases(junit);
        assertThat(cases).hasSize(3);
        assertThat(cases.get(0).getElementsByTagName("failure").getLength()).isZero();
        for (Element c : cases.subList(1, 3)) {
            Element f = (Element) c.getElementsByTagName("failure").item(0);
            assertThat(f.getAttribute("message")).isEqualTo(
                    "FAIL  in build: module! is written for another kernel generation [api.module-macro-syntax]");
            assertThat(f.getTextContent()).contains("the build's own errors:");
            assertThat(c.getElementsByTagName("system-out").item(0).getTextContent()).contains("==> make: M=")
                    .contains("explanation [api.module-macro-syntax]");
        }
    }

    /** A C module that oopses in init on kernels before 6.2 (a NULL write), and loads cleanly on the others. */
    static Path oopsOn61(Path dir) throws Exception {
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("Kbuild"), "obj-m := rkmod_oops.o\n");
        Files.writeString(dir.resolve("rkmod_oops.c"), """
                #include <linux/module.h>
                #include <linux/version.h>
                static int __init rkmod_oops_init(void)
                {
                	pr_info("rkmod_oops: init\\n");
                #if LINUX_VERSION_CODE < KERNEL_VERSION(6, 2, 0)
                	*(volatile int *)0 = 1;
                #endif
                	return 0;
                }
                static void __exit rkmod_oops_exit(void) { pr_info("rkmod_oops: exit\\n"); }
                module_init(rkmod_oops_init);
                module_exit(rkmod_oops_exit);
                MODULE_LICENSE("GPL");
                """);
        return dir;
    }

    @Test
    void aModuleThatOopsesFailsItsRowAndTheOtherRowsStillRunAndReport() throws Exception {
        Path dir = oopsOn61(work.resolve("oops/rkmod_oops"));
        // one at a time, the oopsing kernel first: the 6.12 row runs after the failure
        Rkmod.Result r = Rkmod.jar(Map.of(), "matrix", dir.toString(), "--kernel", "6.1", "--kernel", "6.12", "-j", "1",
                "--timeout", "90", "--json");
        assertThat(r.exit()).as(r.out() + r.err()).isEqualTo(1);
        Map<String, JsonObject> rows = rows(json(r));
        JsonObject oops = rows.get("6.1");
        assertThat(oops.get("status").getAsString()).isEqualTo("fail");
        assertThat(oops.getAsJsonObject("build").get("ok").getAsBoolean()).isTrue();
        assertThat(oops.getAsJsonObject("load").get("pass").getAsBoolean()).isFalse();
        JsonArray why = oops.getAsJsonArray("explanations");
        JsonObject first = why.get(0).getAsJsonObject();
        assertThat(first.get("phase").getAsString()).isEqualTo("load");
        assertThat(first.get("id").getAsString()).isEqualTo("load.crash");
        assertThat(first.get("seen").getAsString()).containsAnyOf("BUG: kernel NULL pointer dereference", "Oops");
        assertThat(why.toString()).contains("insmod rkmod_oops exited with status");
        assertThat(oops.get("firstLine").getAsString()).isEqualTo("rkmod_oops: init");
        JsonObject other = rows.get("6.12");
        assertThat(other.get("status").getAsString()).as(other.toString()).isEqualTo("pass");
        assertThat(other.getAsJsonObject("load").getAsJsonObject("vmtest").getAsJsonArray("moduleLines").toString())
                .contains("rkmod_oops: init").contains("rkmod_oops: exit");

        Rkmod.Result fast = Rkmod.jar(Map.of(), "matrix", dir.toString(), "--kernel", "6.1", "--kernel", "6.12", "-j", "1",
                "--timeout", "90", "--fail-fast");
        assertThat(fast.exit()).isEqualTo(1);
        assertThat(fast.out()).containsPattern("(?m)^6\\.12 .* skipped").contains("0 of 2 kernels passed")
                .contains("6.1: load failed: The kernel oopsed, warned or panicked [load.crash]");
    }

    // --- the emitted pipelines, run and checked by real CI tools ------------------------------------------------

    /** Runs a CI tool in {@code dir} with the system's PATH unless {@code env} names another; any exit status. */
    static Rkmod.Result tool(Path dir, Map<String, String> env, String... argv) throws Exception {
        Path out = Files.createTempFile(work, "tool", ".out");
        ProcessBuilder pb = new ProcessBuilder(argv).directory(dir.toFile()).redirectErrorStream(true)
                .redirectOutput(out.toFile());
        pb.environment().put("PATH", ItSetup.SYSTEM_PATH);
        pb.environment().putAll(env);
        long start = System.nanoTime();
        Process p = pb.start();
        if (!p.waitFor(30, TimeUnit.MINUTES)) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
            throw new AssertionError(String.join(" ", argv) + " did not finish in 30 minutes");
        }
        return new Rkmod.Result(p.exitValue(), Files.readString(out), "",
                TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start));
    }

    /** A git repository holding the 6.1-syntax module and the GitLab pipeline of the three kernels. */
    static Path gitlabRepo() throws Exception {
        Path repo = work.resolve("gitlab-repo");
        Path module = repo.resolve("demo_mod");
        Files.createDirectories(repo);
        Files.walk(syntax61).forEach(p -> {
            try {
                Path t = module.resolve(syntax61.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(t);
                } else if (!p.getFileName().toString().endsWith(".ko")) {
                    Files.copy(p, t);
                }
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        ItSetup.run(repo, List.of("git", "init", "-q"));
        rkmod("matrix", module.toString(), "--kernel", "6.1", "--kernel", "6.12", "--kernel", "debian-sid",
                "--emit", "gitlab", "--out", repo.resolve(".gitlab-ci.yml").toString());
        ItSetup.run(repo, List.of("git", "add", "-A"));
        ItSetup.run(repo, List.of("git", "-c", "user.name=rkmod", "-c", "user.email=rkmod@invalid", "commit", "-q", "-m", "module"));
        return repo;
    }

    /** A directory whose 'rkmod' runs the jar under test, as the pipeline's jobs call it from PATH. */
    static Path launcherDir() throws Exception {
        Path bin = Files.createDirectories(work.resolve("bin"));
        Path rkmod = bin.resolve("rkmod");
        String java = ProcessHandle.current().info().command().orElse("java");
        Files.writeString(rkmod, "#!/bin/sh\nexec '" + java + "' -jar '" + Rkmod.jar() + "' \"$@\"\n");
        Files.setPosixFilePermissions(rkmod, PosixFilePermissions.fromString("rwxr-xr-x"));
        return bin;
    }

    @Test
    void theEmittedGitlabPipelinesJobFor61PassesUnderGitlabCiLocalAndItsJobFor612Fails() throws Exception {
        Path glci = NPM_BIN.resolve("gitlab-ci-local");
        assertThat(glci).as("provision.sh --ci-tools installs it").isExecutable();
        Path repo = gitlabRepo();
        Map<String, String> env = Map.of("PATH", launcherDir() + ":" + ItSetup.SYSTEM_PATH);
        Rkmod.Result list = tool(repo, env, glci.toString(), "--list");
        assertThat(list.exit()).as(list.out() + list.err()).isZero();
        assertThat(list.out()).contains("rkmod-matrix: [6.1]").contains("rkmod-matrix: [6.12]").contains("rkmod-matrix: [debian-sid]");

        Rkmod.Result ok = tool(repo, env, glci.toString(), "--shell-executor-no-image",
                "rkmod-matrix: [6.1]");
        assertThat(ok.exit()).as(ok.out() + ok.err()).isZero();
        assertThat(ok.out()).contains("PASS  rkmod-matrix: [6.1]").contains("$ rkmod build \"$RKMOD_MODULE\"")
                .contains("verdict: PASS  (Linux 6.1.192");
        Path report = repo.resolve("rkmod-junit-6.1.xml");
        assertThat(report).content().contains("<testsuite name=\"rkmod.vmtest\"").contains("failures=\"0\"");
        assertThat(repo.resolve(".rkmod-kernels/6.1/kdir/rkmod-package.json")).exists();
        assertThat(repo.resolve(".rkmod-kernels/6.1/bzImage")).exists();

        // the 6.1-syntax module cannot build for 6.12: the job fails, and gitlab-ci-local says so
        Rkmod.Result bad = tool(repo, env, glci.toString(), "--shell-executor-no-image",
                "rkmod-matrix: [6.12]");
        assertThat(bad.exit()).as(bad.out() + bad.err()).isNotZero();
        assertThat(bad.out() + bad.err()).contains("explanation [api.module-macro-syntax]").contains("rkmod-matrix: [6.12]");
        System.out.println("gitlab-ci-local: the 6.1 job took " + ok.millis() + " ms, the failing 6.12 job " + bad.millis() + " ms");
    }

    @Test
    void theEmittedGithubWorkflowPassesActionValidatorWhichRejectsABrokenOne() throws Exception {
        Path validator = NPM_BIN.resolve("action-validator");
        assertThat(validator).as("provision.sh --ci-tools installs it").isExecutable();
        Path repo = Files.createDirectories(work.resolve("github-repo"));
        Files.createDirectories(repo.resolve(".git"));
        Path wf = repo.resolve(".github/workflows/rkmod.yml");
        rkmod("matrix", syntax61.toString(), "--kernel", "all", "--kernel", "debian-sid:7.2.13+deb14-amd64", "--emit",
                "github", "--out", wf.toString());
        Rkmod.Result valid = tool(repo, Map.of(), validator.toString(), wf.toString());
        assertThat(valid.exit()).as(valid.out() + valid.err()).isZero();

        Path broken = repo.resolve(".github/workflows/broken.yml");
        Files.writeString(broken, Files.readString(wf).replace("    runs-on:", "    runs_on:").replace("      fail-fast: false\n", "      fail-fast: sometimes\n"));
        Rkmod.Result invalid = tool(repo, Map.of(), validator.toString(), broken.toString());
        assertThat(invalid.exit()).as(invalid.out() + invalid.err()).isEqualTo(1);
        assertThat(invalid.out() + invalid.err()).contains("runs_on");
    }
}
