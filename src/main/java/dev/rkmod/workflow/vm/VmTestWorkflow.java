package dev.rkmod.workflow.vm;

import dev.rkmod.format.BzImage;
import dev.rkmod.format.CompressedModule;
import dev.rkmod.format.FormatException;
import dev.rkmod.format.HeadersManifest;
import dev.rkmod.format.KernelManifest;
import dev.rkmod.format.Ktap;
import dev.rkmod.format.ModulesDep;
import dev.rkmod.format.ProjectToml;
import dev.rkmod.infra.event.Stage;
import dev.rkmod.infra.fs.FileOps;
import dev.rkmod.infra.process.ProcessResult;
import dev.rkmod.infra.process.ProcessSpec;
import dev.rkmod.model.Distro;
import dev.rkmod.model.ExitCode;
import dev.rkmod.model.RkmodException;
import dev.rkmod.workflow.Context;
import dev.rkmod.workflow.distro.DistroImages;
import dev.rkmod.workflow.distro.DistroModules;
import dev.rkmod.workflow.install.Depmod;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Supplier;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * `rkmod vmtest`: boots the kernel in a throwaway QEMU ({@link QemuCommand}, under the {@link AccelChoice})
 * with an initramfs rkmod writes itself ({@link InitScript}), loads and unloads the modules, and gives a
 * verdict from the console ({@link ConsoleVerdict}), optionally as JUnit XML ({@link JunitReport}).
 */
public final class VmTestWorkflow {
    /** Where a kernel build tree without a manifest has its image. */
    static final String TREE_IMAGE = "arch/x86/boot/bzImage";
    /** The test VM's userland: busybox-static, copied into the initramfs. */
    public static final Path BUSYBOX = Path.of("/bin/busybox");

    private final Context ctx;
    /** busybox's applets, once read. */
    private List<String> applets;

    public VmTestWorkflow(Context ctx) {
        this.ctx = ctx;
    }

    /** How to use KVM: auto probes it, on requires it, off never uses it. */
    public enum Kvm { AUTO, ON, OFF }

    /** A module to load, with its parameters ("a=1 b=2"). */
    public record ModuleSpec(Path ko, String args) {
        public static ModuleSpec parse(String s) {
            int colon = s.indexOf(".ko:");
            if (colon < 0) {
                return new ModuleSpec(Path.of(s), "");
            }
            return new ModuleSpec(Path.of(s.substring(0, colon + 3)), s.substring(colon + 4));
        }
    }

    /**
     * What to test. {@code devices} ({@code --device}) are added to QEMU; {@code run} ({@code --run}) are programs run
     * in the VM once the modules are loaded. The rkmod.toml read is {@code project}'s, else the first module's
     * directory's: its expected lines, devices and programs follow those of the request.
     */
    public record Request(List<ModuleSpec> modules, Optional<Path> kernel, Optional<Path> kdir, List<String> expect,
                          Duration timeout, Kvm kvm, Optional<Path> junit, double holdSeconds, List<String> devices,
                          List<Path> run, Optional<Path> project) {
        /** A request without devices and programs of its own (rkmod.toml's still apply). */
        public Request(List<ModuleSpec> modules, Optional<Path> kernel, Optional<Path> kdir, List<String> expect,
                       Duration timeout, Kvm kvm, Optional<Path> junit, double holdSeconds) {
            this(modules, kernel, kdir, expect, timeout, kvm, junit, holdSeconds, List.of(), List.of(), Optional.empty());
        }
    }

    /** What a run adds to the VM: the devices QEMU gets and the programs /init runs, each with where it came from. */
    public record Additions(List<String> devices, List<String> tomlDevices, List<RunProgram> programs) {
        public List<String> allDevices() {
            List<String> all = new ArrayList<>(devices);
            all.addAll(tomlDevices);
            return all;
        }
    }

    /**
     * One insmod, rmmod or run (index counts the modules, or the programs, from 1; a dependency's insmod and rmmod
     * have index 0); status is null when it never finished.
     */
    public record Step(String action, int index, String module, Integer status) {
        /** Whether this loads or unloads a dependency rather than a tested module. */
        public boolean dependency() {
            return index == 0 && !action.equals("run");
        }

        /** The module or program as the verdict names it: "configfs (a dependency)". */
        public String shown() {
            return dependency() ? module + " (a dependency)" : module;
        }
    }

