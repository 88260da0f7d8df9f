package dev.rkmod.workflow.info;

import dev.rkmod.format.Bytes;
import dev.rkmod.format.CmsSignerInfo;
import dev.rkmod.format.CompressedModule;
import dev.rkmod.format.ElfFile;
import dev.rkmod.format.FormatException;
import dev.rkmod.format.KernelConfig;
import dev.rkmod.format.ModInfo;
import dev.rkmod.format.ModuleSignature;
import dev.rkmod.format.ModuleSymvers;
import dev.rkmod.model.ExitCode;
import dev.rkmod.model.RkmodException;
import dev.rkmod.workflow.tree.KernelTree;
import org.bouncycastle.asn1.x500.RDN;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x500.style.IETFUtils;
import org.bouncycastle.cms.CMSException;
import org.bouncycastle.cms.CMSSignedData;
import org.bouncycastle.cms.SignerInformation;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Consumer;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/** `rkmod info`: what a module is, in modinfo's order and style, plus what modinfo does not read. */
public final class InfoWorkflow {
    private static final Set<String> GPL_COMPATIBLE = Set.of("GPL", "GPL v2", "GPL and additional rights",
            "Dual BSD/GPL", "Dual MIT/GPL", "Dual MPL/GPL");

    /** A symbol version: CRC and name. */
    public record Version(long crc, String name) { }

    /** modinfo's signature fields. */
    public record SigInfo(String id, String signer, String keyId, String hashAlgo, byte[] signature) { }

    public record Report(Path file, CompressedModule.Kind compression, List<Map.Entry<String, String>> fields,
                         List<Version> versions, List<Version> extVersions, Optional<String> buildId,
                         Optional<SigInfo> signature, List<String> problems, List<String> checks) {

        /** Values of one field as modinfo -F prints them. */
        public List<String> field(String name) {
            if (name.equals("filename")) {
                return List.of(file.toAbsolutePath().toString());
            }
            if (signature.isPresent()) {
                SigInfo s = signature.get();
                switch (name) {
                    case "sig_id" -> {
                        return List.of(s.id());
                    }
                    case "signer" -> {
                        return List.of(s.signer());
                    }
                    case "sig_key" -> {
                        return List.of(s.keyId());
                    }
                    case "sig_hashalgo" -> {
                        return List.of(s.hashAlgo());
                    }
                    case "signature" -> {
                        return List.of(hex(s.signature()));
                    }
                    default -> { }
                }
            }
            return fields.stream().filter(e -> e.getKey().equals(name)).map(Map.Entry::getValue).toList();
        }
    }

    /** Every module's report; the first module that cannot be read ends the call with its error. */
    public List<Report> info(List<Path> modules, Optional<Path> kdir) {
        return infoEach(modules, kdir).stream().map(o -> {
            if (o.error().isPresent()) {
                throw o.error().get();
            }
            return o.report().orElseThrow();
        }).toList();
    }

    /**
     * One outcome per module, in the order given: its report, or why it cannot be read. A bad module never hides
     * the others (modinfo's batch behaviour); a bad --kdir still fails the whole call.
     */
    public List<Outcome> infoEach(List<Path> modules, Optional<Path> kdir) {
        List<Object> results = modules.parallelStream().map(m -> {
            try {
                return (Object) load(m);
            } catch (RkmodException e) {
                return e;
            }
        }).toList();
        List<Loaded> loaded = results.stream().filter(Loaded.class::isInstance).map(Loaded.class::cast).toList();
        Optional<Tree> tree = kdir.map(InfoWorkflow::tree);
        List<Outcome> out = new ArrayList<>();
        for (int i = 0; i < modules.size(); i++) {
            if (results.get(i) instanceof RkmodException e) {
                out.add(new Outcome(modules.get(i), Optional.empty(), Optional.of(e)));
                continue;
            }
            Loaded l = (Loaded) results.get(i);
            List<String> problems = new ArrayList<>();
            List<String> checks = new ArrayList<>();
            Report report;
            try { // the sections read here (symbols, __versions, the build-id note) can lie outside a damaged file
                if (tree.isPresent()) {
                    check(l, loaded, tree.get(), problems, checks);
                }
                report = new Report(l.file, l.kind, l.info.fields(), versions(l.elf), extVersions(l.elf), l.elf.buildId(),
                        l.sig, problems, checks);
            } catch (FormatException e) {
                out.add(new Outcome(l.file, Optional.empty(),
                        Optional.of(new RkmodException(ExitCode.USAGE, l.file + ": " + e.what(), e.why(), e.fix()))));
                continue;
            }
            out.add(new Outcome(l.file, Optional.of(report), Optional.empty()));
        }
        return out;
    }

