package dev.rkmod.cli;

import dev.rkmod.infra.cache.Cache;
import dev.rkmod.infra.event.EventSink;
import dev.rkmod.infra.host.Host;
import dev.rkmod.model.ExitCode;
import dev.rkmod.model.RkmodException;
import dev.rkmod.workflow.Context;

import java.io.PrintWriter;

/** Per-invocation state shared by the commands: streams, the machine, and rendering choices. */
public final class Session {
    private final PrintWriter out;
    private final PrintWriter err;
    private final Host host;
    private final boolean tty;

    public Session(PrintWriter out, PrintWriter err, Host host, boolean tty) {
        this.out = out;
        this.err = err;
        this.host = host;
        this.tty = tty;
    }

    public PrintWriter out() {
        return out;
    }

    public PrintWriter err() {
        return err;
    }

    public Host host() {
        return host;
    }

    public boolean tty() {
        return tty;
    }

    /** The renderer for a command's events, chosen from its output options. */
    public EventSink renderer(OutputOptions o) {
        if (o.json) {
            return o.debug ? new JsonEventRenderer(err) : EventSink.NONE;
        }
        return new TextRenderer(err, tty, o.verbose, o.debug, o.quiet);
    }

    /** SOURCE_DATE_EPOCH, or 0: the time of every entry of a reproducible archive. */
    public long sourceDateEpoch() {
        String sde = host.env().get("SOURCE_DATE_EPOCH");
        if (sde == null || sde.isBlank()) {
            return 0;
        }
        try {
            return Long.parseLong(sde.strip());
        } catch (NumberFormatException e) {
            throw new RkmodException(ExitCode.USAGE, "SOURCE_DATE_EPOCH='" + sde + "' is not a number of seconds", null,
                    "Unset it or set it to a Unix time");
        }
    }

    public Context context(OutputOptions o) {
        return Context.create(host, new Cache(Cache.defaultRoot(host.env())), renderer(o));
    }
}
