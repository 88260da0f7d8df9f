package dev.rkmod.workflow;

import dev.rkmod.infra.cache.Cache;
import dev.rkmod.infra.event.EventSink;
import dev.rkmod.infra.host.Host;
import dev.rkmod.infra.process.ProcessRunner;

/** What every workflow needs: the machine, the cache, the process runner and the event sink. */
public record Context(Host host, Cache cache, ProcessRunner runner, EventSink events) {

    public static Context create(Host host, Cache cache, EventSink events) {
        return new Context(host, cache, new ProcessRunner(events, cache.logDir()), events);
    }
}
