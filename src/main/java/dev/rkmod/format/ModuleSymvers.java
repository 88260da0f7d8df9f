package dev.rkmod.format;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/** {@code Module.symvers}: crc, symbol, module, export type, namespace; tab separated. */
public final class ModuleSymvers {
    /** One exported symbol. */
    public record Export(String crc, String symbol, String module, String type, String namespace) {
        /** EXPORT_SYMBOL_GPL and the Rust exports (EXPORT_SYMBOL_RUST_GPL) are GPL-only. */
        public boolean gplOnly() {
            return type.contains("GPL");
        }
    }

    private final Map<String, Export> exports;

    private ModuleSymvers(Map<String, Export> exports) {
        this.exports = exports;
    }

    public static ModuleSymvers read(Path file) throws IOException {
        return parse(new String(Files.readAllBytes(file), StandardCharsets.UTF_8));
    }

    public static ModuleSymvers parse(String text) {
        Map<String, Export> out = new HashMap<>();
        for (String line : text.split("\n")) {
            String[] f = line.split("\t", -1);
            if (f.length < 4) {
                continue;
            }
            out.put(f[1], new Export(f[0], f[1], f[2], f[3], f.length > 4 ? f[4] : ""));
        }
        return new ModuleSymvers(out);
    }

    public Optional<Export> get(String symbol) {
        return Optional.ofNullable(exports.get(symbol));
    }

    /** Every exported symbol, sorted. */
    public java.util.SortedSet<String> symbols() {
        return java.util.Collections.unmodifiableSortedSet(new java.util.TreeSet<>(exports.keySet()));
    }

    public int size() {
        return exports.size();
    }
}
