package io.lethe.region.prewarm;

import io.lethe.schemas.redis.RedisLayout;
import io.lettuce.core.cluster.api.sync.RedisClusterCommands;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** Reads a prewarm's candidates from the source's Redis, counting what it leaves out. */
final class SourceEntries {
    private final RedisClusterCommands<String, byte[]> src;
    private long otherTypes;
    private long vanished;

    SourceEntries(RedisClusterCommands<String, byte[]> src) {
        this.src = src;
    }

    /** The batch's entries as the source holds them now; other types and keys gone meanwhile are counted and left out. */
    List<Copy> read(List<Candidate> batch) {
        List<Copy> out = new ArrayList<>();
        for (Candidate c : batch) {
            String type = src.type(c.key());
            Copy copy;
            if ("hash".equals(type)) {
                Map<String, byte[]> entry = src.hgetall(c.key());
                byte[] d = entry.get(RedisLayout.ENTRY_DATA);
                if (d == null) {
                    vanished++;
                    continue;
                }
                String version = entry.containsKey(RedisLayout.ENTRY_VERSION) ? Utf8.utf8(entry.get(RedisLayout.ENTRY_VERSION)) : "0";
                copy = new Copy(c.key(), c.namespace(), "h", d, version, entry.getOrDefault(RedisLayout.ENTRY_SOFT_EXPIRY, new byte[0]),
                        entry.containsKey(RedisLayout.ENTRY_NOT_FOUND), 0, 0);
            } else if ("string".equals(type)) {
                byte[] value = src.get(c.key());
                if (value == null) {
                    vanished++;
                    continue;
                }
                copy = new Copy(c.key(), c.namespace(), "s", value, "0", new byte[0], false, 0, 0);
            } else {
                if ("none".equals(type)) {
                    vanished++;
                } else {
                    otherTypes++;
                }
                continue;
            }
            Long pttl = src.pttl(c.key());
            if (pttl == null || pttl == -2) {
                vanished++;
                continue;
            }
            out.add(new Copy(copy.key(), copy.namespace(), copy.kind(), copy.data(), copy.version(), copy.softExpiry(), copy.notFound(),
                    Math.max(0, pttl), System.nanoTime()));
        }
        return out;
    }

    /** Keys that are not entries (neither hash nor string), so far. */
    long otherTypes() {
        return otherTypes;
    }

    /** Keys gone from the source between the scan and the read, so far. */
    long vanished() {
        return vanished;
    }
}
