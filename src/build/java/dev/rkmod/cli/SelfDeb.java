package dev.rkmod.cli;

import dev.rkmod.format.DebArchiveWriter;
import dev.rkmod.format.PackageFiles;
import dev.rkmod.format.PackageTree;
import dev.rkmod.infra.host.Host;
import picocli.AutoComplete;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.zip.Deflater;
import java.util.zip.GZIPOutputStream;

/**
 * Builds rkmod's own Debian package, {@code rkmod_<version>_all.deb}, with rkmod's .deb writer: the shaded
 * jar in /usr/share/rkmod, a launcher in /usr/bin, bash completion from picocli's {@link AutoComplete}, one man
 * page per command ({@link ManPageWriter}), the copyright file and changelog. Maven runs it in the package
 * phase, after the shade plugin; it is build-only (src/build/java) and not in the shipped jar. Given the directory
 * of the command reference's fragments (docs/commands), it also writes the command reference from the same
 * command tree ({@link CommandReference}) to {@code OUT_DIR/commands.md}, and warns when the committed
 * docs/commands.md beside the fragments is not that file.
 *
 * <pre>java -cp target/build-classes:target/rkmod.jar dev.rkmod.cli.SelfDeb JAR OUT_DIR MAVEN_VERSION
 *      OUTPUT_TIMESTAMP MAINTAINER [FRAGMENT_DIR]</pre>
 *
 * <p>Reproducible: every time stamp (the tar entries, the changelog's date, the man pages' date) is
 * SOURCE_DATE_EPOCH if set, else Maven's {@code project.build.outputTimestamp}, which also fixes the jar's
 * entries; two builds of the same sources are byte-identical. The .deb is written atomically.
 */
public final class SelfDeb {
    public static final String PACKAGE = "rkmod";
    public static final String JAR = "usr/share/rkmod/rkmod.jar";
    public static final String LAUNCHER = "usr/bin/rkmod";
    public static final String COMPLETION = "usr/share/bash-completion/completions/rkmod";
    public static final String MAN_DIR = "usr/share/man/man1";
    public static final String DOC_DIR = "usr/share/doc/rkmod";
    /** Debian's Java 17 runtime: the default JRE from bookworm on, or any package that provides Java 17. */
    public static final String JAVA_DEPENDS = "default-jre-headless (>= 2:1.17) | java17-runtime-headless";

    /**
     * xz preset 0, not dpkg-deb's 6: nearly all of the package is the jar, which is already deflate-compressed;
     * preset 6 makes the package 1% smaller (17.44 against 17.63 MB) and takes seven times as long (21 s
     * against 3 s on two cores).
     */
    static final int XZ_PRESET = 0;

    private SelfDeb() {
    }

    public static void main(String[] args) throws IOException {
        if (args.length != 5 && args.length != 6) {
            System.err.println("usage: SelfDeb JAR OUT_DIR MAVEN_VERSION OUTPUT_TIMESTAMP MAINTAINER [FRAGMENT_DIR]");
            System.exit(2);
        }
        try {
            long epoch = epoch(System.getenv("SOURCE_DATE_EPOCH"), args[3]);
            Path fragments = args.length == 6 ? Path.of(args[5]) : null;
            Path deb = build(Path.of(args[0]), Path.of(args[1]), args[2], epoch, args[4], fragments);
            System.out.println("[rkmod] wrote " + deb + " (" + Files.size(deb) + " bytes)");
        } catch (IOException | RuntimeException e) {
            System.err.println("rkmod: error: cannot build rkmod's own .deb: " + e.getMessage()
                    + ". Check the message above; -Drkmod.deb.skip=true builds the jar without the package.");
            System.exit(1);
        }
    }

    /** Writes the package into {@code outDir} and returns its path. */
    public static Path build(Path jar, Path outDir, String mavenVersion, long epoch, String maintainer) throws IOException {
        return build(jar, outDir, mavenVersion, epoch, maintainer, null);
    }

