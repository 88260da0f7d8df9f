package dev.rkmod.workflow.distro;

import dev.rkmod.format.DpkgStatus;
import dev.rkmod.format.KernelConfig;
import dev.rkmod.infra.event.Stage;
import dev.rkmod.infra.host.Chroot;
import dev.rkmod.infra.process.ProcessResult;
import dev.rkmod.model.Distro;
import dev.rkmod.model.ExitCode;
import dev.rkmod.model.Profile;
import dev.rkmod.model.RkmodException;
import dev.rkmod.workflow.Context;
import dev.rkmod.workflow.toolchain.DebianRoots;
import dev.rkmod.workflow.toolchain.Toolchain;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A distribution's own kernel as its archive ships it, inside the distro profile's Debian root: which
 * release the flavour's metapackage points to, where its headers and source are, and whether the root's
 * rustc, bindgen and C compiler are exactly those the kernel's config names. Versions are read, never
 * assumed.
 */
public final class DistroKernels {
    private static final Duration APT_TIMEOUT = Duration.ofMinutes(30);

    private final Context ctx;

    public DistroKernels(Context ctx) {
        this.ctx = ctx;
    }

    /**
     * A distro kernel found in a root.
     *
     * @param headersDir    the headers directory, as a host path (inside the root)
     * @param sourceTarball the kernel source tarball, as a host path (inside the root)
     */
    public record Kernel(Distro distro, Path root, String release, String headersPackage, String headersVersion,
                         Path headersDir, String sourcePackage, String sourceVersion, Path sourceTarball,
                         KernelConfig config) {
        public String rustcText() {
            return config.string("RUSTC_VERSION_TEXT").orElse(null);
        }

        public String bindgenText() {
            return config.string("BINDGEN_VERSION_TEXT").orElse(null);
        }

        public String ccText() {
            return config.string("CC_VERSION_TEXT").orElse(null);
        }

        /** The C compiler command the kernel was built with: the first word of CONFIG_CC_VERSION_TEXT. */
        public String ccCommand() {
            String t = ccText();
            return t == null || t.isBlank() ? "gcc" : t.strip().split("\\s+")[0];
        }

        public boolean clang() {
            return config.value("CC_IS_CLANG").equals("y");
        }
    }

    /** The exact tools a kernel needs, and what the root has. */
    public record ToolCheck(String tool, String wanted, String found) {
        public boolean matches() {
            return wanted != null && wanted.equals(found);
        }
    }

    /** The profile's root, which must have been made ('rkmod deps --install --profile ID'). */
    public Path root(Distro d) {
        Profile p = Profile.forDistro(d).orElseThrow();
        return new DebianRoots(ctx).find(p.root().orElseThrow()).orElseThrow(() -> new RkmodException(ExitCode.ENVIRONMENT,
                "The " + d.name() + " root has not been made",
                "The distro's headers, source and its kernel's exact toolchain live in a debootstrap " + d.suite() + " root",
                "Run 'rkmod deps --install --profile " + p.id() + "' (as root; about 6 minutes and 5 GB)"));
    }

    /** The release the flavour's headers metapackage points to in this root. */
    public String currentRelease(Distro d, Path root) {
        DpkgStatus status = status(root);
        String deps = status.depends(d.headersMeta());
        Matcher m = Pattern.compile(Pattern.quote(d.headersPrefix()) + "(\\S+)\\s*\\(=\\s*([^)]+)\\)").matcher(deps);
        while (m.find()) {
            if (!m.group(1).equals(d.headersMeta())) {
                return m.group(1);
            }
        }
        throw new RkmodException(ExitCode.ENVIRONMENT, "Cannot tell which kernel " + d.headersMeta() + " points to in " + root,
                "Its Depends field is '" + deps + "'", "Remake the root: 'rkmod cache clear --kind root', then 'rkmod deps --install"
                + " --profile " + d.id() + "'");
    }

    /** The kernel of {@code release} (default: the current one), installing its headers and source in the root if needed. */
    public Kernel kernel(Distro d, Path root, Optional<String> release) {
        String rel = release.orElseGet(() -> currentRelease(d, root));
        String headers = d.headersPackage(rel);
        String series = Distro.series(rel);
        String source = d.sourcePackage(series);
        DpkgStatus status = status(root);
        List<String> missing = new ArrayList<>();
        for (String p : List.of(headers, source)) {
            if (!status.isInstalled(p)) {
                missing.add(p);
            }
        }
        if (!missing.isEmpty()) {
            install(d, root, rel, missing);
            status = status(root);
        }
        String hv = status.version(headers).orElseThrow();
        String sv = status.version(source).orElseThrow();
        if (!hv.equals(sv)) {
            throw new RkmodException(ExitCode.ENVIRONMENT, "The root has " + headers + " " + hv + " but " + source + " " + sv,
                    "The Rust set must be made from the very source the kernel was built from; another Debian version"
                            + " of the source gives other symbol hashes",
                    "Install the matching source in the root (apt-get install " + source + "=" + hv + "), or complete the"
                            + " headers of release " + currentRelease(d, root));
        }
        Path headersDir = inRoot(root, d.headersDir(rel));
        Path tarball = inRoot(root, d.sourceTarball(series));
        if (!Files.isRegularFile(headersDir.resolve(".config")) || !Files.isRegularFile(tarball)) {
            throw new RkmodException(ExitCode.ENVIRONMENT, "The " + d.name() + " root lacks " + (Files.isRegularFile(tarball)
                    ? headersDir.resolve(".config") : tarball), headers + " and " + source + " should install them",
                    "Reinstall them in the root, or remake the root ('rkmod cache clear --kind root')");
        }
        KernelConfig config;
        try {
            config = KernelConfig.read(headersDir.resolve(".config"));
        } catch (IOException e) {
            throw new RkmodException(ExitCode.ENVIRONMENT, "Cannot read " + headersDir.resolve(".config"), e.getMessage(), null, e);
        }
        return new Kernel(d, root, rel, headers, hv, headersDir, source, sv, tarball, config);
    }

