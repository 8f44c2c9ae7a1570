package io.lethe.region.apply;

import java.util.HashSet;
import java.util.OptionalLong;
import java.util.Set;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.common.TopicPartition;

/**
 * The region topic's share of the lag, measured on the consumer's thread after each poll: records
 * fetched or not yet fetched and not applied, and how old the newest applied commit is while some
 * wait ({@code lethe.region.lag.*}). It also tells the applied watermarks which partitions this
 * consumer owns.
 */
final class RegionTopicLag {
    private final Consumer<?, ?> consumer;
    private final RegionMetrics metrics;
    private long newestAppliedCommit;

    public RegionTopicLag(Consumer<?, ?> consumer, RegionMetrics metrics) {
        this.consumer = consumer;
        this.metrics = metrics;
    }

    /** Events committed at {@code commitMicros} were applied. */
    public void applied(long commitMicros) {
        newestAppliedCommit = Math.max(newestAppliedCommit, commitMicros);
    }

    /** Updates the gauges; {@code inFlight} records of the batch being applied count as lag. */
    public void update(int inFlight, long nowMicros) {
        Set<Integer> owned = new HashSet<>();
        long lag = inFlight;
        for (TopicPartition tp : consumer.assignment()) {
            owned.add(tp.partition());
            OptionalLong l = consumer.currentLag(tp);
            if (l.isPresent()) {
                lag += l.getAsLong();
            }
        }
        metrics.watermarks().assigned(owned, nowMicros);
        metrics.assigned(owned.size());
        long lagMillis = newestAppliedCommit == 0 ? 0 : Math.max(0, nowMicros - newestAppliedCommit) / 1000;
        metrics.lag(lag, lagMillis);
    }
}