    /**
     * Writes the package into {@code outDir} and returns its path; with a {@code fragmentDir}, also the command
     * reference, {@code outDir/commands.md}, from the same walk of the command tree as the man pages.
     */
    public static Path build(Path jar, Path outDir, String mavenVersion, long epoch, String maintainer, Path fragmentDir)
            throws IOException {
        String version = debianVersion(mavenVersion);
        CommandLine cli = commandLine();
        Map<String, CommandSpec> commands = ManPageWriter.commands(cli.getCommandSpec());
        if (fragmentDir != null) {
            commandReference(commands, outDir, fragmentDir); // first: a bad fragment fails before the package is made
        }
        PackageTree.Builder tree = PackageTree.builder();
        tree.addFile(JAR, Files.readAllBytes(jar), false);
        tree.addFile(LAUNCHER, launcher().getBytes(StandardCharsets.UTF_8), true);
        tree.addFile(COMPLETION, completion(cli).getBytes(StandardCharsets.UTF_8), false);
        ManPageWriter man = new ManPageWriter(mavenVersion, epoch);
        for (Map.Entry<String, CommandSpec> e : commands.entrySet()) {
            tree.addFile(MAN_DIR + "/" + e.getKey() + ".1.gz", gzip(man.page(e.getValue())), false);
        }
        tree.addFile(DOC_DIR + "/copyright", copyright().getBytes(StandardCharsets.UTF_8), false);
        tree.addFile(DOC_DIR + "/changelog.Debian.gz", gzip(changelog(version, maintainer, epoch)), false);

        Map<String, String> control = new LinkedHashMap<>();
        control.put("Package", PACKAGE);
        control.put("Version", version);
        control.put("Architecture", "all");
        control.put("Maintainer", maintainer);
        control.put("Depends", JAVA_DEPENDS);
        control.put("Section", "devel");
        control.put("Priority", "optional");
        control.put("Description", description());
        Files.createDirectories(outDir);
        Path out = outDir.resolve(fileName(mavenVersion));
        DebArchiveWriter.Options d = DebArchiveWriter.Options.defaults();
        DebArchiveWriter.Options options = new DebArchiveWriter.Options(d.compression(), epoch, XZ_PRESET,
                d.xzBlockBytes(), d.zstdLevel(), d.threads());
        Map<String, byte[]> scripts = Map.of("postinst", postinst().getBytes(StandardCharsets.UTF_8),
                "postrm", postrm().getBytes(StandardCharsets.UTF_8));
        DebArchiveWriter.write(out, new DebArchiveWriter.Spec(control, scripts, List.of(), tree.build()), options);
        return out;
    }

    /**
     * Writes {@code outDir/commands.md}, the command reference of rkmod's commands with the fragments of
     * {@code fragmentDir}, and warns when the committed reference beside the fragments differs from it.
     */
    static Path commandReference(Map<String, CommandSpec> commands, Path outDir, Path fragmentDir) throws IOException {
        String text = CommandReference.of(commands, fragmentDir).text();
        Path out = outDir.resolve("commands.md");
        CommandReference.write(out, text);
        System.out.println("[rkmod] wrote " + out);
        Path committed = fragmentDir.resolveSibling("commands.md");
        if (!Files.isRegularFile(committed) || !Files.readString(committed, StandardCharsets.UTF_8).equals(text)) {
            System.out.println("[rkmod] WARNING: " + committed + " is not the generated " + out
                    + "; regenerate it with: " + CommandReference.REGENERATE);
        }
        return out;
    }

    public static String fileName(String mavenVersion) {
        return PACKAGE + "_" + debianVersion(mavenVersion) + "_all.deb";
    }

    /**
     * The Debian version of a Maven version: a qualifier sorts before the release ("0.1.0-SNAPSHOT" gives
     * "0.1.0~SNAPSHOT", which dpkg orders before "0.1.0"), and Debian revision 1 is added.
     */
    public static String debianVersion(String mavenVersion) {
        return mavenVersion.replace('-', '~').replace('_', '~') + "-1";
    }