    /**
     * A module the tested ones depend on, loaded before them from the kernel's own modules: its name, its path among
     * them ({@code kernel/fs/configfs/configfs.ko.xz}), the file, where the modules came from, and the tested modules
     * that need it.
     */
    public record Dependency(String name, String path, Path file, String source, List<String> neededBy) { }

    /** The outcome: pass when there is no reason to fail. */
    public record Verdict(boolean pass, List<Reason> reasons, List<Step> steps, List<String> moduleLines,
                          List<String> expected, List<Ktap.Result> ktap, Path consoleLog, Accel accel, String release,
                          Duration took, List<Dependency> dependencies) {
        /** A verdict of a run that loaded no dependencies. */
        public Verdict(boolean pass, List<Reason> reasons, List<Step> steps, List<String> moduleLines, List<String> expected,
                       List<Ktap.Result> ktap, Path consoleLog, Accel accel, String release, Duration took) {
            this(pass, reasons, steps, moduleLines, expected, ktap, consoleLog, accel, release, took, List.of());
        }

        /** The same verdict, naming the dependencies the run loaded. */
        public Verdict withDependencies(List<Dependency> deps) {
            return new Verdict(pass, reasons, steps, moduleLines, expected, ktap, consoleLog, accel, release, took,
                    List.copyOf(deps));
        }
    }

    public Verdict run(Request req) {
        long start = System.nanoTime();
        ctx.runner().prepare();
        if (req.modules().isEmpty()) {
            throw new RkmodException(ExitCode.USAGE, "No module given", null, "Pass one or more MODULE.ko files");
        }
        Path projectDir = req.project().orElseGet(() -> req.modules().get(0).ko().toAbsolutePath().getParent());
        Optional<ProjectToml> toml = readToml(projectDir);
        Path busybox = BUSYBOX;
        Additions additions = additions(req.devices(), req.run(), toml, projectDir, busybox);
        Optional<HeadersManifest> distroKernel = req.kernel().isPresent() ? Optional.empty()
                : req.kdir().flatMap(HeadersManifest::read).filter(h -> h.distro() != null);
        Path bz = req.kernel().orElseGet(() -> req.kdir().map(d -> distroKernel.map(h -> new DistroImages(ctx).image(h))
                .orElseGet(() -> treeImage(d))).orElseThrow(() ->
                new RkmodException(ExitCode.USAGE, "No kernel given", null, "Pass --kernel BZIMAGE or --kdir KERNEL_BUILD_TREE")));
        List<Pattern> noise = distroKernel.flatMap(h -> Distro.byId(h.distro())).map(Distro::bootNoise).orElse(List.of())
                .stream().map(Pattern::compile).toList();
        String memory = QemuCommand.memory(distroKernel.isPresent(), sizeOf(bz));
        BzImage image = readKernel(bz);
        List<LoadedModule> loaded = req.modules().stream().map(m -> LoadedModule.inspect(m, image.release())).toList();
        List<String> expect = expectations(req, toml);
        Path qemu = ctx.host().which("qemu-system-x86_64").orElseThrow(() -> new RkmodException(ExitCode.ENVIRONMENT,
                "qemu-system-x86_64 is not installed", "vmtest boots the kernel in QEMU",
                "Run 'rkmod deps --install' (package qemu-system-x86)"));
        requireBusybox(busybox);
        List<String> devices = additions.allDevices();
        List<RunProgram> programs = additions.programs();
        Path work = ctx.cache().scratch("vmtest");
        try {
            List<Dependency> deps = Dependencies.resolve(loaded, wanted -> kernelModules(distroKernel, req, bz,
                    image.release(), work, loaded, wanted));
            List<InitScript.Dep> depFiles = dependencyFiles(deps);
            Path initrd = work.resolve("initrd.cpio");
            Files.write(initrd, programs.isEmpty() && depFiles.isEmpty()
                    ? InitScript.initramfs(loaded, busybox, req.holdSeconds())
                    : InitScript.initramfs(loaded, depFiles, busybox, req.holdSeconds(), programs,
                            programs.isEmpty() ? List.of() : applets(busybox)));
            Accel accel = new AccelChoice(ctx).choose(req.kvm(), qemu, bz, busybox, work);
            prepareVerdict();
            ProcessResult r;
            try (Stage stage = Stage.start(ctx.events(), "boot", "Linux " + image.release() + " under " + accel.name())) {
                r = ctx.runner().run(ProcessSpec.of(QemuCommand.test(qemu, memory, bz, initrd, accel, devices)).label("qemu")
                        .timeout(req.timeout()).capture().allowFailure().failureCode(ExitCode.CHECK_FAILED));
                stage.ok();
            }
            if (!r.timedOut() && r.exitCode() != 0 && !devices.isEmpty()) {
                ConsoleVerdict.refusedDevice(r.output(), devices).ifPresent(d -> {
                    throw refusedDevice(d, additions.devices().contains(d.device()) ? "--device" : "rkmod.toml's devices");
                });
            }
            List<String> names = new ArrayList<>(deps.stream().map(Dependency::name).toList());
            names.addAll(loaded.stream().map(LoadedModule::name).toList());
            Verdict v = ConsoleVerdict.judge(r, names, programs.stream().map(RunProgram::shown).toList(), expect, noise,
                    accel, image.release(), Duration.ofNanos(System.nanoTime() - start)).withDependencies(deps);
            req.junit().ifPresent(j -> FileOps.writeAtomically(j, JunitReport.of(v).getBytes(StandardCharsets.UTF_8)));
            return v;
        } catch (IOException e) {
            throw new RkmodException(ExitCode.ENVIRONMENT, "vmtest could not prepare its VM", e.getMessage(), null, e);
        } finally {
            FileOps.deleteTree(work);
        }
    }

