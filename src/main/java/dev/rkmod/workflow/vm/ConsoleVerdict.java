package dev.rkmod.workflow.vm;

import dev.rkmod.format.Ktap;
import dev.rkmod.infra.process.ProcessResult;
import dev.rkmod.model.FailureCatalogue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The verdict from the test VM's console: {@link InitScript}'s markers, the kernel log and KTAP results.
 * Pass only when /init ran to its end, every insmod and rmmod exited 0, every expected line appeared in
 * order, no kernel log line matches a load entry of the failure catalogue and no KUnit test failed.
 */
final class ConsoleVerdict {
    private static final String MARK = InitScript.MARK;
    private static final Pattern STEP = Pattern.compile(Pattern.quote(MARK) + " (begin|end) (insmod|rmmod|run) (\\d+) (\\S+)(?: status=(\\d+))?");
    /** A line a program printed: {@code RKMOD-VMTEST: run N| text}. */
    private static final Pattern RUN_LINE = Pattern.compile("^" + Pattern.quote(InitScript.RUN_LINE) + "(\\d+)\\| ?(.*)$");
    /** What dev_info! and dev_err! put between a driver's name and the message: the device, e.g. "0000:00:02.0: ". */
    private static final Pattern DEVICE_PREFIX = Pattern.compile("[^\\s:]+(?::[^\\s:]+)*: ");
    private static final Pattern PRINTK = Pattern.compile("^\\[\\s*\\d+\\.\\d+\\] ");

    /** A pattern of a failure catalogue entry. */
    record Failure(FailureCatalogue.Entry entry, Pattern pattern) { }

    /**
     * Kernel messages that fail a run: the patterns of the failure catalogue's load entries (crashes, unknown
     * symbols, vermagic and modversions mismatches), in catalogue order. The taint messages of unsigned
     * out-of-tree modules do not.
     */
    static final List<Failure> FAILURES = FailureCatalogue.get().entries().stream().filter(FailureCatalogue.Entry::isLoad)
            .flatMap(e -> e.patterns().stream().map(p -> new Failure(e, Pattern.compile(p)))).toList();

    private ConsoleVerdict() {
    }

    /**
     * The verdict on {@code r}'s console. {@code modules} are the loaded modules' names (their log lines are
     * collected); {@code noise} are a distro kernel's known boot messages that look like failures; they are
     * ignored only before the first insmod, so a module can never hide behind them.
     */
    static VmTestWorkflow.Verdict judge(ProcessResult r, List<String> modules, List<String> expect, List<Pattern> noise,
                                        Accel accel, String release, Duration took) {
        return judge(r, modules, List.of(), expect, noise, accel, release, took);
    }