    private void install(Distro d, Path root, String release, List<String> packages) {
        try (Chroot c = Chroot.enter(root, ctx.runner(), ctx.host());
             Stage stage = Stage.start(ctx.events(), "apt-get", "fetching " + String.join(" ", packages) + " into the "
                     + d.suite() + " root")) {
            ctx.runner().run(c.spec(null, List.of("DEBIAN_FRONTEND=noninteractive"), List.of("apt-get", "-q", "update"))
                    .label("apt-get").timeout(APT_TIMEOUT).failureCode(ExitCode.ENVIRONMENT));
            List<String> argv = new ArrayList<>(List.of("apt-get", "-q", "install", "-y", "--no-install-recommends"));
            argv.addAll(packages);
            ProcessResult r = ctx.runner().run(c.spec(null, List.of("DEBIAN_FRONTEND=noninteractive"), argv)
                    .label("apt-get").timeout(APT_TIMEOUT).capture().allowFailure());
            if (!r.ok()) {
                throw new RkmodException(ExitCode.ENVIRONMENT, "The " + d.name() + " archive does not offer "
                        + String.join(" and ", packages),
                        "Kernel " + release + " may have left the archive (sid keeps only the current kernel); apt-get said: "
                                + String.join(" ", r.tail().subList(Math.max(0, r.tail().size() - 3), r.tail().size())),
                        "Complete the current kernel instead: 'rkmod headers complete --distro " + d.id() + "' (it is "
                                + currentRelease(d, root) + " in the root)");
            }
            stage.ok();
        }
    }

    /** Compares the root's rustc, bindgen and C compiler with the strings in the kernel's config. */
    public List<ToolCheck> tools(Kernel k) {
        Toolchain tc = Toolchain.root(k.root(), Profile.forDistro(k.distro()));
        try (Toolchain.Shell s = tc.open(ctx, List.of())) {
            return List.of(
                    new ToolCheck("rustc", k.rustcText(), s.version(tc.rustc(), null).orElse(null)),
                    new ToolCheck("bindgen", k.bindgenText(), s.version(tc.bindgen(), null).orElse(null)),
                    new ToolCheck("cc", k.ccText(), s.version(k.ccCommand(), null).orElse(null)));
        }
    }

    /**
     * Refuses a root whose rustc or bindgen is not exactly the kernel's (a near miss gives other symbol
     * hashes, and modules that do not load). A C compiler that differs only warns: the Rust set does not
     * depend on it, and the unchanged-config check after completion catches any effect.
     */
    public void requireExactTools(Kernel k) {
        if (!k.config().value("RUST").equals("y")) {
            return;
        }
        for (ToolCheck t : tools(k)) {
            if (t.matches()) {
                continue;
            }
            if (t.tool().equals("cc")) {
                ctx.events().warn("the kernel was built with '" + t.wanted() + "'; the root's " + k.ccCommand() + " prints '"
                        + t.found() + "'");
                continue;
            }
            throw nearMiss(k, t.tool(), t.wanted(), t.found(), "the " + k.distro().suite() + " root's " + t.tool());
        }
    }

    /** The precise refusal for a tool that is not the kernel's exact one. */
    public static RkmodException nearMiss(Kernel k, String tool, String wanted, String found, String where) {
        return new RkmodException(ExitCode.ENVIRONMENT,
                "Linux " + k.release() + " was built with '" + wanted + "', but " + where + " prints "
                        + (found == null ? "nothing (it is missing or does not run)" : "'" + found + "'"),
                "The Rust set must be made by the exact " + tool + " that built the kernel, version string and suffix"
                        + " included: any other gives other crate hashes, so the module would not load. rkmod never builds"
                        + " with a near miss",
                "Wait until the " + k.distro().name() + " archive carries the kernel's " + tool + " again (or the kernel is"
                        + " rebuilt with the new one), or install exactly '" + wanted + "' and pass it with --rustc");
    }

    private static DpkgStatus status(Path root) {
        try {
            return DpkgStatus.read(root.resolve("var/lib/dpkg/status"));
        } catch (IOException e) {
            throw new RkmodException(ExitCode.ENVIRONMENT, "Cannot read the package database of " + root, e.getMessage(), null, e);
        }
    }

    static Path inRoot(Path root, String absolute) {
        return root.resolve(absolute.substring(1));
    }
}