    /**
     * Where this kernel's own modules are, for the dependencies {@code wanted} of the tested modules: a distro kernel's
     * modules package (downloaded once and cached), or the modules of the rkmod-built kernel tree the image belongs to
     * (its modules.order, indexed by depmod in {@code work}). Neither (a bare --kernel image) is refused before booting.
     */
    private Dependencies.KernelModules kernelModules(Optional<HeadersManifest> distroKernel, Request req, Path bz,
                                                     String release, Path work, List<LoadedModule> loaded,
                                                     List<String> wanted) {
        if (distroKernel.isPresent()) {
            HeadersManifest h = distroKernel.get();
            DistroModules.Modules m = new DistroModules(ctx).modules(h);
            String distro = Distro.byId(h.distro()).map(Distro::name).orElse(h.distro());
            return new Dependencies.KernelModules(m.dir(), distro + "'s " + m.source(), readIndex(m.dir()));
        }
        Optional<Path> tree = KernelTreeModules.treeOf(req.kdir(), bz, release);
        if (tree.isPresent()) {
            Path dir = KernelTreeModules.stage(tree.get(), release, work.resolve("modules-root"), ctx.events());
            Depmod.find(ctx).run(work.resolve("modules-root"), release, "rkmod indexes the kernel tree's modules to find"
                    + " a module's dependencies");
            return new Dependencies.KernelModules(dir, "the modules.order of the kernel build tree " + tree.get(),
                    readIndex(dir));
        }
        String mods = loaded.stream().filter(m -> m.depends().stream().anyMatch(wanted::contains))
                .map(m -> m.spec().ko().getFileName().toString()).distinct().reduce((a, b) -> a + " and " + b).orElse("the module");
        throw new RkmodException(ExitCode.USAGE, mods + " depends on " + String.join(", ", wanted) + ", and vmtest"
                + " cannot find this kernel's own modules to load " + (wanted.size() == 1 ? "it" : "them")
                + " from (checked before booting)",
                "It takes dependencies from a completed distro package's modules package (--kdir of a package made by"
                        + " 'rkmod headers complete') or from the modules of an rkmod-built kernel tree (--kdir TREE, or"
                        + " --kernel TREE/arch/x86/boot/bzImage); " + (req.kdir().isPresent() ? req.kdir().get()
                        + " is neither, or is of another release than " + release : "--kernel " + bz + " alone is an image"
                        + " without its modules"),
                "Pass --kdir with the kernel's build tree or completed package, or pass the dependencies as modules"
                        + " before the module that needs them (rkmod vmtest " + wanted.get(0) + ".ko MODULE.ko)");
    }

