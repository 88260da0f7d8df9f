package dev.rkmod.format;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SortedSet;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * kbuild's {@code rust/exports_*_generated.h}: one {@code EXPORT_SYMBOL_RUST_GPL(sym);} line per symbol a
 * Rust crate exports to modules. The mangled {@code _R…} names carry each crate's hash, so comparing them
 * with a kernel's {@code Module.symvers} proves that regenerated crates are the ones the kernel links to.
 */
public final class RustExports {
    private static final Pattern EXPORT = Pattern.compile("EXPORT_SYMBOL_RUST_GPL\\(\\s*([A-Za-z0-9_$.]+)\\s*\\)");

    private RustExports() {
    }

    /** The v0-mangled ({@code _R}) symbols of one exports header's text. */
    public static SortedSet<String> parse(String text) {
        SortedSet<String> out = new TreeSet<>();
        Matcher m = EXPORT.matcher(text);
        while (m.find()) {
            if (m.group(1).startsWith("_R")) {
                out.add(m.group(1));
            }
        }
        return out;
    }

    /** The {@code _R} symbols of every {@code rust/exports_*_generated.h} under {@code kdir}. */
    public static SortedSet<String> read(Path kdir) throws IOException {
        SortedSet<String> out = new TreeSet<>();
        Path rust = kdir.resolve("rust");
        if (!Files.isDirectory(rust)) {
            return out;
        }
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(rust, "exports_*_generated.h")) {
            for (Path p : ds) {
                out.addAll(parse(Files.readString(p, StandardCharsets.ISO_8859_1)));
            }
        }
        return out;
    }

    /** The {@code _R} symbols a Module.symvers lists. */
    public static SortedSet<String> ofSymvers(ModuleSymvers symvers) {
        SortedSet<String> out = new TreeSet<>();
        for (String s : symvers.symbols()) {
            if (s.startsWith("_R")) {
                out.add(s);
            }
        }
        return out;
    }
}
