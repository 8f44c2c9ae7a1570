package io.lethe.region.redis;

import io.lettuce.core.resource.ClientResources;
import io.lettuce.core.resource.DefaultClientResources;
import io.lettuce.core.resource.Delay;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * One set of Lettuce I/O and computation threads for every region consumer in a JVM, instead of
 * four threads per region: the event loops never block (every call is pipelined and awaited by
 * the region's own thread), so regions sharing them do not wait on each other. Counted: the
 * threads stop when the last region closes. A lost connection is tried again after 10 ms,
 * doubling up to 1 s (Lettuce's default grows to 30 s): after an outage of half a minute the
 * region's invalidations would otherwise wait up to 30 s more for a Redis that answers again.
 */
final class SharedClientResources {
    private static ClientResources resources;
    private static int users;

    private SharedClientResources() {
    }

    static synchronized ClientResources acquire() {
        if (users++ == 0) {
            resources = DefaultClientResources.builder().ioThreadPoolSize(2).computationThreadPoolSize(2)
                    .reconnectDelay(() -> Delay.exponential(Duration.ofMillis(10), Duration.ofSeconds(1), 2, TimeUnit.MILLISECONDS))
                    .build();
        }
        return resources;
    }

    static synchronized void release() {
        if (--users == 0) {
            resources.shutdown(0, 2, TimeUnit.SECONDS);
            resources = null;
        }
    }
}
