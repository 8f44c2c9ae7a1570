package io.lethe.region.apply;

import io.lethe.config.Patterns;
import io.lethe.region.redis.RegionRedis;
import io.lethe.region.redis.SlotMap;
import io.lethe.schemas.redis.RedisLayout;
import io.lethe.stage.failure.Failure;
import io.lettuce.core.KeyScanCursor;
import io.lettuce.core.ScanCursor;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Every key matching a glob that existed when the sweep started, page by page: SCAN on a
 * standalone or Sentinel Redis, again when another server answers at its end. A Redis Cluster is scanned master by master, and a slot migrating
 * meanwhile (a resharding) can move keys from a master not scanned yet to one already scanned,
 * where neither finds them. So the cluster's slot map is read before and after: the keys of every
 * slot that changed hands, or was migrating, are read again from every master
 * ({@code CLUSTER GETKEYSINSLOT}, the glob applied here exactly as Redis applies it; every master
 * scanned again when more than {@value #SLOTS_BY_KEY} slots are concerned), until a round passes
 * in which none of them moved. A key moves once per migration, so a slot whose migration
 * was under way, unchanged, through two consecutive rounds is settled too (a key that moved
 * during the first was found by the second). A resharding that keeps moving the same slots for
 * {@value #MAX_ROUNDS} rounds fails the batch as retriable: it is applied again, never skipped.
 */
final class KeySweep {
    private static final Logger LOG = LoggerFactory.getLogger(KeySweep.class);
    static final int MAX_ROUNDS = 200;

    /** Up to this many slots a round reads slot by slot (GETKEYSINSLOT); more, and it scans every master again. */
    static final int SLOTS_BY_KEY = 256;

    /** What is done with each page of keys found. */
    interface Page {
        void accept(List<String> keys) throws ApplyFailure, InterruptedException;
    }

    private final RegionRedis redis;
    private final RegionMetrics metrics;
    private final int scanCount;

    KeySweep(RegionRedis redis, RegionMetrics metrics, int scanCount) {
        this.redis = redis;
        this.metrics = metrics;
        this.scanCount = scanCount;
    }

    /** Hands every key matching {@code glob} to {@code page}, a page at a time (a key may come twice). */
    void sweep(String glob, Page page) throws ApplyFailure, InterruptedException {
        if (!redis.cluster()) {
            sweepOneServer(glob, page);
            return;
        }
        SlotMap before = redis.clusterMasters().slotMap();
        scanMasters(before.masters(), glob, page);
        BitSet pending = new BitSet(RedisLayout.SLOTS);
        pending.set(0, RedisLayout.SLOTS);
        BitSet steadyMigrating = new BitSet(RedisLayout.SLOTS);
        for (int round = 1;; round++) {
            SlotMap after = redis.clusterMasters().slotMap();
            BitSet again = new BitSet(RedisLayout.SLOTS);
            BitSet nowSteady = new BitSet(RedisLayout.SLOTS);
            for (int s = pending.nextSetBit(0); s >= 0; s = pending.nextSetBit(s + 1)) {
                if (before.changed(s, after)) {
                    again.set(s);
                } else if (after.migrating(s) && !steadyMigrating.get(s)) {
                    again.set(s);
                    nowSteady.set(s);
                }
            }
            if (again.isEmpty()) {
                return;
            }
            if (round > MAX_ROUNDS) {
                throw new ApplyFailure(Failure.retriable("cluster-resharding", null), "Redis " + redis.display()
                        + ": slots kept moving during " + MAX_ROUNDS + " rounds of the scan of " + glob + "; the batch is applied again");
            }
            LOG.info("region Redis {}: {} slot(s) moved or are migrating during the scan of {}; reading their keys again (round {})",
                    redis.display(), again.cardinality(), glob, round);
            metrics.slotsRescanned(again.cardinality());
            Set<String> masters = new LinkedHashSet<>(before.masters());
            masters.addAll(after.masters());
            if (again.cardinality() > SLOTS_BY_KEY) {
                // a master that imported a slot bumps its config epoch, and every slot it owns reads as changed
                scanMasters(List.copyOf(masters), glob, page);
            } else {
                readSlots(again, masters, glob, page);
            }
            pending = again;
            steadyMigrating = nowSteady;
            before = after;
        }
    }

    /**
     * A standalone or Sentinel Redis: a SCAN cursor means something only on the server that gave
     * it. A failover or restart meanwhile (another {@code run_id}) continues it on another server,
     * which may skip keys: the scan is done again.
     */
    private void sweepOneServer(String glob, Page page) throws ApplyFailure, InterruptedException {
        String server = redis.runId();
        for (int round = 1;; round++) {
            ScanCursor cursor = ScanCursor.INITIAL;
            do {
                KeyScanCursor<String> step = redis.scan(cursor, glob, scanCount);
                page.accept(step.getKeys());
                cursor = step;
            } while (!cursor.isFinished());
            String now = redis.runId();
            if (now.equals(server)) {
                return;
            }
            if (round >= MAX_ROUNDS) {
                throw new ApplyFailure(Failure.retriable("server-changed", null), "Redis " + redis.display()
                        + ": the server kept changing during " + MAX_ROUNDS + " scans of " + glob + "; the batch is applied again");
            }
            LOG.info("region Redis {}: another server answered at the end of the scan of {} (failover or restart); scanning again",
                    redis.display(), glob);
            server = now;
        }
    }

    private void readSlots(BitSet slots, Set<String> masters, String glob, Page page) throws ApplyFailure, InterruptedException {
        for (int s = slots.nextSetBit(0); s >= 0; s = slots.nextSetBit(s + 1)) {
            List<String> found = new ArrayList<>();
            for (String master : masters) {
                for (String key : redis.clusterMasters().keysInSlot(master, s)) {
                    if (Patterns.matches(glob, key)) {
                        found.add(key);
                    }
                }
            }
            if (!found.isEmpty()) {
                page.accept(found);
            }
        }
    }

    private void scanMasters(List<String> masters, String glob, Page page) throws ApplyFailure, InterruptedException {
        for (String master : masters) {
            ScanCursor cursor = ScanCursor.INITIAL;
            do {
                KeyScanCursor<String> step = redis.clusterMasters().scan(master, cursor, glob, scanCount);
                page.accept(step.getKeys());
                cursor = step;
            } while (!cursor.isFinished());
        }
    }
}
