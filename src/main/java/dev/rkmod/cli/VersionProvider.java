package dev.rkmod.cli;

import picocli.CommandLine;

/** Reads the version Maven wrote into the jar. */
public final class VersionProvider implements CommandLine.IVersionProvider {

    public static String version() {
        return VersionText.version();
    }

    @Override
    public String[] getVersion() {
        return VersionText.lines();
    }
}
