package io.lethe.region.apply;

import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.common.TopicPartition;

/**
 * When the loop compares the region's Redis with its checkpoint ({@link RestoreReplay#check}): once
 * a second, at once when partitions were assigned (before any of their records is applied), and at
 * once when a checkpoint write was refused (another server answers).
 */
final class RestoreSchedule {
    static final long EVERY_NANOS = TimeUnit.SECONDS.toNanos(1);

    private long lastCheck = System.nanoTime() - EVERY_NANOS;
    private Set<TopicPartition> lastAssignment = Set.of();

    /** Whether a check is due now, with the consumer's {@code assignment}; {@code recheckWanted} from {@link RestoreReplay}. */
    boolean due(Set<TopicPartition> assignment, boolean recheckWanted) {
        return System.nanoTime() - lastCheck >= EVERY_NANOS || !lastAssignment.containsAll(assignment) || recheckWanted;
    }

    /** A check starts now, with {@code assignment}. */
    void checking(Set<TopicPartition> assignment) {
        lastCheck = System.nanoTime();
        lastAssignment = Set.copyOf(assignment);
    }

    /** Nanoseconds until the next check is due (at most a second, negative when overdue). */
    long nanosUntilDue() {
        return EVERY_NANOS - (System.nanoTime() - lastCheck);
    }
}
