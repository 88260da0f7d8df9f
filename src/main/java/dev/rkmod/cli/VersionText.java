package dev.rkmod.cli;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;

/** rkmod's version as Maven wrote it into the jar, and the lines {@code --version} prints; free of picocli. */
final class VersionText {
    private VersionText() {
    }

    static String version() {
        try (InputStream in = VersionText.class.getResourceAsStream("/dev/rkmod/version.properties")) {
            if (in == null) {
                return "unknown";
            }
            Properties p = new Properties();
            p.load(in);
            return p.getProperty("version", "unknown");
        } catch (IOException e) {
            return "unknown";
        }
    }

    static String[] lines() {
        return new String[] {"rkmod " + version(), "Java " + System.getProperty("java.version")};
    }
}
