package dev.rkmod.format;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** The {@code .modinfo} section of a kernel module: NUL-separated {@code key=value} strings, in order. */
public record ModInfo(List<Map.Entry<String, String>> fields) {

    public static ModInfo read(Path ko) throws IOException {
        byte[] data = Files.readAllBytes(ko);
        return of(ElfFile.parse(data, ModuleSignature.unsignedLength(data)));
    }

    public static ModInfo of(ElfFile elf) {
        List<Map.Entry<String, String>> out = new ArrayList<>();
        Optional<ElfFile.Section> s = elf.section(".modinfo");
        if (s.isEmpty()) {
            return new ModInfo(out);
        }
        String all = new String(elf.contents(s.get()), StandardCharsets.UTF_8);
        for (String kv : all.split("\0")) {
            int eq = kv.indexOf('=');
            if (eq > 0) {
                out.add(Map.entry(kv.substring(0, eq), kv.substring(eq + 1)));
            }
        }
        return new ModInfo(out);
    }

    public Optional<String> get(String key) {
        return fields.stream().filter(e -> e.getKey().equals(key)).map(Map.Entry::getValue).findFirst();
    }

    public List<String> all(String key) {
        return fields.stream().filter(e -> e.getKey().equals(key)).map(Map.Entry::getValue).toList();
    }
}
