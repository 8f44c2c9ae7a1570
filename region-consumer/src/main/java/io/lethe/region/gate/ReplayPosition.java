package io.lethe.region.gate;

/** How far the region's read replica has replayed ({@link ReplicaGate}; a number in tests). */
public interface ReplayPosition {
    /** The replica's last replayed LSN. */
    long replayed();

    /** Tells the gate that changes up to {@code lsn} were applied once and wait for the replica. */
    void applied(long lsn);
}