    /** What a caller prints of each module, so that nothing else is read: everything, .modinfo, or .modinfo and the signature. */
    public enum Need { ALL, MODINFO, SIGNATURE }

    /** What {@code modinfo -F field} needs read. */
    public static Need needFor(String field) {
        return switch (field) {
            case "sig_id", "signer", "sig_key", "sig_hashalgo", "signature" -> Need.SIGNATURE;
            default -> Need.MODINFO;
        };
    }

    /**
     * Without a tree to check against: reads the modules one at a time, in the order given, and hands each outcome
     * to {@code sink} before reading the next, so memory holds one module and output starts at once. A bad module
     * never hides the others.
     */
    public void each(List<Path> modules, Need need, Consumer<Outcome> sink) {
        // two threads pay when there is rendering to overlap with reading (the full text of a batch); -F's one line
        // per module does not (measured on 1,400 modules; -Drkmod.info.threads=N overrides, for measuring)
        int threads = Integer.getInteger("rkmod.info.threads", need == Need.ALL && modules.size() >= 64
                ? Math.min(2, Runtime.getRuntime().availableProcessors()) : 1);
        if (threads <= 1) {
            for (Path m : modules) {
                sink.accept(outcome(m, need));
            }
            return;
        }
        // reading runs ahead on workers while the caller renders, in order, at most WINDOW modules ahead
        ExecutorService pool = Executors.newFixedThreadPool(threads - 1, r -> {
            Thread t = new Thread(r, "rkmod-info");
            t.setDaemon(true);
            return t;
        });
        try {
            ArrayDeque<Future<Outcome>> ahead = new ArrayDeque<>();
            int next = 0;
            for (int done = 0; done < modules.size(); done++) {
                while (next < modules.size() && ahead.size() < WINDOW) {
                    Path m = modules.get(next++);
                    ahead.add(pool.submit(() -> outcome(m, need)));
                }
                sink.accept(get(ahead.poll()));
            }
        } finally {
            pool.shutdownNow();
        }
    }

    private static final int WINDOW = 32;

    private static Outcome get(Future<Outcome> f) {
        try {
            return f.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while reading modules", e);
        } catch (ExecutionException e) {
            throw e.getCause() instanceof RuntimeException r ? r : new IllegalStateException(e.getCause());
        }
    }

    private static Outcome outcome(Path m, Need need) {
        try {
            return new Outcome(m, Optional.of(report(m, need)), Optional.empty());
        } catch (RkmodException e) {
            return new Outcome(m, Optional.empty(), Optional.of(e));
        }
    }