    /**
     * The build epoch: SOURCE_DATE_EPOCH if set, else Maven's project.build.outputTimestamp (seconds, or an
     * ISO-8601 date and time with an offset), else the writer's default.
     */
    static long epoch(String sourceDateEpoch, String outputTimestamp) {
        if (sourceDateEpoch != null && !sourceDateEpoch.isBlank()) {
            return PackageFiles.epoch(sourceDateEpoch);
        }
        String t = outputTimestamp == null ? "" : outputTimestamp.strip();
        if (t.isEmpty() || t.startsWith("${")) {
            return PackageFiles.DEFAULT_EPOCH;
        }
        if (t.chars().allMatch(Character::isDigit)) {
            return Long.parseLong(t);
        }
        try {
            return OffsetDateTime.parse(t).toEpochSecond();
        } catch (DateTimeParseException e) {
            throw new IllegalArgumentException("project.build.outputTimestamp '" + t + "' is neither seconds since 1970"
                    + " nor an ISO-8601 date and time such as 2026-01-01T00:00:00Z", e);
        }
    }

    /** rkmod's command tree, as the CLI builds it. */
    static CommandLine commandLine() {
        PrintWriter sink = new PrintWriter(new OutputStreamWriter(new ByteArrayOutputStream(), StandardCharsets.UTF_8));
        return Cli.commandLine(new Session(sink, sink, Host.current(), false), new String[0]);
    }

    /** picocli's bash completion script for the tree; it defines and registers {@code _complete_rkmod}. */
    static String completion(CommandLine cli) {
        String script = AutoComplete.bash(PACKAGE, cli);
        // sourced by bash-completion, never run: no "#!" line (lintian would ask for an execute bit)
        return script.startsWith("#!") ? script.substring(script.indexOf('\n') + 1) : script;
    }

    /**
     * /usr/bin/rkmod: the repository launcher's JVM flags, without its build step, with the class-data archive
     * postinst made (a per-user archive would outlive 'dpkg -r'; this one goes with the package).
     */
    static String launcher() {
        return """
                #!/bin/sh
                # rkmod launcher, installed by the rkmod package.
                # Short-lived commands start and run fastest with the C1 compiler only; signing needs C2's
                # BigInteger intrinsics, and runs faster without on-stack replacement (verify does not).
                # -cp and the main class rather than -jar: no manifest to parse.
                # Java opens only file names its locale's charset can encode: use C.UTF-8 for the character type.
                case "${LC_ALL:-${LC_CTYPE:-${LANG:-}}}" in
                  *[Uu][Tt][Ff]-8*|*[Uu][Tt][Ff]8*) ;;
                  *) if [ -n "${LC_ALL:-}" ]; then LANG="$LC_ALL"; export LANG; unset LC_ALL; fi; LC_CTYPE=C.UTF-8; export LC_CTYPE ;;
                esac
                java="${JAVA_HOME:+$JAVA_HOME/bin/}java"
                # the class-data archive postinst made for this jar (-Xshare:auto ignores it if it no longer fits)
                cds=
                if [ -s /var/cache/rkmod/rkmod.jsa ]; then cds=-XX:SharedArchiveFile=/var/cache/rkmod/rkmod.jsa; fi
                case "${1:-}" in
                  sign) exec "$java" -XX:+UseSerialGC -Xshare:auto -XX:-UsePerfData -XX:-UseOnStackReplacement $cds -cp /usr/share/rkmod/rkmod.jar dev.rkmod.cli.Main "$@" ;;
                  verify) exec "$java" -XX:+UseSerialGC -Xshare:auto -XX:-UsePerfData $cds -cp /usr/share/rkmod/rkmod.jar dev.rkmod.cli.Main "$@" ;;
                  *) exec "$java" -XX:+UseSerialGC -Xshare:auto -XX:-UsePerfData -XX:TieredStopAtLevel=1 $cds -cp /usr/share/rkmod/rkmod.jar dev.rkmod.cli.Main "$@" ;;
                esac
                """;
    }

