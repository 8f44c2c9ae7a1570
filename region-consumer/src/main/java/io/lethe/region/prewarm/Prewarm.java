package io.lethe.region.prewarm;

import io.lethe.config.LetheConfig;
import io.lethe.config.NamespaceConfig;
import io.lethe.config.RegionConfig;
import io.lethe.region.RegionConsumerService;
import io.lethe.region.redis.RegionRedis;
import io.lethe.schemas.redis.AppliedLsn;
import io.lethe.schemas.redis.LuaScript;
import io.lethe.schemas.redis.RedisLayout;
import io.lethe.stage.retry.Backoff;
import io.lettuce.core.KeyScanCursor;
import io.lettuce.core.ScanArgs;
import io.lettuce.core.ScanCursor;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.cluster.api.sync.RedisClusterCommands;
import java.nio.charset.StandardCharsets;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.PriorityQueue;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import java.util.stream.LongStream;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code lethe prewarm}: copies the entries a sibling region holds into a region that is empty or
 * cold, hottest first, at a bounded rate, without ever leaving a value there that the region's own
 * pipeline would not remove. The rule (docs/design.md, "Pre-warming a region"):
 *
 * <ol>
 *   <li>The source's applied watermark S (published for read-your-writes, {@link AppliedLsn}) is
 *       read before each batch of entries: every change committed before S is applied in the
 *       source, so what the batch reads there is not older than any of them.</li>
 *   <li>A copy lands only where the target has no entry and no fence for the key
 *       ({@code prewarm.lua}, atomically): a fence means the target applied an invalidation of
 *       the key within its fence TTL, which the source may not have applied yet. Everything the
 *       target applies after the copy removes it like any entry.</li>
 *   <li>An invalidation the target applied earlier than its fence TTL could only be newer than S
 *       if the source lagged that much: nothing is copied unless S's commit time is within half
 *       the namespace's fence TTL of PostgreSQL's own clock, before the batch is written and again
 *       after (commit times are PostgreSQL's: the host's clock is never compared with them).</li>
 *   <li>Pattern and namespace-wide invalidations leave no fence on keys that were absent: nothing
 *       is copied if the target's scan watermark of a namespace the key could belong to reached S,
 *       before the batch is written and again after.</li>
 *   <li>Only namespaces both regions subscribe to are copied.</li>
 * </ol>
 * Copies are written with a short lease TTL and given their real TTL ({@code confirm.lua})
 * only once the check after the write passed; the others are undone. A prewarm killed between
 * writing and confirming leaves nothing that outlives the lease. Versioned entries keep their
 * version, legacy (string) entries stay strings; other types are not copied. A refused or undone
 * key is left to the target's readers to fill.
 */
