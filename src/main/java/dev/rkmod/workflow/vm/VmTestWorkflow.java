package dev.rkmod.workflow.vm;

import dev.rkmod.format.BzImage;
import dev.rkmod.format.CpioNewc;
import dev.rkmod.format.ElfFile;
import dev.rkmod.format.FormatException;
import dev.rkmod.format.HeadersManifest;
import dev.rkmod.format.JunitXml;
import dev.rkmod.format.Ktap;
import dev.rkmod.format.ModInfo;
import dev.rkmod.format.ModuleSignature;
import dev.rkmod.format.ProjectToml;
import dev.rkmod.infra.event.Stage;
import dev.rkmod.infra.fs.FileOps;
import dev.rkmod.infra.process.ProcessResult;
import dev.rkmod.infra.process.ProcessSpec;
import dev.rkmod.model.Distro;
import dev.rkmod.model.ExitCode;
import dev.rkmod.model.FailureCatalogue;
import dev.rkmod.model.RkmodException;
import dev.rkmod.workflow.Context;
import dev.rkmod.workflow.distro.DistroImages;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * `rkmod vmtest`: boots the kernel in a throwaway QEMU with an initramfs rkmod writes itself (busybox,
 * the modules, a generated /init), loads and unloads the modules, and gives a verdict from the console.
 */
public final class VmTestWorkflow {
    public static final String MARK = "RKMOD-VMTEST:";
    private static final Pattern STEP = Pattern.compile(Pattern.quote(MARK) + " (begin|end) (insmod|rmmod) (\\d+) (\\S+)(?: status=(\\d+))?");
    private static final Pattern PRINTK = Pattern.compile("^\\[\\s*\\d+\\.\\d+\\] ");
    /**
     * Kernel messages that fail a run: the patterns of the failure catalogue's load entries (crashes, unknown
     * symbols, vermagic and modversions mismatches). The taint messages of unsigned out-of-tree modules do not.
     */
    static final List<Pattern> FAILURES = FailureCatalogue.get().entries().stream().filter(FailureCatalogue.Entry::isLoad)
            .flatMap(e -> e.patterns().stream()).map(Pattern::compile).toList();

    private final Context ctx;

    public VmTestWorkflow(Context ctx) {
        this.ctx = ctx;
    }

    /** How to use KVM. */
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

    public record Request(List<ModuleSpec> modules, Optional<Path> kernel, Optional<Path> kdir, List<String> expect,
                          Duration timeout, Kvm kvm, Optional<Path> junit, double holdSeconds) { }

    /** One insmod or rmmod; status is null when it never finished. */
    public record Step(String action, int index, String module, Integer status) { }

    public record Verdict(boolean pass, List<String> reasons, List<Step> steps, List<String> moduleLines,
                          List<String> expected, List<Ktap.Result> ktap, Path consoleLog, String accel, String release,
                          Duration took) { }

    record Loaded(ModuleSpec spec, String name, String vermagic) { }

