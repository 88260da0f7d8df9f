package dev.rkmod.cli;

import dev.rkmod.infra.host.Host;

import java.io.OutputStreamWriter;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;

/** Entry point: {@code java -jar rkmod.jar}. */
public final class Main {
    private Main() {
    }

    public static void main(String[] args) {
        if (args.length == 1 && (args[0].equals("--version") || args[0].equals("-V"))) {
            // the shortest path: no picocli, no Host, no writer stack
            String[] lines = VersionText.lines();
            System.out.print(lines[0] + "\n" + lines[1] + "\n");
            System.out.flush();
            System.exit(0);
        }
        int code = run(args, System.out, System.err, Host.current(), System.console() != null);
        System.exit(code);
    }

    /**
     * Does, on a background thread while this one binds the command line, what every longer command pays once at its
     * start: the first lambda and stream of a JVM initialise the method-handle and lambda machinery (3-5 ms even with
     * the class-data archive), and the first SHA-256 (build, vmtest and doctor check .config against its recorded hash;
     * sign hashes modules) initialises the JDK's security providers (about 18 ms) and runs interpreted until the JIT
     * has compiled the compression loop, which 64 KiB of zeros here make it do.
     */
    private static void warmUpLinkage() {
        // an anonymous class, not a lambda: this is what links the first lambda, off the main thread
        dev.rkmod.infra.lifecycle.Background.start("rkmod-warm-up", new Runnable() {
            @Override
            public void run() {
                java.util.function.Supplier<String> s = () -> "";
                java.util.List.of(s).stream().map(java.util.function.Supplier::get).filter(String::isEmpty).count();
                try {
                    java.security.MessageDigest.getInstance("SHA-256").digest(new byte[64 << 10]);
                } catch (java.security.NoSuchAlgorithmException e) {
                    // every Java has SHA-256; without it the command reports its own error
                }
            }
        });
    }

    /** Runs one invocation; used by the launcher and by in-process tests. */
    public static int run(String[] args, PrintStream out, PrintStream err, Host host, boolean tty) {
        PrintWriter o = new PrintWriter(new OutputStreamWriter(out, StandardCharsets.UTF_8), true);
        PrintWriter e = new PrintWriter(new OutputStreamWriter(err, StandardCharsets.UTF_8), true);
        try {
            for (String a : args) {
                if (a.indexOf('\uFFFD') >= 0) { // what the JVM makes of bytes that are not valid UTF-8
                    e.println("rkmod: error: The argument '" + a + "' is not valid UTF-8. The JVM rkmod runs on cannot"
                            + " name a file whose path holds such bytes, so it cannot be opened. Rename it to a UTF-8 name"
                            + " (for Latin-1 names: convmv -f latin1 -t utf8 --notest PATH).");
                    return 2;
                }
            }
            // the short paths skip building picocli's model (about 0.1 s of a 0.15 s start)
            if (args.length == 1 && (args[0].equals("--version") || args[0].equals("-V"))) {
                for (String line : VersionText.lines()) {
                    o.println(line);
                }
                return 0;
            }
            Integer plainInfo = InfoCommand.plain(new Session(o, e, host, tty), args);
            if (plainInfo != null) {
                return plainInfo;
            }
            warmUpLinkage();
            Session session = new Session(o, e, host, tty);
            Integer fast = FastArgs.run(session, args);
            if (fast != null) {
                return fast;
            }
            return Cli.commandLine(session, args).execute(args);
        } catch (Throwable t) {
            e.println("rkmod: error: Internal error: " + t + ". This is a bug in rkmod (or the machine ran out of memory)."
                    + " Rerun with --debug to see the stack trace and report it.");
            if (java.util.Arrays.asList(args).contains("--debug")) {
                t.printStackTrace(e);
            }
            return 5;
        } finally {
            o.flush();
            e.flush();
        }
    }
}
