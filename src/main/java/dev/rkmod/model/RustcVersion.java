package dev.rkmod.model;

import java.util.Objects;

/**
 * A rustc version as {@code rustc --version}, rmeta headers and CONFIG_RUSTC_VERSION_TEXT carry it, such as
 * "rustc 1.85.1 (4eb161250 2025-03-15) (built from a source tarball)", or a bare release such as "1.63.0".
 * Equality is the whole text, suffix included, as rustc compares it; ordering is by release number only.
 */
public record RustcVersion(String text) {
    public RustcVersion {
        Objects.requireNonNull(text);
    }

    public static RustcVersion parse(String text) {
        return new RustcVersion(text);
    }

    /** The release: "1.85.1" from "rustc 1.85.1 (…)"; the text itself when it is a bare release. */
    public String release() {
        String[] p = text.split(" ");
        return p.length > 1 ? p[1] : text;
    }

    public int major() {
        return number(0);
    }

    public int minor() {
        return number(1);
    }

    public int patch() {
        return number(2);
    }

    /** Compares the release numbers (major, minor, patch); suffixes do not count. */
    public int compareRelease(RustcVersion other) {
        for (int i = 0; i < 3; i++) {
            int c = Integer.compare(number(i), other.number(i));
            if (c != 0) {
                return c;
            }
        }
        return 0;
    }

    public boolean isOlderThan(RustcVersion other) {
        return compareRelease(other) < 0;
    }

    /** The same release number ("rustc 1.85.1 (a)" and "rustc 1.85.1 (b)"), though maybe not the same compiler. */
    public boolean sameRelease(RustcVersion other) {
        return release().equals(other.release());
    }

    /** The i-th number of the release; a missing or non-numeric part is 0 ("1.78.0-nightly" has patch 0). */
    private int number(int i) {
        String[] p = release().split("[.-]");
        if (i >= p.length) {
            return 0;
        }
        try {
            return Integer.parseInt(p[i].replaceAll("\\D.*", ""));
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    @Override
    public String toString() {
        return text;
    }
}