    private static Report report(Path m, Need need) {
        // read at offsets, not mapped: opening and mapping a file costs the JVM twice what two reads do
        try (RandomAccessFile f = new RandomAccessFile(m.toFile(), "r")) {
            ElfFile.Source data = ElfFile.Source.of(f);
            if (data.length() > Integer.MAX_VALUE) {
                throw new RkmodException(ExitCode.USAGE, m + " is too large to be a kernel module", data.length() + " bytes",
                        "Pass a .ko file");
            }
            byte[] head = new byte[(int) Math.min(6, data.length())];
            data.read(0, head);
            CompressedModule.Kind kind = CompressedModule.detect(head);
            if (kind != CompressedModule.Kind.NONE) {
                byte[] raw = new byte[(int) data.length()];
                data.read(0, raw);
                data = ElfFile.Source.of(ByteBuffer.wrap(CompressedModule.decompress(raw)));
            }
            Optional<ModuleSignature> sig = ModuleSignature.read(data);
            ElfFile elf = ElfFile.parse(data, sig.map(ModuleSignature::moduleLength).orElse((int) data.length()));
            ModInfo info = ModInfo.of(elf);
            boolean all = need == Need.ALL;
            return new Report(m, kind, info.fields(), all ? versions(elf) : List.of(), all ? extVersions(elf) : List.of(),
                    all ? elf.buildId() : Optional.empty(), need == Need.MODINFO ? Optional.empty() : sig.map(InfoWorkflow::sigInfo),
                    List.of(), List.of());
        } catch (IOException e) {
            throw new RkmodException(ExitCode.USAGE, "Cannot read " + m, e.getMessage(), "Check the path");
        } catch (UncheckedIOException e) {
            throw new RkmodException(ExitCode.USAGE, "Cannot read " + m, e.getCause().getMessage(), "Check the path");
        } catch (FormatException e) {
            throw new RkmodException(ExitCode.USAGE, m + ": " + e.what(), e.why(), e.fix());
        }
    }

    /** What became of one module: a report, or the error that kept it from being read. */
    public record Outcome(Path file, Optional<Report> report, Optional<RkmodException> error) { }

    private record Loaded(Path file, CompressedModule.Kind kind, ElfFile elf, ModInfo info, Optional<SigInfo> sig) { }

    private static Loaded load(Path m) {
        try {
            byte[] raw = Files.readAllBytes(m);
            CompressedModule.Kind kind = CompressedModule.detect(raw);
            byte[] data = CompressedModule.decompress(raw);
            Optional<ModuleSignature> sig = ModuleSignature.read(data);
            ElfFile elf = ElfFile.parse(data, sig.map(ModuleSignature::moduleLength).orElse(data.length));
            return new Loaded(m, kind, elf, ModInfo.of(elf), sig.map(InfoWorkflow::sigInfo));
        } catch (IOException e) {
            throw new RkmodException(ExitCode.USAGE, "Cannot read " + m, dev.rkmod.infra.fs.FileOps.reason(e), "Check the path");
        } catch (FormatException e) {
            throw new RkmodException(ExitCode.USAGE, m + ": " + e.what(), e.why(), e.fix());
        }
    }

    private static SigInfo sigInfo(ModuleSignature s) {
        if (s.idType() != ModuleSignature.PKEY_ID_PKCS7) {
            return new SigInfo("id type " + s.idType(), "", "", "", s.cms());
        }
        try {
            // the common case, without loading a general CMS parser
            CmsSignerInfo si = CmsSignerInfo.parse(s.cms());
            if (si.issuerCommonName().isPresent() || !si.issuerPresent()) {
                return new SigInfo("PKCS#7", si.issuerCommonName().orElse(""), hex(si.keyId()), digestName(si.digestOid()),
                        si.signature());
            }
        } catch (FormatException e) {
            // an unusual encoding: the full parser below decides
        }
        return BouncyCastleSigInfo.of(s.cms());
    }

    /** The full CMS parser, in its own class so that BouncyCastle is loaded only when it is needed. */
    private static final class BouncyCastleSigInfo {
        static SigInfo of(byte[] cms) {
            try {
                CMSSignedData sd = new CMSSignedData(cms);
                SignerInformation si = sd.getSignerInfos().getSigners().iterator().next();
                String signer = "";
                if (si.getSID().getIssuer() != null) {
                    RDN[] cn = si.getSID().getIssuer().getRDNs(BCStyle.CN);
                    signer = cn.length > 0 ? IETFUtils.valueToString(cn[0].getFirst().getValue()) : si.getSID().getIssuer().toString();
                }
                String key = si.getSID().getSerialNumber() != null ? hex(si.getSID().getSerialNumber().toByteArray())
                        : hex(si.getSID().getSubjectKeyIdentifier());
                return new SigInfo("PKCS#7", signer, key, digestName(si.getDigestAlgOID()), si.getSignature());
            } catch (CMSException | RuntimeException e) {
                throw new RkmodException(ExitCode.USAGE, "The module's signature cannot be parsed", e.getMessage(),
                        "Sign it again with 'rkmod sign --force'");
            }
        }
    }

