package dev.rkmod.cli;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;

/** rkmod's version as Maven wrote it into the jar, and the lines {@code --version} prints; free of picocli. */
final class VersionText {
    private VersionText() {
    }

    static String version() {
        // from the jar's manifest, which the class-data archive carries: no need to open the 20 MB jar
        String manifest = VersionText.class.getPackage().getImplementationVersion();
        if (manifest != null) {
            return manifest;
        }
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
