package dev.rkmod.cli;

import dev.rkmod.format.PackageManifest;
import dev.rkmod.model.ExitCode;
import dev.rkmod.model.RkmodException;
import dev.rkmod.workflow.pack.PackageRequest;
import dev.rkmod.workflow.pack.PackageWorkflow;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;

@Command(name = "package", mixinStandardHelpOptions = true,
        header = "Make a relocatable, verified Rust-ready build tree from a built kernel.",
        description = "Make a relocatable, Rust-ready external-module build tree from a built kernel: the C set, the Rust set "
            + "(rust/*.rmeta, stripped rust/*.so, the target spec), rust-toolchain and rkmod-package.json. By default "
            + "it is verified at another path by building a C and a Rust probe module with the recorded rustc.")
final class PackageCommand implements Callable<Integer> {
    private final Session session;

    @Option(names = "--kdir", required = true, paramLabel = "BUILD_TREE", description = "A built kernel tree or an rkmod package.")
    Path kdir;

    @Option(names = "--out", required = true, paramLabel = "DEST", description = "Where the package goes.")
    Path out;

    @Option(names = "--format", paramLabel = "dir|tar.zst|tar.xz|deb|arch", defaultValue = "dir",
            converter = Converters.FormatConverter.class,
            description = "Output format (default ${DEFAULT-VALUE}). Archives and packages are reproducible. deb and arch"
                    + " write linux-headers-RELEASE-rust_VERSION_ARCH.deb or linux-rust-headers-VERSION-ARCH.pkg.tar.zst"
                    + " into the DEST directory.")
    PackageRequest.Format format;

    @Option(names = "--maintainer", paramLabel = "'NAME <MAIL>'",
            description = "Maintainer of a deb, packager of an arch package (default: rkmod <rkmod@example.org>).")
    String maintainer;

    @Option(names = "--revision", paramLabel = "N", defaultValue = "1",
            description = "Debian revision / Arch pkgrel of a deb or arch package (default ${DEFAULT-VALUE}).")
    int revision;

    @Option(names = "--no-verify", description = "Skip building the probe modules.")
    boolean noVerify;

    @Option(names = "--force", description = "Replace an existing DEST.")
    boolean force;

    @Mixin
    OutputOptions output = new OutputOptions();

    PackageCommand(Session session) {
        this.session = session;
    }

    @Override
    public Integer call() {
        if (!format.isDistroPackage() && (maintainer != null || revision != 1)) {
            throw new RkmodException(ExitCode.USAGE, "--maintainer and --revision apply only to --format deb or arch",
                    "A " + format + " package has no control data", "Drop them, or pass --format deb or --format arch");
        }
        PackageWorkflow.Result r = new PackageWorkflow(session.context(output))
                .pack(new PackageRequest(kdir, out, format, !noVerify, force, session.sourceDateEpoch(), maintainer, revision));
        if (output.json()) {
            session.out().println(Json.write(Packed.of(r)));
        } else {
            PrintWriter w = session.out();
            w.println("package " + r.out());
            if (r.made() != null) {
                w.printf("  %s %s (%s), Depends: %s%n", r.made().name(), r.made().version(), r.made().arch(), r.made().depends());
            }
            w.printf("  Linux %s, %s generation, %s%n", r.manifest().release(), r.manifest().generation(), r.manifest().rustc());
            w.printf("  %d files, %s unpacked, %s written, packed in %.1f s%n", r.manifest().files().size(),
                    Text.size(r.unpackedBytes()), Text.size(r.outBytes()), r.packTime().toMillis() / 1000.0);
            if (r.manifest().targetTriple() != null) {
                w.println("  target     " + r.manifest().targetSpec() + " (rustc names it " + r.manifest().targetTriple() + ")");
            }
            if (r.verification() != null) {
                w.printf("  verified   C and Rust probe modules built at %s with %s (%.1f s)%n",
                        r.verification().relocatedTo(), r.verification().rustcCandidate(),
                        r.verification().took().toMillis() / 1000.0);
            } else {
                w.println("  not verified (--no-verify)");
            }
        }
        return ExitCode.OK.code();
    }

    /** --json of a package. */
    record Packed(Path out, String format, String release, String generation, String rustc,
                  String targetTriple, int files, long unpackedBytes, long outBytes, long packMillis,
                  Optional<Verified> verification, Optional<Distro> distroPackage) {
        static Packed of(PackageWorkflow.Result r) {
            PackageManifest m = r.manifest();
            return new Packed(r.out(), r.format().toString(), m.release(), m.generation(), m.rustc(), m.targetTriple(), m.files().size(),
                    r.unpackedBytes(), r.outBytes(), r.packTime().toMillis(), Optional.ofNullable(r.verification()).map(v ->
                    new Verified(v.relocatedTo(), v.rustcCandidate(),
                            v.modules().stream().map(ko -> ko.getFileName().toString()).toList(), v.took().toMillis())),
                    Optional.ofNullable(r.made()).map(d -> new Distro(d.file().getFileName().toString(), d.name(),
                            d.version(), d.arch(), d.depends())));
        }
    }

    /** A deb or arch package: its file name, package name, version, architecture and dependencies. */
    record Distro(String file, String name, String version, String arch, String depends) { }

    /** Where the package was verified, with which rustc, and the probe modules built there. */
    record Verified(Path relocatedTo, String rustc, List<String> modules, long millis) { }
}
