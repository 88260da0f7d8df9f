package dev.rkmod.workflow.kernel;

import java.nio.file.Path;

/**
 * Where a kernel config starts: the built-in {@code tiny-rust} profile, the profile's Debian distro
 * config ({@code debian}), or a config file (plain or .xz).
 */
public sealed interface BaseConfig {
    record TinyRust() implements BaseConfig { }

    record Debian() implements BaseConfig { }

    record File(Path path) implements BaseConfig { }

    static BaseConfig parse(String s) {
        return switch (s) {
            case "tiny-rust" -> new TinyRust();
            case "debian" -> new Debian();
            default -> new File(Path.of(s));
        };
    }

    default String describe() {
        if (this instanceof TinyRust) {
            return "tiny-rust";
        }
        if (this instanceof Debian) {
            return "debian";
        }
        return ((File) this).path().toString();
    }
}