    private static String digestName(String oid) {
        return switch (oid) {
            case "1.3.14.3.2.26" -> "sha1";
            case "2.16.840.1.101.3.4.2.4" -> "sha224";
            case "2.16.840.1.101.3.4.2.1" -> "sha256";
            case "2.16.840.1.101.3.4.2.2" -> "sha384";
            case "2.16.840.1.101.3.4.2.3" -> "sha512";
            case "2.16.840.1.101.3.4.2.8" -> "sha3-256";
            case "2.16.840.1.101.3.4.2.9" -> "sha3-384";
            case "2.16.840.1.101.3.4.2.10" -> "sha3-512";
            default -> oid;
        };
    }

    /** Colon-separated upper-case hex, modinfo style; a leading 0x00 of a positive serial is dropped. */
    static String hex(byte[] b) {
        int start = b.length > 1 && b[0] == 0 ? 1 : 0;
        StringBuilder sb = new StringBuilder(Math.max(0, 3 * (b.length - start)));
        for (int i = start; i < b.length; i++) {
            if (i > start) {
                sb.append(':');
            }
            sb.append(HEX[(b[i] >> 4) & 0xF]).append(HEX[b[i] & 0xF]);
        }
        return sb.toString();
    }

    private static final char[] HEX = "0123456789ABCDEF".toCharArray();

    private static List<Version> versions(ElfFile elf) {
        Optional<ElfFile.Section> s = elf.section("__versions");
        if (s.isEmpty()) {
            return List.of();
        }
        byte[] d = elf.contents(s.get());
        int entry = 64;
        int crcSize = elf.is64() ? 8 : 4;
        List<Version> out = new ArrayList<>();
        for (int at = 0; at + entry <= d.length; at += entry) {
            ByteBuffer b = ByteBuffer.wrap(d, at, crcSize).order(elf.order());
            long crc = crcSize == 8 ? b.getLong() : b.getInt() & 0xFFFFFFFFL;
            int nul = Bytes.indexOf(d, (byte) 0, at + crcSize, at + entry);
            int end = nul < 0 ? at + entry : nul;
            out.add(new Version(crc & 0xFFFFFFFFL, new String(d, at + crcSize, end - at - crcSize, StandardCharsets.UTF_8)));
        }
        return out;
    }

    /** 6.18+: __version_ext_crcs (u32[]) and __version_ext_names (NUL-terminated), which kmod does not read. */
    private static List<Version> extVersions(ElfFile elf) {
        Optional<ElfFile.Section> crcs = elf.section("__version_ext_crcs");
        Optional<ElfFile.Section> names = elf.section("__version_ext_names");
        if (crcs.isEmpty() || names.isEmpty()) {
            return List.of();
        }
        byte[] c = elf.contents(crcs.get());
        String[] n = new String(elf.contents(names.get()), StandardCharsets.UTF_8).split("\0");
        List<Version> out = new ArrayList<>();
        ByteBuffer b = ByteBuffer.wrap(c).order(elf.order());
        for (int i = 0; i < n.length && b.remaining() >= 4; i++) {
            out.add(new Version(b.getInt() & 0xFFFFFFFFL, n[i]));
        }
        return out;
    }

    /** The tree modules are checked against: its config and release, and the kernel's exports. */
    private record Tree(KernelTree.Configured kernel, ModuleSymvers symvers) { }

    private static Tree tree(Path kdir) {
        try {
            return new Tree(KernelTree.configured(kdir), ModuleSymvers.read(kdir.resolve("Module.symvers")));
        } catch (IOException e) {
            throw new RkmodException(ExitCode.ENVIRONMENT, kdir + " is not a built kernel tree or package",
                    "Cannot read " + e.getMessage(), "Pass a tree that has .config, include/config/kernel.release and Module.symvers");
        }
    }

