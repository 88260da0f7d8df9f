package dev.rkmod.cli;

import picocli.CommandLine.Option;

/** Output options every command accepts. */
public final class OutputOptions {
    @Option(names = "--json", description = "Print the result as JSON on standard output.")
    boolean json;

    @Option(names = {"-v", "--verbose"}, description = "Show the output of the programs rkmod runs.")
    boolean verbose;

    @Option(names = {"-q", "--quiet"}, description = "Show only warnings, errors and the result.")
    boolean quiet;

    @Option(names = "--debug", description = "Show debug events and Java stack traces.")
    boolean debug;

    public boolean json() {
        return json;
    }
}