    private static ModulesDep readIndex(Path dir) {
        try {
            return ModulesDep.read(dir.resolve(ModulesDep.FILE));
        } catch (IOException e) {
            throw new RkmodException(ExitCode.ENVIRONMENT, "Cannot read " + dir.resolve(ModulesDep.FILE), e.getMessage(),
                    "Run depmod for this kernel, or remove the cached modules ('rkmod cache clear --kind "
                            + DistroModules.KIND + "')", e);
        }
    }

    /** Each dependency's module as the VM loads it: decompressed (.ko.xz, .ko.zst, .ko.gz), since busybox insmod may not. */
    private static List<InitScript.Dep> dependencyFiles(List<Dependency> deps) {
        List<InitScript.Dep> out = new ArrayList<>();
        for (Dependency d : deps) {
            byte[] data;
            try {
                data = Files.readAllBytes(d.file());
            } catch (IOException e) {
                throw new RkmodException(ExitCode.ENVIRONMENT, "Cannot read the dependency " + d.file(), e.getMessage(),
                        "Run depmod for this kernel again, or remove the cached modules ('rkmod cache clear --kind "
                                + DistroModules.KIND + "')", e);
            }
            try {
                data = CompressedModule.detect(data) == CompressedModule.Kind.NONE ? data : CompressedModule.decompress(data);
            } catch (FormatException e) {
                throw new RkmodException(ExitCode.ENVIRONMENT, "The dependency " + d.file() + " cannot be decompressed: "
                        + e.what(), e.why(), "Remove the cached modules ('rkmod cache clear --kind " + DistroModules.KIND
                        + "') so that they are fetched again", e);
            }
            out.add(new InitScript.Dep(d.name(), data));
        }
        return out;
    }

    /**
     * Loads the failure catalogue and compiles its patterns on a background thread while QEMU boots (about 20 ms in
     * a fresh JVM), instead of after it, when the verdict is waited for. Class initialisation makes the verdict wait
     * for it if it is not done yet; nothing else changes.
     */
    private static void prepareVerdict() {
        dev.rkmod.infra.lifecycle.Background.start("rkmod-verdict-prep", () -> ConsoleVerdict.FAILURES.size());
    }

    /**
     * The image of a kernel build tree: the bzImage its rkmod-kernel.json records ('rkmod kernel build'
     * wrote it), else arch/x86/boot/bzImage for trees built without rkmod.
     */
    static Path treeImage(Path kdir) {
        return KernelManifest.read(kdir).map(KernelManifest::bzImage).filter(Objects::nonNull).map(kdir::resolve)
                .orElseGet(() -> kdir.resolve(TREE_IMAGE));
    }

    /**
     * The devices and programs of a run: the request's, then those of {@code toml} (the programs' paths relative to
     * {@code projectDir}), each checked before anything boots: a device must be one to add ("help" only lists them), a
     * program one the VM can run ({@link RunProgram#check}). Public for the matrix, which checks them before its rows.
     */
    public Additions additions(List<String> devices, List<Path> run, Optional<ProjectToml> toml, Path projectDir,
                               Path busybox) {
        List<String> tomlDevices = toml.map(ProjectToml::devices).orElse(List.of());
        for (String d : devices) {
            checkDevice(d, "--device");
        }
        for (String d : tomlDevices) {
            checkDevice(d, "rkmod.toml's devices");
        }
        List<RunProgram> programs = new ArrayList<>();
        Supplier<List<String>> lazyApplets = () -> {
            requireBusybox(busybox);
            return applets(busybox);
        };
        for (Path p : run) {
            programs.add(RunProgram.check(p, p.toString(), "--run", lazyApplets));
        }
        for (String p : toml.map(ProjectToml::run).orElse(List.of())) {
            programs.add(RunProgram.check(projectDir.resolve(p), p, "rkmod.toml's run", lazyApplets));
        }
        return new Additions(List.copyOf(devices), tomlDevices, List.copyOf(programs));
    }