    private static void check(Loaded l, List<Loaded> all, Tree tree, List<String> problems, List<String> checks) {
        Path kdir = tree.kernel().dir();
        KernelConfig config = tree.kernel().config();
        String release = tree.kernel().release();
        ModuleSymvers symvers = tree.symvers();
        String expected = release + " " + (config.isEnabled("SMP") ? "SMP " : "")
                + (config.isEnabled("PREEMPT_RT") ? "preempt_rt " : config.isEnabled("PREEMPT_BUILD") || config.isEnabled("PREEMPT") ? "preempt " : "")
                + (config.isEnabled("MODULE_UNLOAD") ? "mod_unload " : "") + (config.isEnabled("MODVERSIONS") ? "modversions " : "");
        Optional<Machine> machine = machine(config);
        if (machine.isPresent() && machine.get().number() != l.elf.machine()) {
            problems.add("it is an ELF object for " + machineName(l.elf.machine()) + ", but the tree's kernel is "
                    + machine.get().name() + ": the kernel would refuse it (Invalid module format)");
        } else if (machine.isPresent()) {
            checks.add("machine " + machine.get().name() + " matches the tree");
        }
        String vermagic = l.info.get("vermagic").orElse("");
        if (vermagic.startsWith(expected)) {
            checks.add("vermagic matches " + kdir + " ('" + expected.strip() + "')");
        } else {
            problems.add("vermagic '" + vermagic.strip() + "' does not match the tree's '" + expected.strip()
                    + "': the kernel would refuse it (Invalid module format)");
        }
        Set<String> fromOthers = new HashSet<>();
        for (Loaded o : all) {
            if (o != l) {
                for (ElfFile.Symbol s : o.elf.symbols()) {
                    if (!s.undefined() && s.bind() == 1) {
                        fromOthers.add(s.name());
                    }
                }
            }
        }
        boolean gpl = GPL_COMPATIBLE.contains(l.info.get("license").orElse(""));
        int count = 0;
        for (ElfFile.Symbol s : l.elf.symbols()) {
            if (!s.undefined() || s.name().isEmpty() || s.bind() == 0) {
                continue;
            }
            count++;
            Optional<ModuleSymvers.Export> e = symvers.get(s.name());
            if (e.isEmpty() && !fromOthers.contains(s.name())) {
                problems.add("undefined symbol " + s.name() + " is exported neither by the kernel (Module.symvers) nor by"
                        + " another listed module: insmod would fail with 'Unknown symbol'");
            } else if (e.isPresent() && e.get().gplOnly() && !gpl) {
                problems.add("GPL-only export " + s.name() + " (" + e.get().type() + ") used by a module licensed '"
                        + l.info.get("license").orElse("none") + "'");
            }
        }
        checks.add(count + " undefined symbols checked against " + symvers.size() + " exports");
    }

    /** An ELF e_machine value and its name. */
    private record Machine(int number, String name) { }

    /** The architectures, by the .config symbol that selects them (the more specific first) and their e_machine. */
    private static final List<Map.Entry<String, Machine>> MACHINES = List.of(
            Map.entry("X86_64", new Machine(62, "x86-64")), Map.entry("X86_32", new Machine(3, "i386")),
            Map.entry("ARM64", new Machine(183, "aarch64")), Map.entry("ARM", new Machine(40, "arm")),
            Map.entry("RISCV", new Machine(243, "riscv")), Map.entry("LOONGARCH", new Machine(258, "loongarch")),
            Map.entry("PPC64", new Machine(21, "ppc64")), Map.entry("PPC32", new Machine(20, "ppc")),
            Map.entry("S390", new Machine(22, "s390")), Map.entry("MIPS", new Machine(8, "mips")));

    private static Optional<Machine> machine(KernelConfig config) {
        return MACHINES.stream().filter(e -> config.isEnabled(e.getKey())).map(Map.Entry::getValue).findFirst();
    }

    private static String machineName(int number) {
        return ElfFile.machineName(number);
    }

    /** Lower-case helper for callers rendering field names. */
    public static String lower(String s) {
        return s.toLowerCase(Locale.ROOT);
    }
}
