package io.lethe.region.prewarm;

import static io.lethe.region.prewarm.Utf8.bytes;

import io.lethe.config.LetheConfig;
import io.lethe.config.NamespaceConfig;
import io.lethe.config.RegionConfig;
import io.lethe.region.redis.RegionRedis;
import io.lethe.schemas.redis.AppliedLsn;
import io.lethe.schemas.redis.LuaScript;
import io.lethe.schemas.redis.RedisLayout;
import io.lethe.stage.retry.Backoff;
import io.lethe.stage.retry.Retry;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.cluster.api.sync.RedisClusterCommands;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
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
 *   <li>Only namespaces both regions subscribe to are copied, and only when both regions' Redis
 *       record them as this configuration has them ({@link FedAlike}).</li>
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
    private String hotness = "scan order";
    private final Freshness freshness;
    private final SourceEntries entries;

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
        RegionRedis s = null;
        RegionRedis t = null;
        try {
            s = new RegionRedis(from, 1, config.apply().commandTimeout());
            t = new RegionRedis(to, 1, config.apply().commandTimeout());
            FedAlike.require(config, namespaces.values(), from, s, to, t);
        } catch (RuntimeException e) {
            for (AutoCloseable c : new AutoCloseable[] {t, s, database}) {
                closeQuietly(c, e);
            }
            throw e;
        }
        this.source = s;
        this.target = t;
        target.loadScripts();
        this.src = source.binary();
        this.dst = target.binary();
        this.freshness = new Freshness(config, from, namespaces, database, src, dst);
        this.entries = new SourceEntries(src);
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
        HotKeys.Ranked ranked = HotKeys.rank(src, namespaces.values(), options.top());
        List<Candidate> candidates = ranked.candidates();
        hotness = ranked.hotness();
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
        return new Summary(candidates, copied, present, fenced, unproven, undone, entries.otherTypes(), entries.vanished(), hotness,
                Duration.between(t0, clock.instant()));
    }

    /**
     * One batch: the source's watermark, its entries, the check, the copies under a lease, the
     * check again, then each copy confirmed or undone.
     */
    private void copy(List<Candidate> batch) throws InterruptedException {
        Freshness.Watermark w = freshness.sourceWatermark();
        List<Copy> read = entries.read(batch);
        List<Copy> proven = new ArrayList<>(read);
        proven.removeAll(freshness.unproven(read, w));
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
                        new String[] {c.key(), RedisLayout.fenceKey(c.key())}, bytes(c.kind()), c.data(), bytes(c.version()),
                        c.softExpiry(),
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
            List<Copy> doubtful = freshness.unproven(written, w);
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

    /**
     * Gives the proven copies their real TTL (what the source's entry had left, none if it had
     * none). A copy the target changed meanwhile (an invalidation, a reader's fill) is left as
     * it is and counted as undone. Each is removed from {@code copies} once settled.
     */
    private void confirm(List<Copy> copies) {
        for (Iterator<Copy> it = copies.iterator(); it.hasNext();) {
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
    private void undo(List<Copy> copies) throws InterruptedException {
        Backoff backoff = new Backoff(config.apply().retryBackoffMin(), config.apply().retryBackoffMax());
        // one retry over the copies left: its backoff grows across them while Redis keeps failing
        Deque<Copy> left = new ArrayDeque<>(copies);
        Retry.of(LOG, backoff, "prewarm: undoing " + copies.size() + " copies in " + to.name()).untilStopped().run(() -> {
            while (!left.isEmpty()) {
                Copy c = left.peekFirst();
                long fenceTtl = freshness.fenceTtlMillis(c, false);
                dst.evalsha(LuaScript.INVALIDATE.sha1(), ScriptOutputType.INTEGER, new String[] {c.key(), RedisLayout.fenceKey(c.key())},
                        bytes(c.version()), bytes(Long.toString(fenceTtl)),
                        bytes(Long.toString(ThreadLocalRandom.current().nextLong(1, 1L << 40))));
                left.removeFirst();
                undone++;
            }
        });
    }

    @Override
    public void close() {
        source.close();
        target.close();
        database.close();
    }

    private static void closeQuietly(AutoCloseable c, RuntimeException failure) {
        try {
            if (c != null) {
                c.close();
            }
        } catch (Exception e) {
            failure.addSuppressed(e);
        }
    }
}
