package io.lethe.region.prewarm;

import io.lethe.config.NamespaceConfig;
import io.lethe.schemas.redis.RedisLayout;
import io.lettuce.core.KeyScanCursor;
import io.lettuce.core.ScanArgs;
import io.lettuce.core.ScanCursor;
import io.lettuce.core.cluster.api.sync.RedisClusterCommands;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.PriorityQueue;
import java.util.Set;

/** Which keys a prewarm copies, hottest first, as the source's Redis ranks them. */
final class HotKeys {
    private HotKeys() {
    }

    /** The candidates, and how they were ranked (the run's summary says). */
    record Ranked(List<Candidate> candidates, String hotness) {
    }

    /**
     * The source's keys of the namespaces, hottest first: by {@code OBJECT FREQ} under an LFU
     * policy, else by {@code OBJECT IDLETIME} (least idle first); in scan order where Redis
     * answers neither. At most {@code top} of them when it is set.
     */
    static Ranked rank(RedisClusterCommands<String, byte[]> src, Collection<NamespaceConfig> namespaces, int top) {
        boolean lfu = policy(src).contains("lfu");
        boolean ranked = true;
        Comparator<Candidate> hottestFirst = Comparator.comparingLong(Candidate::heat).reversed();
        PriorityQueue<Candidate> coolestFirst = new PriorityQueue<>(Comparator.comparingLong(Candidate::heat));
        List<Candidate> all = new ArrayList<>();
        Set<String> seen = new HashSet<>();
        long order = 0;
        for (NamespaceConfig ns : namespaces) {
            for (String glob : ns.namespaceGlobs()) {
                ScanCursor cursor = ScanCursor.INITIAL;
                do {
                    KeyScanCursor<String> page = src.scan(cursor, ScanArgs.Builder.matches(glob).limit(1000));
                    for (String key : page.getKeys()) {
                        if (key.startsWith(RedisLayout.RESERVED_PREFIX) || !seen.add(key)) {
                            continue;
                        }
                        long heat = -(order++);
                        if (ranked) {
                            try {
                                heat = lfu ? src.objectFreq(key) : -src.objectIdletime(key);
                            } catch (RuntimeException e) {
                                ranked = false; // OBJECT is renamed or refused (managed Redis): scan order
                            }
                        }
                        Candidate c = new Candidate(key, ns.name(), heat == Long.MIN_VALUE ? 0 : heat);
                        if (top == 0) {
                            all.add(c);
                        } else {
                            coolestFirst.add(c);
                            if (coolestFirst.size() > top) {
                                coolestFirst.poll();
                            }
                        }
                    }
                    cursor = page;
                } while (!cursor.isFinished());
            }
        }
        List<Candidate> out = new ArrayList<>(top == 0 ? all : coolestFirst);
        if (ranked) {
            out.sort(hottestFirst);
        }
        return new Ranked(out, ranked ? (lfu ? "OBJECT FREQ (LFU)" : "OBJECT IDLETIME") : "scan order");
    }

    /** The eviction policy, from {@code INFO memory} (the region's ACL user has INFO, not CONFIG). */
    private static String policy(RedisClusterCommands<String, byte[]> src) {
        try {
            for (String line : src.info("memory").split("\r?\n")) {
                if (line.startsWith("maxmemory_policy:")) {
                    return line.substring("maxmemory_policy:".length()).trim();
                }
            }
            return "unknown";
        } catch (RuntimeException e) {
            return "unknown";
        }
    }
}
