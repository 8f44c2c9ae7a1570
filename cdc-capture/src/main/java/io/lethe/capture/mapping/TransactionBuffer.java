package io.lethe.capture.mapping;

import io.lethe.config.LetheConfig;
import io.lethe.schemas.ChangeEvent;
import io.lethe.schemas.SourceTable;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Holds the row changes of the open transaction until Debezium's transaction END record says
 * where it committed, then hands them over stamped with that commit LSN. A standby with
 * {@code recovery_min_apply_delay} replays a change record long before the transaction's COMMIT
 * record, so only the commit LSN tells a region's replica gate when the replica shows the change.
 *
 * <p>Fail closed where the commit LSN cannot be attached: a transaction of more than
 * {@link #MAX_HELD_ROWS} rows is handed over as it streams (memory stays bounded), and one whose
 * BEGIN was not seen may have had rows handed over before a restart; for both, END adds a
 * namespace-wide reset at the commit LSN for every namespace of the tables the transaction
 * touched, which the gate re-applies once the replica is past the commit.
 */
public final class TransactionBuffer {
    /** Rows of one transaction held back at most; past this they are handed over without a commit LSN. */
    public static final int MAX_HELD_ROWS = 20_000;

    private final LetheConfig config;
    private final int maxHeld;
    private final List<ChangeEvent> held = new ArrayList<>();
    private final Set<SourceTable> touched = new LinkedHashSet<>();
    private Long openTx;
    /** True when rows of the open transaction were handed over without its commit LSN. */
    private boolean unstamped;
    private long overflows;

    public TransactionBuffer(LetheConfig config) {
        this(config, MAX_HELD_ROWS);
    }

    TransactionBuffer(LetheConfig config, int maxHeld) {
        this.config = config;
        this.maxHeld = maxHeld;
    }

    /** True while a transaction's rows are held (its records must not be marked processed yet). */
    public boolean isOpen() {
        return openTx != null;
    }

    /** Transactions handed over without their commit LSN because they were too large, since start. */
    public long overflows() {
        return overflows;
    }

    /** A transaction BEGIN record. */
    public List<ChangeEvent> begin(long txId, long nowMicros) {
        List<ChangeEvent> out = isOpen() ? end(openTx, -1, nowMicros) : new ArrayList<>();
        openTx = txId;
        unstamped = false;
        return out;
    }

    /**
     * A row change of a transaction.
     *
     * @return what to publish now: nothing while the row can be held, else the held rows without a commit LSN
     */
    public List<ChangeEvent> add(ChangeEvent change, long nowMicros) {
        List<ChangeEvent> out = new ArrayList<>();
        if (change.txId() == null) {
            out.add(change);
            return out;
        }
        if (openTx == null || !openTx.equals(change.txId())) {
            // no BEGIN seen (capture resumed inside it): earlier rows may have gone out unstamped
            out.addAll(begin(change.txId(), nowMicros));
            unstamped = true;
        }
        touched.add(change.source());
        held.add(change);
        if (held.size() > maxHeld) {
            if (!unstamped) {
                overflows++;
            }
            unstamped = true;
            out.addAll(held);
            held.clear();
        }
        return out;
    }

    /**
     * A transaction END record: the held rows stamped with the commit LSN, and resets where rows
     * went out without it.
     *
     * @param commitLsn the LSN of the COMMIT record (end of the record), or -1 when unknown
     */
    public List<ChangeEvent> end(long txId, long commitLsn, long nowMicros) {
        List<ChangeEvent> out = new ArrayList<>();
        boolean matches = openTx != null && openTx == txId && commitLsn >= 0;
        boolean allStamped = matches;
        for (ChangeEvent change : held) {
            boolean stamp = matches && commitLsn >= change.lsn();
            allStamped &= stamp;
            out.add(stamp ? change.withCommitLsn(commitLsn) : change);
        }
        if (unstamped || !allStamped) {
            long at = commitLsn >= 0 ? commitLsn : held.stream().mapToLong(ChangeEvent::lsn).max().orElse(0);
            out.addAll(resets(at, nowMicros));
        }
        held.clear();
        touched.clear();
        openTx = null;
        unstamped = false;
        return out;
    }

    /** Namespace-wide resets at {@code lsn} for every namespace of the tables the transaction touched. */
    private List<ChangeEvent> resets(long lsn, long nowMicros) {
        return Resets.forTables(config, touched, lsn, nowMicros);
    }
}