    public Verdict run(Request req) {
        long start = System.nanoTime();
        if (req.modules().isEmpty()) {
            throw new RkmodException(ExitCode.USAGE, "No module given", null, "Pass one or more MODULE.ko files");
        }
        Optional<HeadersManifest> distroKernel = req.kernel().isPresent() ? Optional.empty()
                : req.kdir().flatMap(HeadersManifest::read).filter(h -> h.distro() != null);
        Path bz = req.kernel().orElseGet(() -> req.kdir().map(d -> distroKernel.map(h -> new DistroImages(ctx).image(h))
                .orElseGet(() -> d.resolve("arch/x86/boot/bzImage"))).orElseThrow(() ->
                new RkmodException(ExitCode.USAGE, "No kernel given", null, "Pass --kernel BZIMAGE or --kdir KERNEL_BUILD_TREE")));
        List<Pattern> noise = distroKernel.flatMap(h -> Distro.byId(h.distro())).map(Distro::bootNoise).orElse(List.of())
                .stream().map(Pattern::compile).toList();
        // a generic distro kernel with its many built-in drivers needs more memory than a tiny one
        String memory = distroKernel.isPresent() || sizeOf(bz) > (12L << 20) ? "512" : "256";
        BzImage image = readKernel(bz);
        List<Loaded> loaded = new ArrayList<>();
        for (ModuleSpec m : req.modules()) {
            loaded.add(inspect(m, image.release()));
        }
        for (String e : req.expect()) {
            try {
                Pattern.compile(e);
            } catch (java.util.regex.PatternSyntaxException ex) {
                throw new RkmodException(ExitCode.USAGE, "--expect '" + e + "' is not a valid regular expression",
                        ex.getDescription(), "Escape special characters, e.g. \\( for a literal parenthesis");
            }
        }
        List<String> expect = new ArrayList<>(req.expect());
        Path toml = req.modules().get(0).ko().toAbsolutePath().getParent();
        try {
            ProjectToml.read(toml).ifPresent(t -> t.expect().forEach(e -> expect.add(Pattern.quote(e))));
        } catch (IOException | FormatException e) {
            ctx.events().warn("ignoring " + toml.resolve(ProjectToml.FILE) + ": " + e.getMessage());
        }
        Path qemu = ctx.host().which("qemu-system-x86_64").orElseThrow(() -> new RkmodException(ExitCode.ENVIRONMENT,
                "qemu-system-x86_64 is not installed", "vmtest boots the kernel in QEMU",
                "Run 'rkmod deps --install' (package qemu-system-x86)"));
        Path busybox = Path.of("/bin/busybox");
        if (!Files.isRegularFile(busybox)) {
            throw new RkmodException(ExitCode.ENVIRONMENT, "/bin/busybox is missing", "The test VM's userland is busybox-static",
                    "Run 'rkmod deps --install' (package busybox-static)");
        }
        Path work = ctx.cache().scratch("vmtest");
        try {
            Path initrd = work.resolve("initrd.cpio");
            Files.write(initrd, initramfs(loaded, busybox, req.holdSeconds()));
            String accel = accel(req.kvm(), qemu, bz, busybox, work);
            List<String> argv = new ArrayList<>(List.of(qemu.toString(), "-m", memory, "-smp", "1", "-nographic",
                    "-no-reboot", "-nodefaults", "-serial", "stdio", "-kernel", bz.toString(), "-initrd", initrd.toString(),
                    "-append", "console=ttyS0 panic=-1 loglevel=7"));
            argv.addAll(accel.equals("kvm") ? List.of("-enable-kvm", "-cpu", "host") : List.of("-accel", "tcg"));
            ProcessResult r;
            try (Stage stage = Stage.start(ctx.events(), "boot", "Linux " + image.release() + " under " + accel.toUpperCase())) {
                r = ctx.runner().run(ProcessSpec.of(argv).label("qemu").timeout(req.timeout()).capture()
                        .allowFailure().failureCode(ExitCode.CHECK_FAILED));
                stage.ok();
            }
            Verdict v = verdict(r, loaded, expect, noise, accel, image.release(), Duration.ofNanos(System.nanoTime() - start));
            req.junit().ifPresent(j -> FileOps.writeAtomically(j, junit(v).getBytes(StandardCharsets.UTF_8)));
            return v;
        } catch (IOException e) {
            throw new RkmodException(ExitCode.ENVIRONMENT, "vmtest could not prepare its VM", e.getMessage(), null, e);
        } finally {
            FileOps.deleteTree(work);
        }
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

    private Loaded inspect(ModuleSpec m, String release) {
        byte[] data;
        try {
            data = Files.readAllBytes(m.ko());
        } catch (IOException e) {
            throw new RkmodException(ExitCode.USAGE, "Cannot read the module " + m.ko(), e.getMessage(),
                    "Pass a .ko file built with 'rkmod build'");
        }
        ModInfo info;
        try {
            info = ModInfo.of(ElfFile.parse(data, ModuleSignature.unsignedLength(data)));
        } catch (FormatException e) {
            throw new RkmodException(ExitCode.USAGE, m.ko() + " is not a kernel module: " + e.what(), e.why(),
                    "Pass a .ko file built with 'rkmod build'");
        }
        String name = info.get("name").orElseThrow(() -> new RkmodException(ExitCode.USAGE, m.ko() + " has no module name",
                "Its .modinfo lacks name=", "Rebuild it with kbuild"));
        String vermagic = info.get("vermagic").orElse("");
        String modRelease = vermagic.split(" ")[0];
        if (!modRelease.equals(release)) {
            throw new RkmodException(ExitCode.CHECK_FAILED, m.ko().getFileName() + " was built for Linux " + modRelease
                    + ", not for this kernel (" + release + ")",
                    "Its vermagic '" + vermagic.strip() + "' does not match, and the kernel would refuse it with 'Invalid"
                            + " module format'; checked before booting",
                    "Build the module against this kernel's tree or package: 'rkmod build --kdir KDIR'");
        }
        return new Loaded(m, name, vermagic);
    }

    static byte[] initramfs(List<Loaded> modules, Path busybox, double hold) throws IOException {
        CpioNewc cpio = new CpioNewc().dir("bin").dir("dev").dir("proc").dir("sys").dir("modules")
                .file("bin/busybox", 0755, Files.readAllBytes(busybox)).symlink("bin/sh", "busybox");
        StringBuilder init = new StringBuilder("#!/bin/busybox sh\n");
        init.append("B=/bin/busybox\n$B mount -t proc proc /proc\n$B mount -t sysfs sysfs /sys\n");
        init.append("$B mount -t devtmpfs devtmpfs /dev 2>/dev/null\n");
        init.append("echo '").append(MARK).append(" booted'\n");
        for (int i = 0; i < modules.size(); i++) {
            Loaded m = modules.get(i);
            String file = "modules/" + (i + 1) + "-" + m.name() + ".ko";
            cpio.file(file, 0644, Files.readAllBytes(m.spec().ko()));
            init.append("echo '").append(MARK).append(" begin insmod ").append(i + 1).append(' ').append(m.name()).append("'\n");
            init.append("$B insmod /").append(file);
            for (String arg : m.spec().args().split("\\s+")) {
                if (!arg.isBlank()) {
                    init.append(" '").append(arg.replace("'", "")).append('\'');
                }
            }
            init.append("\necho \"").append(MARK).append(" end insmod ").append(i + 1).append(' ').append(m.name())
                    .append(" status=$?\"\n");
        }
        if (hold > 0) {
            init.append("$B sleep ").append(String.format(java.util.Locale.ROOT, "%.2f", hold)).append('\n');
        }
        for (int i = modules.size() - 1; i >= 0; i--) {
            Loaded m = modules.get(i);
            init.append("echo '").append(MARK).append(" begin rmmod ").append(i + 1).append(' ').append(m.name()).append("'\n");
            init.append("$B rmmod ").append(m.name()).append('\n');
            init.append("echo \"").append(MARK).append(" end rmmod ").append(i + 1).append(' ').append(m.name())
                    .append(" status=$?\"\n");
        }
        init.append("echo '").append(MARK).append(" done'\n$B reboot -f\n");
        cpio.file("init", 0755, init.toString().getBytes(StandardCharsets.UTF_8));
        return cpio.toBytes();
    }

    /** Chooses TCG or KVM. auto uses KVM only when a quick boot with it really reaches /init. */
    private String accel(Kvm mode, Path qemu, Path bz, Path busybox, Path work) throws IOException {
        if (mode == Kvm.OFF) {
            return "tcg";
        }
        boolean dev = Files.isReadable(Path.of("/dev/kvm")) && Files.isWritable(Path.of("/dev/kvm"));
        if (mode == Kvm.ON) {
            if (!dev) {
                throw new RkmodException(ExitCode.ENVIRONMENT, "--kvm on, but /dev/kvm is not usable", null,
                        "Use --kvm auto or off");
            }
            return "kvm";
        }
        if (!dev) {
            ctx.events().info("KVM: /dev/kvm is not usable; using TCG");
            return "tcg";
        }
        String bootId = Files.readString(Path.of("/proc/sys/kernel/random/boot_id")).strip();
        Path memo = ctx.cache().root().resolve("kvm-probe-" + bootId);
        if (Files.isRegularFile(memo)) {
            String v = Files.readString(memo).strip();
            if (v.equals("tcg")) {
                ctx.events().info("KVM: an earlier probe on this boot hung; using TCG");
            }
            return v;
        }
        Path probe = work.resolve("probe.cpio");
        CpioNewc cpio = new CpioNewc().dir("bin").file("bin/busybox", 0755, Files.readAllBytes(busybox))
                .file("init", 0755, ("#!/bin/busybox sh\necho '" + MARK + " kvm-ok'\n/bin/busybox reboot -f\n")
                        .getBytes(StandardCharsets.UTF_8));
        Files.write(probe, cpio.toBytes());
        ProcessResult r;
        try (Stage stage = Stage.start(ctx.events(), "kvm probe", "/dev/kvm exists; checking that QEMU really boots with it")) {
            r = ctx.runner().run(ProcessSpec.of(qemu.toString(), "-m", "128", "-nographic", "-no-reboot", "-nodefaults",
                    "-serial", "stdio", "-enable-kvm", "-cpu", "host", "-kernel", bz.toString(), "-initrd", probe.toString(),
                    "-append", "console=ttyS0 panic=-1").label("qemu-kvm-probe").timeout(Duration.ofSeconds(8))
                    .capture().quiet().noLog().allowFailure());
            stage.ok();
        }
        boolean ok = r.output().stream().anyMatch(l -> l.contains(MARK + " kvm-ok"));
        String v = ok ? "kvm" : "tcg";
        FileOps.writeAtomically(memo, v.getBytes(StandardCharsets.UTF_8));
        if (!ok) {
            ctx.events().info("KVM: /dev/kvm exists but QEMU " + (r.timedOut() ? "hung" : "failed") + " with -enable-kvm;"
                    + " using TCG");
        }
        return v;
    }

    static Verdict verdict(ProcessResult r, List<Loaded> loaded, List<String> expect, String accel, String release,
                           Duration took) {
        return verdict(r, loaded, expect, List.of(), accel, release, took);
    }

    /**
     * The verdict from the console. {@code noise} are a distro kernel's known boot messages that look like
     * failures; they are ignored only before the first insmod, so a module can never hide behind them.
     */
    static Verdict verdict(ProcessResult r, List<Loaded> loaded, List<String> expect, List<Pattern> noise, String accel,
                           String release, Duration took) {
        List<String> lines = new ArrayList<>();
        for (String raw : r.output()) {
            lines.add(raw.replace("\r", ""));
        }
        List<String> reasons = new ArrayList<>();
        List<Step> steps = new ArrayList<>();
        String open = null;
        boolean booted = false;
        boolean done = false;
        for (String l : lines) {
            if (l.contains(MARK + " booted")) {
                booted = true;
            }
            if (l.contains(MARK + " done")) {
                done = true;
            }
            Matcher m = STEP.matcher(l);
            if (m.find()) {
                if (m.group(1).equals("begin")) {
                    open = m.group(2) + " " + m.group(4);
                } else {
                    open = null;
                    steps.add(new Step(m.group(2), Integer.parseInt(m.group(3)), m.group(4),
                            m.group(5) == null ? null : Integer.valueOf(m.group(5))));
                }
            }
        }
        if (r.timedOut()) {
            reasons.add("timed out " + (open != null ? "in " + open + " (it did not return)"
                    : booted ? "after /init started" : "before /init started (the kernel did not boot)")
                    + "; QEMU was stopped");
        } else if (!booted) {
            reasons.add("the kernel did not reach /init");
        } else if (!done) {
            reasons.add("/init did not finish" + (open != null ? " (last step: " + open + ")" : ""));
        }
        for (Step s : steps) {
            if (s.status() == null) {
                reasons.add(s.action() + " " + s.module() + ": status unknown (its marker line was garbled)");
            } else if (s.status() != 0) {
                reasons.add(s.action() + " " + s.module() + " exited with status " + s.status());
            }
        }
        List<String> stripped = lines.stream().map(l -> PRINTK.matcher(l).replaceFirst("")).toList();
        boolean loading = false;
        for (String l : stripped) {
            if (l.contains(MARK + " begin insmod")) {
                loading = true;
            }
            if (!loading && noise.stream().anyMatch(p -> p.matcher(l).find())) {
                continue;
            }
            for (Pattern bad : FAILURES) {
                if (bad.matcher(l).find() && !l.contains(MARK)) {
                    reasons.add("kernel log: " + l.strip());
                    break;
                }
            }
        }
        int from = 0;
        for (String e : expect) {
            Pattern p = Pattern.compile(e);
            int found = -1;
            for (int i = from; i < stripped.size(); i++) {
                if (p.matcher(stripped.get(i)).find()) {
                    found = i;
                    break;
                }
            }
            if (found < 0) {
                reasons.add("expected line not found (in order): " + e);
            } else {
                from = found + 1;
            }
        }
        List<String> moduleLines = new ArrayList<>();
        for (String l : stripped) {
            for (Loaded m : loaded) {
                if (l.startsWith(m.name() + ": ")) {
                    moduleLines.add(l);
                    break;
                }
            }
        }
        List<Ktap.Result> ktap = Ktap.parse(lines);
        for (Ktap.Result k : ktap) {
            if (k.status() == Ktap.Status.FAIL) {
                reasons.add("KUnit test failed: " + k.name());
            }
        }
        return new Verdict(reasons.isEmpty(), reasons, steps, moduleLines, expect, ktap, r.log(), accel, release, took);
    }

    static String junit(Verdict v) {
        List<JunitXml.Case> cases = new ArrayList<>();
        for (Step s : v.steps()) {
            cases.add(new JunitXml.Case("vmtest." + s.module(), s.action(), Integer.valueOf(0).equals(s.status()) ? null
                    : s.action() + " exited with status " + s.status(), false));
        }
        for (String e : v.expected()) {
            boolean missing = v.reasons().stream().anyMatch(r -> r.endsWith(e) && r.startsWith("expected line"));
            cases.add(new JunitXml.Case("vmtest.expect", e, missing ? "not found in the kernel log" : null, false));
        }
        List<String> other = v.reasons().stream().filter(r -> !r.startsWith("expected line")
                && !r.contains("exited with status")).toList();
        cases.add(new JunitXml.Case("vmtest.kernel", "no kernel errors", other.isEmpty() ? null : String.join("; ", other), false));
        for (Ktap.Result k : v.ktap()) {
            cases.add(new JunitXml.Case("kunit", k.name(), k.status() == Ktap.Status.FAIL ? "not ok" : null,
                    k.status() == Ktap.Status.SKIP));
        }
        return JunitXml.write("rkmod.vmtest", v.took().toMillis() / 1000.0, cases);
    }
}
