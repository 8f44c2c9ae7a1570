package io.lethe.region.apply;

/** How far the region's read replica has replayed ({@link ReplicaGate}; a number in tests). */
interface ReplayPosition {
    /** The replica's last replayed LSN; -1 while unknown or while the replica is refused (not a standby of the primary). */
    long replayed();

    /** Tells the gate that changes up to {@code lsn} were applied once and wait for the replica. */
    void applied(long lsn);

    /**
     * The primary's current WAL position as read by a poll that began at or after
     * {@code sinceNanos} ({@link System#nanoTime}); -1 while no such poll succeeded. A change
     * that carries no LSN (a reset made where none was known) was made before it arrived, so
     * before this position.
     */
    long primaryAfter(long sinceNanos);
}