    /**
     * postinst: the class-data archive of the installed jar for this machine's Java, made as the repository launcher
     * makes it (a training run lists the classes, -Xshare:dump archives them). It is machine-specific, so it is made
     * here rather than shipped; a failure only costs the speed-up and never fails the installation.
     */
    static String postinst() {
        return """
                #!/bin/sh
                set -e
                if [ "$1" = configure ]; then
                  jsa=/var/cache/rkmod/rkmod.jsa
                  jar=/usr/share/rkmod/rkmod.jar
                  mkdir -p /var/cache/rkmod
                  rm -f "$jsa" "$jsa.tmp" "$jsa.classes"
                  if java -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -XX:DumpLoadedClassList="$jsa.classes" -cp "$jar" \
                      dev.rkmod.cli.CdsTraining >/dev/null 2>&1 \
                    && java -Xshare:dump -XX:SharedClassListFile="$jsa.classes" -XX:SharedArchiveFile="$jsa.tmp" -cp "$jar" \
                      >/dev/null 2>&1; then
                    chmod 644 "$jsa.tmp"
                    mv -f "$jsa.tmp" "$jsa"
                  else
                    rm -f "$jsa.tmp"
                  fi
                  rm -f "$jsa.classes"
                fi
                exit 0
                """;
    }

    /** postrm: the archive postinst made goes with the package (an upgrade's postinst makes a new one). */
    static String postrm() {
        return """
                #!/bin/sh
                set -e
                case "$1" in
                  remove|purge)
                    rm -f /var/cache/rkmod/rkmod.jsa /var/cache/rkmod/rkmod.jsa.tmp /var/cache/rkmod/rkmod.jsa.classes
                    rmdir /var/cache/rkmod 2>/dev/null || true
                    ;;
                esac
                exit 0
                """;
    }

    static String description() {
        return """
                toolkit for out-of-tree Rust Linux kernel modules
                rkmod builds out-of-tree Rust Linux kernel modules against a packaged
                kernel. It provisions the exact rustc a kernel was built with, builds
                a Rust-enabled kernel, packages a relocatable Rust-ready headers tree
                (or completes a distribution's headers with the Rust metadata),
                predicts build failures, builds, signs and inspects modules, and
                loads them in a throwaway virtual machine.

                The toolchains of the supported kernel profiles are installed with
                'rkmod deps --install'.""";
    }