public final class Prewarm implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Prewarm.class);

    /** What to copy. {@code top} 0 copies every candidate; {@code keysPerSecond} bounds the copy rate. */
    public record Options(List<String> namespaces, int top, int keysPerSecond, int batchSize) {
        public Options {
            namespaces = List.copyOf(namespaces);
            if (top < 0 || keysPerSecond < 1 || batchSize < 1) {
                throw new IllegalArgumentException("top must be >= 0, rate and batch size >= 1");
            }
        }
    }

    /**
     * What a run did, by outcome: copied (and confirmed); already present in the target; refused,
     * the target fenced the key; unproven, not written because the source's freshness could not be
     * proven (a lagging source, a scan past it); undone, written but the check after the write
     * failed or the target changed the key before it was confirmed; not entries; gone from the
     * source meanwhile.
     */
    public record Summary(long candidates, long copied, long present, long fenced, long unproven, long undone, long otherTypes,
                          long vanished, String hotness, Duration took) {
    }

    /** Told after each batch: how many candidates were handled of how many. */
    public interface Progress {
        void update(long handled, long candidates, Summary sofar);
    }

    private record Candidate(String key, String namespace, long heat) {
    }

    /** An entry read from the source: kind h (versioned) or s (legacy), its TTL then (0: none), and when it was read. */
    private record Copy(String key, String namespace, String kind, byte[] data, String version, byte[] softExpiry, boolean notFound,
                        long ttlMillis, long readAt) {
    }

    /** The source's applied watermark: its LSN and its heartbeats' commit time (PostgreSQL's clock, epoch µs). */
    private record Watermark(long lsn, long commitTsMicros) {
    }

    /**
     * The TTL a copy has until the check after its batch's write passed: at least this, and at
     * least four times the last batch's write-to-confirm time, so a slow target does not expire
     * copies that would pass.
     */
    static final Duration COPY_LEASE = Duration.ofSeconds(10);

    private final LetheConfig config;
    private final RegionConfig from;
    private final RegionConfig to;
    private final Options options;
    private final Clock clock;
    private final SourceClock database;
    private final RegionRedis source;
    private final RegionRedis target;
    private final RedisClusterCommands<String, byte[]> src;
    private final RedisClusterCommands<String, byte[]> dst;
    private final Map<String, NamespaceConfig> namespaces = new LinkedHashMap<>();
    private long copied;
    private long present;
    private long fenced;
    private long unproven;
    private long undone;
    private long lastBatchNanos;
    private long otherTypes;
    private long vanished;
    private String hotness = "scan order";

    /**
     * @param clock the host's clock, for the run's duration only: freshness is judged on PostgreSQL's
     *              clock ({@link SourceClock}), which the source's commit times come from
     * @throws IllegalStateException when PostgreSQL or a region's Redis cannot be reached
     */
    public Prewarm(LetheConfig config, String fromRegion, String toRegion, Options options, Clock clock) {
        this.config = config;
        this.from = region(config, fromRegion);
        this.to = region(config, toRegion);
        if (from.name().equals(to.name())) {
            throw new IllegalArgumentException("--from and --to name the same region, " + from.name());
        }
        this.options = options;
        this.clock = clock;
        List<String> shared = from.namespaces().stream().filter(to.namespaces()::contains).toList();
        for (String ns : options.namespaces().isEmpty() ? shared : options.namespaces()) {
            if (!shared.contains(ns)) {
                throw new IllegalArgumentException("namespace '" + ns + "' is not subscribed by both " + from.name() + " and " + to.name()
                        + " (shared: " + shared + ")");
            }
            namespaces.put(ns, config.namespaces().get(ns));
        }
        this.database = new SourceClock(config.source());
        try {
            this.source = new RegionRedis(from, 1, config.apply().commandTimeout());
        } catch (RuntimeException e) {
            database.close();
            throw e;
        }
        try {
            this.target = new RegionRedis(to, 1, config.apply().commandTimeout());
        } catch (RuntimeException e) {
            source.close();
            database.close();
            throw e;
        }
        target.loadScripts();
        this.src = source.binary();
        this.dst = target.binary();
    }

    private static RegionConfig region(LetheConfig config, String name) {
        RegionConfig r = config.regions().get(name);
        if (r == null) {
            throw new IllegalArgumentException("no region '" + name + "' in " + config.file() + "; regions: " + config.regions().keySet());
        }
        return r;
    }

    /** Finds the candidates, hottest first, and copies them batch by batch. */
    public Summary run(Progress progress) throws InterruptedException {
        Instant t0 = clock.instant();
        List<Candidate> candidates = candidates();
        long minNanosPerKey = 1_000_000_000L / options.keysPerSecond();
        long handled = 0;
        for (int i = 0; i < candidates.size(); i += options.batchSize()) {
            long batchStart = System.nanoTime();
            List<Candidate> batch = candidates.subList(i, Math.min(candidates.size(), i + options.batchSize()));
            copy(batch);
            handled += batch.size();
            progress.update(handled, candidates.size(), summary(candidates.size(), t0));
            long wait = minNanosPerKey * batch.size() - (System.nanoTime() - batchStart);
            if (wait > 0) {
                Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
            }
        }
        return summary(candidates.size(), t0);
    }

    private Summary summary(long candidates, Instant t0) {
        return new Summary(candidates, copied, present, fenced, unproven, undone, otherTypes, vanished, hotness,
                Duration.between(t0, clock.instant()));
    }

    /**
     * The source's keys of the namespaces, hottest first: by {@code OBJECT FREQ} under an LFU
     * policy, else by {@code OBJECT IDLETIME} (least idle first); in scan order where Redis
     * answers neither. At most {@code top} of them when it is set.
     */
    private List<Candidate> candidates() {
        boolean lfu = policy().contains("lfu");
        boolean ranked = true;
        Comparator<Candidate> hottestFirst = Comparator.comparingLong(Candidate::heat).reversed();
        PriorityQueue<Candidate> coolestFirst = new PriorityQueue<>(Comparator.comparingLong(Candidate::heat));
        List<Candidate> all = new ArrayList<>();
        Set<String> seen = new HashSet<>();
        long order = 0;
        for (NamespaceConfig ns : namespaces.values()) {
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
                        if (options.top() == 0) {
                            all.add(c);
                        } else {
                            coolestFirst.add(c);
                            if (coolestFirst.size() > options.top()) {
                                coolestFirst.poll();
                            }
                        }
                    }
                    cursor = page;
                } while (!cursor.isFinished());
            }
        }
        if (ranked) {
            hotness = lfu ? "OBJECT FREQ (LFU)" : "OBJECT IDLETIME";
        }
        List<Candidate> out = new ArrayList<>(options.top() == 0 ? all : coolestFirst);
        if (ranked) {
            out.sort(hottestFirst);
        }
        return out;
    }

    /** The eviction policy, from {@code INFO memory} (the region's ACL user has INFO, not CONFIG). */
    private String policy() {
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

    /**
     * One batch: the source's watermark, its entries, the check, the copies under a lease, the
     * check again, then each copy confirmed or undone.
     */
    private void copy(List<Candidate> batch) throws InterruptedException {
        Watermark w = sourceWatermark();
        List<Copy> read = read(batch);
        List<Copy> proven = new ArrayList<>(read);
        proven.removeAll(unproven(read, w));
        unproven += read.size() - proven.size();
        long started = System.nanoTime();
        long lease = Math.max(COPY_LEASE.toMillis(), 4 * lastBatchNanos / 1_000_000);
        List<Copy> written = new ArrayList<>();
        try {
            for (Copy c : proven) {
                // counted as written until Redis says otherwise: a call whose reply is lost may have landed
                written.add(c);
                long ttl = c.ttlMillis() == 0 ? lease : Math.min(c.ttlMillis(), lease);
                long result = dst.evalsha(LuaScript.PREWARM.sha1(), ScriptOutputType.INTEGER,
                        new String[] {c.key(), RedisLayout.fenceKey(c.key())}, bytes(c.kind()), c.data(), bytes(c.version()), c.softExpiry(),
                        bytes(c.notFound() ? "1" : "0"), bytes(Long.toString(ttl)));
                if (result != 1) {
                    written.remove(c);
                    if (result == 2) {
                        present++;
                    } else {
                        fenced++;
                    }
                }
            }
            List<Copy> doubtful = unproven(written, w);
            undo(doubtful);
            written.removeAll(doubtful);
            confirm(written);
        } catch (RuntimeException e) {
            // what landed was not confirmed: it goes (its lease ends it anyway), then the failure is reported
            undo(written);
            throw e;
        }
        lastBatchNanos = System.nanoTime() - started;
    }

    /** The source's applied watermark, read before its entries (rule 1). */
    private Watermark sourceWatermark() {
        Map<String, String> watermark = text(src.hgetall(AppliedLsn.key(RegionConsumerService.groupId(config, from.name()))));
        OptionalLong s = AppliedLsn.of(watermark);
        OptionalLong sTs = AppliedLsn.commitTs(watermark);
        if (s.isEmpty() || sTs.isEmpty()) {
            throw new IllegalStateException("region " + from.name() + " publishes no applied watermark in its Redis ("
                    + AppliedLsn.key(RegionConsumerService.groupId(config, from.name())) + "): its region consumer must run "
                    + "(and capture's heartbeats reach it) for a copy to be known fresh");
        }
        return new Watermark(s.getAsLong(), sTs.getAsLong());
    }

    /** The batch's entries as the source holds them now; other types and keys gone meanwhile are counted and left out. */
    private List<Copy> read(List<Candidate> batch) {
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
                String version = entry.containsKey(RedisLayout.ENTRY_VERSION) ? utf8(entry.get(RedisLayout.ENTRY_VERSION)) : "0";
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

    /**
     * Rules 3 and 4: the copies whose freshness cannot be proven now, on PostgreSQL's clock and the
     * target's scan watermarks; a check that cannot be made proves nothing either.
     */
    private List<Copy> unproven(List<Copy> copies, Watermark w) {
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
            Double scan = dst.zscore(RedisLayout.wideWatermarkKey(namespace), bytes(RedisLayout.SCAN_WATERMARK_MEMBER));
            return scan != null && scan >= s;
        } catch (RuntimeException e) {
            return true;
        }
    }

    /**
     * Gives the proven copies their real TTL (what the source's entry had left, none if it had
     * none). A copy the target changed meanwhile (an invalidation, a reader's fill) is left as
     * it is and counted as undone. Each is removed from {@code copies} once settled.
     */
    private void confirm(List<Copy> copies) {
        for (Iterator<Copy> it = copies.iterator(); it.hasNext(); ) {
            Copy c = it.next();
            long ttl = c.ttlMillis() == 0 ? 0 : Math.max(1, c.ttlMillis() - (System.nanoTime() - c.readAt()) / 1_000_000);
            long result = dst.evalsha(LuaScript.CONFIRM.sha1(), ScriptOutputType.INTEGER, new String[] {c.key()},
                    bytes(c.kind()), c.data(), bytes(c.version()), bytes(Long.toString(ttl)));
            if (result == 1) {
                copied++;
            } else {
                undone++;
            }
            it.remove(); // settled: a failure after this one does not undo it
        }
    }

    /**
     * invalidate.lua at each copy's version (what a newer fill wrote stays), retried until Redis
     * acknowledges every one: a copy that could not be proven fresh must not stay (its lease would
     * end it too).
     */
    /** The shortest ({@code shortest}) or longest fence TTL of the copy's namespace and of every other that may hold its key. */
    private long fenceTtlMillis(Copy c, boolean shortest) {
        LongStream ttls = Stream.concat(Stream.of(namespaces.get(c.namespace())),
                        config.namespaces().values().stream().filter(ns -> ns.mayHold(c.key())))
                .mapToLong(ns -> ns.fenceTtl().toMillis());
        return shortest ? ttls.min().orElseThrow() : ttls.max().orElseThrow();
    }

    private void undo(List<Copy> copies) throws InterruptedException {
        Backoff backoff = new Backoff(config.apply().retryBackoffMin(), config.apply().retryBackoffMax());
        for (Copy c : copies) {
            long fenceTtl = fenceTtlMillis(c, false);
            while (true) {
                try {
                    dst.evalsha(LuaScript.INVALIDATE.sha1(), ScriptOutputType.INTEGER, new String[] {c.key(), RedisLayout.fenceKey(c.key())},
                            bytes(c.version()), bytes(Long.toString(fenceTtl)),
                            bytes(Long.toString(ThreadLocalRandom.current().nextLong(1, 1L << 40))));
                    break;
                } catch (RuntimeException e) {
                    LOG.warn("prewarm: undoing the copy of {} in {} failed ({}); retrying", c.key(), to.name(), e.toString());
                    backoff.sleep();
                }
            }
            undone++;
        }
    }

    private static Map<String, String> text(Map<String, byte[]> raw) {
        Map<String, String> out = new HashMap<>();
        raw.forEach((k, v) -> out.put(k, utf8(v)));
        return out;
    }

    private static String utf8(byte[] b) {
        return new String(b, StandardCharsets.UTF_8);
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Override
    public void close() {
        source.close();
        target.close();
        database.close();
    }
}
