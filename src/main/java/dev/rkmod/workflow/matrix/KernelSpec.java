package dev.rkmod.workflow.matrix;

import dev.rkmod.format.PackageManifest;
import dev.rkmod.model.Distro;
import dev.rkmod.model.ExitCode;
import dev.rkmod.model.Profile;
import dev.rkmod.model.RkmodException;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * A kernel of the matrix, as {@code --kernel SPEC} names it: a toolchain profile (its tiny-rust kernel, built or taken
 * from the cache), a distro's own kernel ({@code debian-sid}, {@code debian-sid:RELEASE}), a kernel build tree, an rkmod
 * package (a directory, or a {@code .tar.zst}/{@code .tar.xz} archive), or {@code all}, every profile. Names win over
 * paths: a directory called {@code 6.1} is {@code ./6.1}.
 */
public sealed interface KernelSpec {
    /** What --kernel takes for every profile. */
    String ALL = "all";

    /** The spec as the user wrote it: the row's name. */
    String label();

    /** A profile's tiny-rust kernel ('rkmod kernel build --profile P'). */
    record ProfileKernel(String label, Profile profile) implements KernelSpec { }

    /** A distro's own kernel, its headers completed ('rkmod headers complete --distro D'). */
    record DistroKernel(String label, Distro.Selector selector) implements KernelSpec { }

    /** A built kernel tree. */
    record Tree(String label, Path dir) implements KernelSpec { }

    /** An rkmod package directory (made by 'rkmod package' or 'rkmod headers complete'). */
    record PackageDir(String label, Path dir) implements KernelSpec { }

    /** An rkmod package archive. */
    record PackageArchive(String label, Path file) implements KernelSpec { }

    /** The profile whose toolchain and deps a named kernel needs; empty for paths. */
    default Optional<Profile> toolchainProfile() {
        if (this instanceof ProfileKernel p) {
            return Optional.of(p.profile());
        }
        return this instanceof DistroKernel d ? Profile.forDistro(d.selector().distro()) : Optional.empty();
    }

    /** The label as a file name: letters, digits, dot, dash and underscore. */
    default String slug() {
        String s = label().replaceAll("[^A-Za-z0-9._-]+", "-").replaceAll("^[-.]+|-+$", "");
        return s.isEmpty() ? "kernel" : s.length() > 60 ? s.substring(s.length() - 60) : s;
    }

    /** Every spec in order, {@code all} expanded to the profiles, each kernel once (by label). Usage error on a bad one. */
    static List<KernelSpec> parseAll(List<String> specs) {
        if (specs.isEmpty()) {
            throw new RkmodException(ExitCode.USAGE, "No kernel given", "The matrix runs a module against the kernels"
                    + " named by --kernel", "Pass --kernel SPEC one or more times: a profile (" + Profile.ids() + "), a distro"
                    + " kernel (" + Distro.ids() + "), a kernel build tree, an rkmod package, or all");
        }
        Map<String, KernelSpec> out = new LinkedHashMap<>();
        for (String s : specs) {
            if (s.equals(ALL)) {
                for (Profile p : Profile.values()) {
                    out.putIfAbsent(p.id(), parse(p.id()));
                }
            } else {
                out.putIfAbsent(s, parse(s));
            }
        }
        return List.copyOf(out.values());
    }

    /** One spec (not {@code all}). */
    static KernelSpec parse(String s) {
        Optional<Profile> profile = Profile.byId(s);
        if (profile.isPresent()) {
            Profile p = profile.get();
            if (p.buildsKernels()) {
                return new ProfileKernel(s, p);
            }
            return new DistroKernel(s, new Distro.Selector(p.distro().orElseThrow(), Optional.empty()));
        }
        Optional<Distro.Selector> distro = Distro.Selector.parse(s);
        if (distro.isPresent()) {
            return new DistroKernel(s, distro.get());
        }
        Path p = Path.of(s);
        if (Files.isDirectory(p)) {
            return Files.isRegularFile(p.resolve(PackageManifest.FILE)) ? new PackageDir(s, p) : new Tree(s, p);
        }
        String lower = s.toLowerCase(Locale.ROOT);
        if (Files.isRegularFile(p) && (lower.endsWith(".tar.zst") || lower.endsWith(".tar.xz"))) {
            return new PackageArchive(s, p);
        }
        throw new RkmodException(ExitCode.USAGE, "--kernel '" + s + "' names no kernel",
                Files.exists(p) ? s + " is neither a directory nor a .tar.zst or .tar.xz package"
                        : "It is not a profile (" + Profile.ids() + "), not a distro kernel (" + Distro.ids()
                        + "[:RELEASE]), not 'all', and no such file or directory exists",
                "Pass a profile, a distro kernel, a kernel build tree, an rkmod package, or all");
    }

    /** The profiles' ids and 'all', for help texts. */
    static String names() {
        List<String> out = new ArrayList<>(Arrays.stream(Profile.values()).map(Profile::id).toList());
        out.add(ALL);
        return String.join(", ", out);
    }
}
