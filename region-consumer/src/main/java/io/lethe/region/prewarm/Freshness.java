package io.lethe.region.prewarm;

import io.lethe.config.LetheConfig;
import io.lethe.config.NamespaceConfig;
import io.lethe.config.RegionConfig;
import io.lethe.region.RegionConsumerService;
import io.lethe.schemas.redis.AppliedLsn;
import io.lethe.schemas.redis.RedisLayout;
import io.lettuce.core.cluster.api.sync.RedisClusterCommands;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.stream.LongStream;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Whether a prewarm's copy is proven fresh (the rules of {@link Prewarm}): the source's applied
 * watermark read before its entries, PostgreSQL's clock against half the shortest fence TTL, and
 * the target's scan watermarks.
 */
final class Freshness {
    private static final Logger LOG = LoggerFactory.getLogger(Freshness.class);

    /** The source's applied watermark: its LSN and its heartbeats' commit time (PostgreSQL's clock, epoch µs). */
    record Watermark(long lsn, long commitTsMicros) {
    }

    private final LetheConfig config;
    private final RegionConfig from;
    private final Map<String, NamespaceConfig> namespaces;
    private final SourceClock database;
    private final RedisClusterCommands<String, byte[]> src;
    private final RedisClusterCommands<String, byte[]> dst;

    Freshness(LetheConfig config, RegionConfig from, Map<String, NamespaceConfig> namespaces, SourceClock database,
            RedisClusterCommands<String, byte[]> src, RedisClusterCommands<String, byte[]> dst) {
        this.config = config;
        this.from = from;
        this.namespaces = namespaces;
        this.database = database;
        this.src = src;
        this.dst = dst;
    }

    /** The source's applied watermark, read before its entries (rule 1). */
    Watermark sourceWatermark() {
        Map<String, String> watermark = Utf8.text(src.hgetall(AppliedLsn.key(RegionConsumerService.groupId(config, from.name()))));
        OptionalLong s = AppliedLsn.of(watermark);
        OptionalLong sTs = AppliedLsn.commitTs(watermark);
        if (s.isEmpty() || sTs.isEmpty()) {
            throw new IllegalStateException("region " + from.name() + " publishes no applied watermark in its Redis ("
                    + AppliedLsn.key(RegionConsumerService.groupId(config, from.name())) + "): its region consumer must run "
                    + "(and capture's heartbeats reach it) for a copy to be known fresh");
        }
        return new Watermark(s.getAsLong(), sTs.getAsLong());
    }

    /**
     * Rules 3 and 4: the copies whose freshness cannot be proven now, on PostgreSQL's clock and the
     * target's scan watermarks; a check that cannot be made proves nothing either.
     */
    List<Copy> unproven(List<Copy> copies, Watermark w) {
        if (copies.isEmpty()) {
            return List.of();
        }
        long nowMicros;
        try {
            nowMicros = database.nowMicros();
        } catch (SQLException e) {
            LOG.warn("prewarm: cannot read PostgreSQL's clock ({}); {} copies not proven fresh", e.getMessage(), copies.size());
            return copies;
        }
        Map<String, Boolean> scanned = new HashMap<>();
        List<Copy> out = new ArrayList<>();
        for (Copy c : copies) {
            // half the shortest fence TTL of any namespace the key could belong to: an invalidation of that one
            // may have fenced it for no longer
            long halfFenceMicros = fenceTtlMillis(c, true) * 500;
            boolean doubt = nowMicros - w.commitTsMicros() >= halfFenceMicros;
            // a scan of any namespace the key could belong to may have passed it (a pattern two namespaces share)
            for (NamespaceConfig ns : config.namespaces().values()) {
                if (!doubt && ns.mayHold(c.key())) {
                    doubt = scanned.computeIfAbsent(ns.name(), name -> scanPassed(name, w.lsn()));
                }
            }
            if (doubt) {
                out.add(c);
            }
        }
        return out;
    }

    /** True when the target's scan watermark of the namespace reached {@code s}, or cannot be read. */
    private boolean scanPassed(String namespace, long s) {
        try {
            Double scan = dst.zscore(RedisLayout.wideWatermarkKey(namespace), Utf8.bytes(RedisLayout.SCAN_WATERMARK_MEMBER));
            return scan != null && scan >= s;
        } catch (RuntimeException e) {
            return true;
        }
    }

    /** The shortest ({@code shortest}) or longest fence TTL of the copy's namespace and of every other that may hold its key. */
    long fenceTtlMillis(Copy c, boolean shortest) {
        LongStream ttls = Stream.concat(Stream.of(namespaces.get(c.namespace())),
                config.namespaces().values().stream().filter(ns -> ns.mayHold(c.key())))
                .mapToLong(ns -> ns.fenceTtl().toMillis());
        return shortest ? ttls.min().orElseThrow() : ttls.max().orElseThrow();
    }
}
