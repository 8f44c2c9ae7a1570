package io.lethe.region.apply;

import io.lethe.schemas.InvalidationEvent;
import io.lethe.stage.time.Micros;
import java.time.Clock;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What follows Redis's acknowledgement of events: their commit-to-applied latency
 * ({@code lethe.invalidation.latency}, and the topic lag's applied commit time), and the region's
 * {@link AppliedListener}s, each told apart (one that fails is logged and the others still hear).
 */
final class AppliedEvents {
    private static final Logger LOG = LoggerFactory.getLogger(AppliedEvents.class);

    private final String region;
    private final RegionMetrics metrics;
    private final RegionTopicLag topicLag;
    private final List<AppliedListener> listeners;
    private final Clock clock;

    AppliedEvents(String region, RegionMetrics metrics, RegionTopicLag topicLag, List<AppliedListener> listeners, Clock clock) {
        this.region = region;
        this.metrics = metrics;
        this.topicLag = topicLag;
        this.listeners = listeners;
        this.clock = clock;
    }

    /** Commit to applied, of events Redis acknowledged now. */
    void latency(List<InvalidationEvent> applied) {
        long now = Micros.of(clock.instant());
        for (InvalidationEvent e : applied) {
            metrics.latency(now - e.commitTs());
            topicLag.applied(e.commitTs());
        }
    }

    /** Tells the listeners. */
    void tell(List<InvalidationEvent> events) {
        if (events.isEmpty()) {
            return;
        }
        for (AppliedListener listener : listeners) {
            try {
                listener.applied(events);
            } catch (RuntimeException e) {
                LOG.warn("region {}: listener {} failed: {}", region, listener.getClass().getSimpleName(), e.toString());
            }
        }
    }
}
