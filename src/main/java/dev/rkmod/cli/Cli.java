package dev.rkmod.cli;

import dev.rkmod.model.ExitCode;
import dev.rkmod.model.RkmodException;
import picocli.CommandLine;

import java.lang.reflect.Constructor;
import java.util.Arrays;

/** Builds the picocli command tree and maps failures to exit codes and one-paragraph messages. */
final class Cli {
    private Cli() {
    }

    static CommandLine commandLine(Session session, String[] args) {
        boolean debug = Arrays.asList(args).contains("--debug");
        boolean json = Arrays.asList(args).contains("--json");
        CommandLine cl = new CommandLine(RkmodCommand.class, new SessionFactory(session));
        String first = args.length > 0 ? args[0] : "";
        if (RkmodCommand.SUBCOMMANDS.containsKey(first) && !first.equals("help")) {
            cl.addSubcommand(first, RkmodCommand.subcommand(first));
        } else if (!(args.length == 1 && (first.equals("--version") || first.equals("-V")))) {
            // usage, help, a typo (picocli suggests the nearest name) or completion: every command
            RkmodCommand.SUBCOMMANDS.keySet().forEach(n -> cl.addSubcommand(n, RkmodCommand.subcommand(n)));
        }
        cl.setOut(session.out());
        cl.setErr(session.err());
        cl.setCaseInsensitiveEnumValuesAllowed(true);
        // a bad option value is a usage error (exit 2); with --json it is reported as JSON like every other error
        CommandLine.IParameterExceptionHandler usage = cl.getParameterExceptionHandler();
        cl.setParameterExceptionHandler((ex, rest) -> {
            if (!json) {
                return usage.handleParseException(ex, rest);
            }
            report(session, true, ExitCode.USAGE, ex.getMessage());
            return ExitCode.USAGE.code();
        });
        cl.setExecutionExceptionHandler((ex, commandLine, parseResult) -> failed(session, json, debug, ex));
        return cl;
    }

    /** The exit code of a command that threw {@code ex}, after its one-paragraph message. */
    static int failed(Session session, boolean json, boolean debug, Exception ex) {
        if (ex instanceof RkmodException r) {
            report(session, json, r.exitCode(), r.paragraph());
            if (debug) {
                ex.printStackTrace(session.err());
            }
            return r.exitCode().code();
        }
        report(session, json, ExitCode.INTERNAL, "Internal error: " + ex
                + ". This is a bug in rkmod. Rerun with --debug to see the stack trace and report it.");
        if (debug) {
            ex.printStackTrace(session.err());
        }
        return ExitCode.INTERNAL.code();
    }

    /** A command object made as picocli's factory makes it (with the session, when its constructor takes one). */
    static <K> K create(Session session, Class<K> cls) throws Exception {
        return factory(session).create(cls);
    }

    static CommandLine.IFactory factory(Session session) {
        return new SessionFactory(session);
    }

    static void report(Session s, boolean json, ExitCode code, String paragraph) {
        if (json) {
            s.out().println(Json.write(new Failure(paragraph, code.code())));
        } else {
            s.err().println("rkmod: error: " + paragraph);
        }
        s.out().flush();
        s.err().flush();
    }

    /** --json of a failed command. */
    record Failure(String error, int exitCode) { }

    /** Creates command objects, passing the session to constructors that take one. */
    private static final class SessionFactory implements CommandLine.IFactory {
        private final Session session;
        private final CommandLine.IFactory fallback = CommandLine.defaultFactory();

        SessionFactory(Session session) {
            this.session = session;
        }

        @Override
        public <K> K create(Class<K> cls) throws Exception {
            try {
                Constructor<K> c = cls.getDeclaredConstructor(Session.class);
                c.setAccessible(true);
                return c.newInstance(session);
            } catch (NoSuchMethodException e) {
                return fallback.create(cls);
            }
        }
    }
}