    /**
     * The same, for a run with {@code programs} (the names the user gave them, in order): their steps are named so,
     * and each line one printed is shown with the modules' kernel log as {@code [NAME] text} and searched by
     * {@code expect}, but never read as a marker or a kernel failure.
     */
    static VmTestWorkflow.Verdict judge(ProcessResult r, List<String> modules, List<String> programs, List<String> expect,
                                        List<Pattern> noise, Accel accel, String release, Duration took) {
        List<String> lines = r.output().stream().map(l -> l.replace("\r", "")).toList();
        List<Reason> reasons = new ArrayList<>();
        List<VmTestWorkflow.Step> steps = new ArrayList<>();
        VmTestWorkflow.Step open = null;
        boolean booted = false;
        boolean done = false;
        for (String l : lines) {
            if (RUN_LINE.matcher(l).find()) {
                continue; // a program's output: whatever it says, not /init's
            }
            booted |= l.contains(MARK + " booted");
            done |= l.contains(MARK + " done");
            Matcher m = STEP.matcher(l);
            if (m.find()) {
                int index = Integer.parseInt(m.group(3));
                String name = m.group(2).equals("run") && index >= 1 && index <= programs.size() ? programs.get(index - 1)
                        : m.group(4);
                VmTestWorkflow.Step s = new VmTestWorkflow.Step(m.group(2), index, name,
                        m.group(5) == null ? null : Integer.valueOf(m.group(5)));
                if (m.group(1).equals("begin")) {
                    open = s;
                } else {
                    open = null;
                    steps.add(s);
                }
            }
        }
        if (r.timedOut()) {
            reasons.add(new Reason.Timeout(open, booted));
        } else if (!booted) {
            reasons.add(new Reason.NotBooted());
        } else if (!done) {
            reasons.add(new Reason.Unfinished(open));
        }
        for (VmTestWorkflow.Step s : steps) {
            if (s.status() == null || s.status() != 0) {
                reasons.add(new Reason.StepFailed(s));
            }
        }
        List<String> stripped = lines.stream().map(l -> PRINTK.matcher(l).replaceFirst("")).toList();
        reasons.addAll(kernelLog(stripped, noise));
        // what --expect searches and what is shown: kernel log lines, and the programs' lines as they printed them
        List<String> searched = new ArrayList<>(stripped.size());
        List<String> moduleLines = new ArrayList<>();
        for (String l : stripped) {
            Matcher run = RUN_LINE.matcher(l);
            if (run.find()) {
                int index = Integer.parseInt(run.group(1));
                String name = index >= 1 && index <= programs.size() ? programs.get(index - 1) : "run " + index;
                searched.add(run.group(2));
                moduleLines.add("[" + name + "] " + run.group(2));
            } else {
                searched.add(l);
                if (modules.stream().anyMatch(n -> l.startsWith(n + ": ") || l.startsWith(n + " ")
                        && DEVICE_PREFIX.matcher(l).region(n.length() + 1, l.length()).lookingAt())) {
                    moduleLines.add(l);
                }
            }
        }
        reasons.addAll(missing(searched, expect));
        List<Ktap.Result> ktap = Ktap.parse(lines);
        ktap.stream().filter(k -> k.status() == Ktap.Status.FAIL).forEach(k -> reasons.add(new Reason.KunitFailed(k.name())));
        return new VmTestWorkflow.Verdict(reasons.isEmpty(), reasons, steps, List.copyOf(moduleLines), expect, ktap, r.log(),
                accel, release, took);
    }

    /** A device QEMU refused, and what it said: a line {@code qemu-system-x86_64: -device ARG: MESSAGE} naming one of {@code devices}. */
    record RefusedDevice(String device, String message) { }

    /** The device QEMU refused before booting, if its output names one of {@code devices}. */
    static Optional<RefusedDevice> refusedDevice(List<String> output, List<String> devices) {
        for (String l : output) {
            for (String d : devices) {
                String at = ": -device " + d + ": ";
                int i = l.indexOf(at);
                if (i >= 0 && l.startsWith("qemu")) {
                    return Optional.of(new RefusedDevice(d, l.substring(i + at.length()).strip()));
                }
            }
        }
        return Optional.empty();
    }

    /** Lines that match a failure pattern, each once, by the first entry it matches; noise only counts after the first insmod. */
    static List<Reason> kernelLog(List<String> stripped, List<Pattern> noise) {
        List<Reason> out = new ArrayList<>();
        boolean loading = false;
        for (String l : stripped) {
            loading |= l.contains(MARK + " begin insmod");
            if (l.contains(MARK) || !loading && noise.stream().anyMatch(p -> p.matcher(l).find())) {
                continue;
            }
            FAILURES.stream().filter(f -> f.pattern().matcher(l).find()).findFirst()
                    .ifPresent(f -> out.add(new Reason.KernelLog(f.entry(), l.strip())));
        }
        return out;
    }

    /** The expected lines that do not appear, each searched for after the previous one found. */
    static List<Reason> missing(List<String> stripped, List<String> expect) {
        List<Reason> out = new ArrayList<>();
        int from = 0;
        for (String e : expect) {
            Pattern p = Pattern.compile(e);
            int found = -1;
            for (int i = from; i < stripped.size() && found < 0; i++) {
                if (p.matcher(stripped.get(i)).find()) {
                    found = i;
                }
            }
            if (found < 0) {
                out.add(new Reason.ExpectMissing(e));
            } else {
                from = found + 1;
            }
        }
        return out;
    }
}