    /**
     * The copyright file (DEP-5). The jar bundles its runtime libraries (the shade plugin), so their
     * licences are listed too.
     */
    static String copyright() {
        return """
                Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
                Upstream-Name: rkmod
                Comment: /usr/share/rkmod/rkmod.jar is a shaded jar: it bundles the libraries
                 below, each under its own licence.

                Files: *
                Copyright: rkmod authors
                License: rkmod
                 The rkmod sources do not yet state a licence; until they do, all rights
                 are reserved by their authors.

                Files: usr/share/rkmod/rkmod.jar
                Copyright: rkmod authors
                 Remko Popma and the picocli contributors (picocli)
                 Google Inc. (Gson)
                 The Apache Software Foundation (Commons Compress, Commons IO, Commons Lang, Commons Codec)
                 Luben Karavelov (zstd-jni), Meta Platforms, Inc. and affiliates (Zstandard)
                 The Legion of the Bouncy Castle Inc. (Bouncy Castle)
                 Lasse Collin (XZ for Java, public domain or 0BSD)
                License: rkmod and Apache-2.0 and BSD-2-clause and MIT and 0BSD

                License: Apache-2.0
                 On Debian systems, the full text of the Apache License, Version 2.0 can be
                 found in the file '/usr/share/common-licenses/Apache-2.0'.

                License: BSD-2-clause
                 Redistribution and use in source and binary forms, with or without
                 modification, are permitted provided that the following conditions are met:
                 .
                 1. Redistributions of source code must retain the above copyright notice,
                    this list of conditions and the following disclaimer.
                 2. Redistributions in binary form must reproduce the above copyright notice,
                    this list of conditions and the following disclaimer in the documentation
                    and/or other materials provided with the distribution.
                 .
                 THIS SOFTWARE IS PROVIDED BY THE COPYRIGHT HOLDERS AND CONTRIBUTORS "AS IS"
                 AND ANY EXPRESS OR IMPLIED WARRANTIES, INCLUDING, BUT NOT LIMITED TO, THE
                 IMPLIED WARRANTIES OF MERCHANTABILITY AND FITNESS FOR A PARTICULAR PURPOSE ARE
                 DISCLAIMED. IN NO EVENT SHALL THE COPYRIGHT HOLDER OR CONTRIBUTORS BE LIABLE
                 FOR ANY DIRECT, INDIRECT, INCIDENTAL, SPECIAL, EXEMPLARY, OR CONSEQUENTIAL
                 DAMAGES (INCLUDING, BUT NOT LIMITED TO, PROCUREMENT OF SUBSTITUTE GOODS OR
                 SERVICES; LOSS OF USE, DATA, OR PROFITS; OR BUSINESS INTERRUPTION) HOWEVER
                 CAUSED AND ON ANY THEORY OF LIABILITY, WHETHER IN CONTRACT, STRICT LIABILITY,
                 OR TORT (INCLUDING NEGLIGENCE OR OTHERWISE) ARISING IN ANY WAY OUT OF THE USE
                 OF THIS SOFTWARE, EVEN IF ADVISED OF THE POSSIBILITY OF SUCH DAMAGE.

                License: MIT
                 Permission is hereby granted, free of charge, to any person obtaining a copy
                 of this software and associated documentation files (the "Software"), to deal
                 in the Software without restriction, including without limitation the rights
                 to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
                 copies of the Software, and to permit persons to whom the Software is
                 furnished to do so, subject to the following conditions:
                 .
                 The above copyright notice and this permission notice shall be included in
                 all copies or substantial portions of the Software.
                 .
                 THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
                 IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
                 FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
                 AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
                 LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
                 OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN
                 THE SOFTWARE.

                License: 0BSD
                 Permission to use, copy, modify, and/or distribute this software for any
                 purpose with or without fee is hereby granted.
                 .
                 THE SOFTWARE IS PROVIDED "AS IS" AND THE AUTHOR DISCLAIMS ALL WARRANTIES
                 WITH REGARD TO THIS SOFTWARE INCLUDING ALL IMPLIED WARRANTIES OF
                 MERCHANTABILITY AND FITNESS. IN NO EVENT SHALL THE AUTHOR BE LIABLE FOR ANY
                 SPECIAL, DIRECT, INDIRECT, OR CONSEQUENTIAL DAMAGES OR ANY DAMAGES WHATSOEVER
                 RESULTING FROM LOSS OF USE, DATA OR PROFITS, WHETHER IN AN ACTION OF CONTRACT,
                 NEGLIGENCE OR OTHER TORTIOUS ACTION, ARISING OUT OF OR IN CONNECTION WITH THE
                 USE OR PERFORMANCE OF THIS SOFTWARE.
                """;
    }

    static String changelog(String version, String maintainer, long epoch) {
        String date = DateTimeFormatter.ofPattern("EEE, dd MMM yyyy HH:mm:ss Z", Locale.ENGLISH)
                .format(Instant.ofEpochSecond(epoch).atOffset(ZoneOffset.UTC));
        return PACKAGE + " (" + version + ") unstable; urgency=medium\n\n"
                + "  * Built from the rkmod sources by 'mvn package'.\n\n"
                + " -- " + maintainer + "  " + date + "\n";
    }

    /** gzip -9n: no name, no time stamp, the header's "maximum compression" flag and OS Unix, as lintian expects. */
    static byte[] gzip(String text) {
        ByteArrayOutputStream bo = new ByteArrayOutputStream();
        try (GZIPOutputStream gz = new GZIPOutputStream(bo) {
            {
                def.setLevel(Deflater.BEST_COMPRESSION);
            }
        }) {
            gz.write(text.getBytes(StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        byte[] b = bo.toByteArray();
        b[8] = 2;
        b[9] = 3;
        return b;
    }
}
