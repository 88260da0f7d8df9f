package dev.rkmod.workflow.vm;

import dev.rkmod.format.ElfFile;
import dev.rkmod.format.FormatException;
import dev.rkmod.model.ExitCode;
import dev.rkmod.model.RkmodException;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collection;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * A program vmtest runs in the test VM after loading the modules ({@code --run FILE}, rkmod.toml's {@code run}): a
 * script whose {@code #!} interpreter the VM has (busybox: {@code /bin/sh} and its applets) or a static x86-64 ELF
 * executable. {@link #check} refuses, before anything boots, what the VM could not run.
 *
 * @param file  the file on this machine
 * @param shown the name the user gave it (as typed, or as rkmod.toml writes it), for markers and the verdict
 * @param kind  what it is, e.g. "a script for /bin/sh" or "a static x86-64 executable"
 * @param bytes its contents, copied into the initramfs
 */
public record RunProgram(Path file, String shown, String kind, byte[] bytes) {
    /** The largest program the initramfs takes: it lives in the VM's memory (256 MiB for a tiny kernel). */
    static final long MAX_BYTES = 64L << 20;
    /** How much of a script's first line the kernel reads for {@code #!} (BINPRM_BUF_SIZE). */
    private static final int SHEBANG_MAX = 256;
    private static final String STATIC_FIX = "gcc -static -o PROG PROG.c";

    /**
     * Checks {@code file} can run in the VM, whose userland is busybox with {@code applets} (paths without the leading
     * slash, as {@code busybox --list-full} prints them; asked for only when the file is a script) and whose kernel is x86-64; {@code from} says where the user
     * gave it ("--run", "rkmod.toml's run"). Every refusal is a usage error, one paragraph.
     */
    static RunProgram check(Path file, String shown, String from, Supplier<? extends Collection<String>> applets) {
        String what = from + " " + shown;
        if (!Files.exists(file)) {
            throw refuse(what + ": " + file + " does not exist", "vmtest copies the file into the test VM and runs it once"
                    + " the modules are loaded", from.startsWith("rkmod.toml")
                    ? "Fix the path in rkmod.toml (relative paths are relative to the module's directory)"
                    : "Pass the path of a script or a static executable");
        }
        if (Files.isDirectory(file)) {
            throw refuse(what + " is a directory", "vmtest runs one file per " + from, "Pass the script or executable in it");
        }
        byte[] bytes;
        try {
            long size = Files.size(file);
            if (size > MAX_BYTES) {
                throw refuse(what + " is " + (size >> 20) + " MiB", "The test VM keeps its initramfs in memory and takes"
                        + " programs of at most " + (MAX_BYTES >> 20) + " MiB", "Pass a smaller program (strip it: strip PROG)");
            }
            bytes = Files.readAllBytes(file);
        } catch (AccessDeniedException e) {
            throw refuse("Cannot read " + what + ": permission denied", "vmtest copies the file into the test VM",
                    "Make it readable: chmod a+r " + file);
        } catch (IOException e) {
            throw refuse("Cannot read " + what, e.getMessage(), "Pass a readable regular file");
        }
        if (bytes.length >= 4 && bytes[0] == 0x7F && bytes[1] == 'E' && bytes[2] == 'L' && bytes[3] == 'F') {
            return new RunProgram(file, shown, elf(what, bytes), bytes);
        }
        if (bytes.length >= 2 && bytes[0] == '#' && bytes[1] == '!') {
            return new RunProgram(file, shown, script(what, file, bytes, applets.get()), bytes);
        }
        throw refuse(what + " is neither a script starting with #! nor an ELF executable",
                "The test VM's kernel runs only those (binfmt_script and binfmt_elf)",
                "Start a shell script with the line #!/bin/sh, or pass a static x86-64 executable (" + STATIC_FIX + ")");
    }

    /** An ELF file the VM can execute: x86-64, an executable, linked statically. */
    private static String elf(String what, byte[] bytes) {
        ElfFile elf;
        Optional<String> interp;
        try {
            elf = ElfFile.parse(bytes);
            interp = elf.interpreter();
        } catch (FormatException e) {
            throw refuse(what + " is a damaged ELF file: " + e.what(), e.why(), "Rebuild it (" + STATIC_FIX + ")");
        }
        if (elf.machine() != ElfFile.EM_X86_64 || !elf.is64()) {
            String arch = elf.machine() == ElfFile.EM_X86_64 ? "x32 (32-bit x86-64)" : ElfFile.machineName(elf.machine());
            throw refuse(what + " is an ELF executable for " + arch + ", not for x86-64",
                    "The test VM runs the kernel's architecture, x86-64, and its kernel cannot execute other machines' code",
                    "Compile it for x86-64: " + STATIC_FIX);
        }
        if (elf.type() != ElfFile.ET_EXEC && elf.type() != ElfFile.ET_DYN) {
            throw refuse(what + " is not an executable but an ELF " + (elf.type() == ElfFile.ET_REL
                    ? "relocatable object (a .o or a kernel module)" : "file of type " + elf.type()),
                    "The test VM runs programs; a module to load is passed as MODULE.ko", "Link a program: " + STATIC_FIX);
        }
        if (interp.isPresent()) {
            throw refuse(what + " is dynamically linked: it needs the loader " + interp.get() + " and shared libraries",
                    "The test VM has no shared libraries, only busybox-static, so the kernel cannot start it there",
                    "It must be static: link it with gcc -static (" + STATIC_FIX + "); 'file PROG' then says 'statically linked'");
        }
        return elf.type() == ElfFile.ET_DYN ? "a static-pie x86-64 executable" : "a static x86-64 executable";
    }

    /** A script whose #! names an interpreter the VM has: busybox itself or one of its applets (through env too). */
    private static String script(String what, Path file, byte[] bytes, Collection<String> applets) {
        int end = 2;
        while (end < bytes.length && end < SHEBANG_MAX && bytes[end] != '\n') {
            end++;
        }
        String line = new String(bytes, 2, end - 2, StandardCharsets.UTF_8);
        if (line.endsWith("\r")) {
            throw refuse(what + " has Windows line endings (CR LF)", "The kernel would look for the interpreter '"
                    + line.strip() + "\\r', which does not exist", "Convert it: dos2unix " + file);
        }
        String[] words = line.strip().split("[ \t]+");
        String interpreter = words[0];
        if (interpreter.isEmpty()) {
            throw refuse(what + " has an empty #! line", "The kernel takes the interpreter from it", "Write #!/bin/sh");
        }
        String vm = "The test VM's userland is busybox-static: /bin/busybox, /bin/sh (ash) and busybox's " + applets.size()
                + " applets (cat, grep, ...); nothing else is installed";
        String fix = "Write it for #!/bin/sh (POSIX shell and busybox's applets), or compile a static executable ("
                + STATIC_FIX + ")";
        if (!present(interpreter, applets)) {
            throw refuse(what + " needs the interpreter " + interpreter + ", which the test VM does not have", vm, fix);
        }
        if (interpreter.endsWith("/env") && words.length > 1 && !words[1].startsWith("-")
                && applets.stream().noneMatch(a -> a.endsWith("/" + words[1]))) {
            throw refuse(what + " needs " + words[1] + " (through " + interpreter + "), which the test VM does not have", vm, fix);
        }
        return "a script for " + interpreter;
    }

    private static boolean present(String interpreter, Collection<String> applets) {
        if (!interpreter.startsWith("/")) {
            return false;
        }
        String p = Path.of(interpreter).normalize().toString().substring(1);
        return p.equals("bin/busybox") || applets.contains(p);
    }

    private static RkmodException refuse(String what, String why, String fix) {
        return new RkmodException(ExitCode.USAGE, what + " (checked before booting)", why, fix);
    }
}