    private static void checkDevice(String d, String from) {
        String bare = d.strip();
        if (bare.isEmpty() || bare.startsWith("-")) {
            throw new RkmodException(ExitCode.USAGE, from + " '" + d + "' is not a QEMU device",
                    "vmtest passes each as -device DEVICE to QEMU", "Pass a device model, e.g. pci-testdev or isa-serial,"
                    + " with properties after commas (virtio-rng-pci,id=rng0)");
        }
        if (bare.equals("help") || bare.equals("?") || bare.endsWith(",help") || bare.endsWith(",?")) {
            throw new RkmodException(ExitCode.USAGE, from + " " + d + " asks QEMU for a list, not for a device",
                    "vmtest adds each device to the test VM; QEMU's help would only print and exit",
                    "Run 'qemu-system-x86_64 -device help' (or -device NAME,help) yourself, then pass the device");
        }
    }

    private static RkmodException refusedDevice(ConsoleVerdict.RefusedDevice d, String from) {
        return new RkmodException(ExitCode.USAGE, "QEMU refused " + from + " " + d.device() + ": " + d.message(),
                "QEMU checks the devices before it boots the kernel, and cannot add this one to the test VM (a pc"
                        + " machine with a PCI bus, no default devices); nothing was booted",
                "List the devices with 'qemu-system-x86_64 -device help' and a device's properties with"
                        + " 'qemu-system-x86_64 -device NAME,help'");
    }

    private static void requireBusybox(Path busybox) {
        if (!Files.isRegularFile(busybox)) {
            throw new RkmodException(ExitCode.ENVIRONMENT, "/bin/busybox is missing", "The test VM's userland is busybox-static",
                    "Run 'rkmod deps --install' (package busybox-static)");
        }
    }

    /** busybox's applets as paths ({@code busybox --list-full}: bin/sh, usr/bin/env, ...); just bin/sh if it cannot say. */
    private List<String> applets(Path busybox) {
        if (applets != null) {
            return applets;
        }
        ProcessResult r = ctx.runner().run(ProcessSpec.of(busybox.toString(), "--list-full").label("busybox")
                .capture().quiet().noLog().allowFailure().timeout(Duration.ofSeconds(10)));
        List<String> out = r.ok() ? r.output().stream().map(String::strip).filter(l -> !l.isEmpty()).toList() : List.of();
        applets = out.isEmpty() ? List.of("bin/sh") : out;
        return applets;
    }

    /** The project's rkmod.toml; one rkmod cannot read is ignored with a warning, as are keys of [vmtest] it does not know. */
    private Optional<ProjectToml> readToml(Path dir) {
        try {
            Optional<ProjectToml> t = ProjectToml.read(dir);
            t.ifPresent(p -> p.ignored().forEach(k -> ctx.events().warn(dir.resolve(ProjectToml.FILE) + ": ignoring [vmtest] "
                    + k + ", a key rkmod does not know (it reads " + String.join(", ", ProjectToml.VMTEST_KEYS) + ")")));
            return t;
        } catch (IOException | FormatException e) {
            ctx.events().warn("ignoring " + dir.resolve(ProjectToml.FILE) + ": " + e.getMessage());
            return Optional.empty();
        }
    }

    /** The --expect patterns, checked, then the lines of the module directory's rkmod.toml (literally). */
    private List<String> expectations(Request req, Optional<ProjectToml> toml) {
        for (String e : req.expect()) {
            try {
                Pattern.compile(e);
            } catch (PatternSyntaxException ex) {
                throw new RkmodException(ExitCode.USAGE, "--expect '" + e + "' is not a valid regular expression",
                        ex.getDescription(), "Escape special characters, e.g. \\( for a literal parenthesis");
            }
        }
        List<String> expect = new ArrayList<>(req.expect());
        toml.ifPresent(t -> t.expect().forEach(e -> expect.add(Pattern.quote(e))));
        return expect;
    }

    private static long sizeOf(Path p) {
        try {
            return Files.size(p);
        } catch (IOException e) {
            return 0;
        }
    }

    private static BzImage readKernel(Path bz) {
        if (!Files.isRegularFile(bz)) {
            throw new RkmodException(ExitCode.USAGE, "The kernel image " + bz + " does not exist", null,
                    "Pass --kernel with arch/x86/boot/bzImage of a built kernel, or --kdir with its build tree");
        }
        try {
            return BzImage.read(bz);
        } catch (FormatException e) {
            throw new RkmodException(ExitCode.USAGE, e.what(), e.why(), e.fix());
        } catch (IOException e) {
            throw new RkmodException(ExitCode.USAGE, "Cannot read " + bz, e.getMessage(), null, e);
        }
    }
}
