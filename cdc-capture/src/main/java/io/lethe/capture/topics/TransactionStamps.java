package io.lethe.capture.topics;

import io.lethe.schemas.ChangeEvent;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Deque;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Set;
import org.apache.kafka.common.TopicPartition;

/**
 * With the connector's transaction metadata ({@code provide.transaction.metadata=true}): stamps each
 * change with its transaction's commit LSN, which only the transaction's END record (on the
 * connector's transaction topic, id {@code <txId>:<commit LSN>}) says. The END and the changes are on
 * different topics, read in no order, so each change partition's changes are held, in order, until
 * the END of the head's transaction is read; a change outside a transaction (a snapshot row) waits
 * only for those before it. What is held is not committed: the next offset to commit of a change
 * partition is its first held change, and of the transaction topic the first END some held or unread
 * change may still need.
 */
final class TransactionStamps {
    /** A record of a change partition: its change (null for one that maps to none) and its transaction (null: none). */
    record Held(TopicPartition partition, long offset, ChangeEvent event, Long txId) {
    }

    /** A transaction's END: its commit LSN, where it was read, and how many changes of each configured table are still to come. */
    private static final class End {
        final long commitLsn;
        final long offset;
        final Map<String, Integer> remaining;

        End(long commitLsn, long offset, Map<String, Integer> remaining) {
            this.commitLsn = commitLsn;
            this.offset = offset;
            this.remaining = new HashMap<>(remaining);
        }

        boolean done() {
            return remaining.values().stream().allMatch(n -> n <= 0);
        }
    }

    private final int maxEnds;
    private final Map<TopicPartition, Deque<Held>> held = new HashMap<>();
    private final LinkedHashMap<Long, End> ends = new LinkedHashMap<>();
    private int heldCount;

    /**
     * @param maxEnds most ENDs whose changes were all released that are remembered (a change of a
     *                transaction read after its END's counts said it was done still finds it); an END
     *                some change still needs is never forgotten (its changes would wait for good, and
     *                the transaction topic's committed offset would pass it): the reader pauses the
     *                transaction topic instead while {@link #pending()} is above this
     */
    TransactionStamps(int maxEnds, Collection<String> tables) {
        this.maxEnds = maxEnds;
        this.tables = Set.copyOf(tables);
    }

    /** The configured tables ({@code schema.table}): an END's counts of other tables' changes are not waited for (none is read). */
    private final Set<String> tables;

    void hold(Held record) {
        held.computeIfAbsent(record.partition(), tp -> new ArrayDeque<>()).addLast(record);
        heldCount++;
    }

    /**
     * The END of transaction {@code txId}, committed at {@code commitLsn}, read at {@code offset} of the
     * transaction topic, with {@code counts} changes of each configured table ({@code schema.table}).
     */
    void end(long txId, long commitLsn, Map<String, Integer> counts, long offset) {
        // kept even when it counts no change of a configured table (done at once: forgotten among the done ones, and a
        // change of it read after all still finds it while it is remembered)
        Map<String, Integer> read = new HashMap<>();
        counts.forEach((table, n) -> {
            if (tables.contains(table)) {
                read.put(table, n);
            }
        });
        ends.put(txId, new End(commitLsn, offset, read));
        forgetDone();
    }

    /** Forgets the oldest ENDs whose changes were all released, beyond {@code maxEnds} of them. */
    private void forgetDone() {
        int done = 0;
        for (End e : ends.values()) {
            if (e.done()) {
                done++;
            }
        }
        for (Iterator<End> it = ends.values().iterator(); it.hasNext() && done > maxEnds;) {
            if (it.next().done()) {
                it.remove();
                done--;
            }
        }
    }

    /** ENDs read whose changes are not all released yet. */
    int pending() {
        int n = 0;
        for (End e : ends.values()) {
            if (!e.done()) {
                n++;
            }
        }
        return n;
    }

    /** Every held change whose turn has come, in each partition's order, stamped with its commit LSN. */
    List<Held> release() {
        List<Held> out = new ArrayList<>();
        for (Deque<Held> queue : held.values()) {
            while (!queue.isEmpty()) {
                Held head = queue.peekFirst();
                End end = head.txId() == null ? null : ends.get(head.txId());
                if (head.txId() != null && end == null) {
                    break;
                }
                queue.removeFirst();
                heldCount--;
                if (end == null || head.event() == null) {
                    out.add(head);
                    continue;
                }
                String table = head.event().source().qualifiedName();
                end.remaining.merge(table, -1, Integer::sum);
                ChangeEvent stamped = end.commitLsn >= head.event().lsn() ? head.event().withCommitLsn(end.commitLsn) : head.event();
                out.add(new Held(head.partition(), head.offset(), stamped, head.txId()));
            }
        }
        if (!out.isEmpty()) {
            forgetDone();
        }
        return out;
    }

    /** The next offset of {@code partition} not yet released: its first held record, else {@code position}. */
    long next(TopicPartition partition, long position) {
        Deque<Held> queue = held.get(partition);
        return queue == null || queue.isEmpty() ? position : queue.peekFirst().offset();
    }

    /** The offset of the transaction topic to commit: the first END still needed, else {@code position}. */
    long transactionsNext(long position) {
        OptionalLong first = ends.values().stream().filter(e -> !e.done()).mapToLong(e -> e.offset).min();
        return first.isPresent() ? Math.min(first.getAsLong(), position) : position;
    }

    int held() {
        return heldCount;
    }
}
