package io.lethe.cache;

import io.lethe.schemas.redis.RedisLayout;
import java.math.BigInteger;
import java.time.Clock;
import java.time.Duration;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.OptionalLong;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Shadow reads, off the request path: a sampled hit's key is loaded again with the
 * application's own loader and compared (the codec's {@link Codec#same}, and the version when
 * both sides know it) with what was served. A difference is expected while a change is in
 * flight, so it is checked again after a grace (the region's measured lag, from its applied
 * watermark, plus a margin; at most {@code maxGrace}): a difference that survives is a
 * confirmed stale entry, counted, logged (coordinates, never values), healed with invalidate.lua
 * at the served version, and recorded in {@link RedisLayout#AUDIT_STALE_STREAM}.
 *
 * <p>Bounded: at most {@code concurrency} inspections at a time (each including its grace) and
 * {@code maxPerSecond} started per second; a sample over either is counted as {@code dropped},
 * never queued.
 */
final class Inspection implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Inspection.class);
    /** How often an inspection looks again while the region has not applied up to its first load. */
    private static final Duration WATERMARK_POLL = Duration.ofMillis(250);
    private static final Duration REDIS_WAIT = Duration.ofSeconds(5);

    /** The inspection's bounds: see {@link LetheCache.Builder#shadowReadLimits}. */
    record Limits(int concurrency, int maxPerSecond, Duration margin, Duration maxGrace) {
        static final Limits DEFAULT = new Limits(2, 20, Duration.ofSeconds(2), Duration.ofSeconds(60));

        Limits {
            if (concurrency < 1 || maxPerSecond < 1) {
                throw new IllegalArgumentException("shadow read limits need concurrency >= 1 and maxPerSecond >= 1, were "
                        + concurrency + " and " + maxPerSecond);
            }
            if (margin == null || margin.isNegative() || maxGrace == null || maxGrace.isNegative()) {
                throw new IllegalArgumentException("shadow read margin and maxGrace must be zero or positive, were " + margin
                        + " and " + maxGrace);
            }
        }
    }

    /** What a sampled hit served. */
    record Served(byte[] data, String version, boolean notFound) {
    }

    private final CacheRedis redis;
    private final Limits limits;
    private final boolean heal;
    private final Clock clock;
    /** The region's applied-watermark key, or null: the grace is then the longest, maxGrace plus the margin. */
    private final String appliedLsnKey;
    private final Semaphore running;
    private final AtomicInteger pending = new AtomicInteger();
    private final ScheduledThreadPoolExecutor executor;
    private final Object bucketLock = new Object();
    private double tokens;
    private long refilledAt = System.nanoTime();

    Inspection(CacheRedis redis, Limits limits, boolean heal, Clock clock, String appliedLsnKey) {
        this.redis = redis;
        this.limits = limits;
        this.heal = heal;
        this.clock = clock;
        this.appliedLsnKey = appliedLsnKey;
        this.running = new Semaphore(limits.concurrency());
        this.tokens = limits.maxPerSecond();
        AtomicInteger n = new AtomicInteger();
        this.executor = new ScheduledThreadPoolExecutor(limits.concurrency(), r -> {
            Thread t = new Thread(r, "lethe-cache-inspection-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        executor.setRemoveOnCancelPolicy(true);
    }

    /** Inspections accepted and not finished (tests wait for 0). */
    int pending() {
        return pending.get();
    }

    /**
     * Hands a sampled hit over; returns at once. Over the limits the sample is counted as
     * {@code dropped}. The caller's request never waits on anything this does.
     */
    <T> void submit(String namespace, String key, Served served, Codec<T> codec, Loader<T> loader, Duration fenceTtl,
            CacheMetrics metrics) {
        if (!takeToken() || !running.tryAcquire()) {
            metrics.check("dropped");
            return;
        }
        pending.incrementAndGet();
        Check<T> check = new Check<>(namespace, key, served, codec, loader, fenceTtl, metrics);
        try {
            executor.execute(check::first);
        } catch (RuntimeException e) { // closed
            check.finish("dropped");
        }
    }

    private boolean takeToken() {
        synchronized (bucketLock) {
            long now = System.nanoTime();
            tokens = Math.min(limits.maxPerSecond(), tokens + (now - refilledAt) / 1e9 * limits.maxPerSecond());
            refilledAt = now;
            if (tokens < 1) {
                return false;
            }
            tokens -= 1;
            return true;
        }
    }

    @Override
    public void close() {
        executor.shutdownNow();
    }

    /** One sampled hit's inspection. */
    private final class Check<T> {
        private final String namespace;
        private final String key;
        private final Served served;
        private final Codec<T> codec;
        private final Loader<T> loader;
        private final Duration fenceTtl;
        private final CacheMetrics metrics;
        /**
         * When the first load returned: every change it saw committed before then. Not when it
         * started: a slow load (a busy database, a saturated pool) sees changes committed while it
         * ran, and a watermark from before them says nothing of their invalidations.
         */
        private long firstLoadAt;
        private long firstDifferentAt;
        private long deadline;
        private boolean finished;

        Check(String namespace, String key, Served served, Codec<T> codec, Loader<T> loader, Duration fenceTtl, CacheMetrics metrics) {
            this.namespace = namespace;
            this.key = key;
            this.served = served;
            this.codec = codec;
            this.loader = loader;
            this.fenceTtl = fenceTtl;
            this.metrics = metrics;
        }

        void first() {
            try {
                Loaded<T> loaded = load();
                if (loaded == null) {
                    return;
                }
                firstLoadAt = clock.millis();
                if (same(loaded)) {
                    finish("match");
                    return;
                }
                firstDifferentAt = clock.millis();
                // the region's lag unknown (no readYourWrites, no watermark yet): wait the longest grace, never
                // the margin alone, or a change still in flight during a slow spell is counted (and paged) as stale
                long lag = lagMillis().orElse(limits.maxGrace().toMillis());
                long grace = Math.min(lag, limits.maxGrace().toMillis()) + limits.margin().toMillis();
                deadline = System.nanoTime() + limits.maxGrace().plus(limits.margin()).toNanos();
                LOG.debug("namespace {}: shadow read of {} differs from the entry served at version {}; checking again in {} ms",
                        namespace, key, served.version(), grace);
                executor.schedule(this::again, grace, TimeUnit.MILLISECONDS);
            } catch (RuntimeException e) {
                failed(e);
            }
        }

        /** After the grace: the entry now, and the database now. */
        void again() {
            try {
                if (!appliedPastFirstLoad()) {
                    // the region has not shown everything committed before the first load applied (its
                    // watermark is behind, or cannot be read now: withdrawn after a restore, a partition
                    // missing, a read that failed or timed out): an invalidation for what it found may
                    // still be on its way
                    if (System.nanoTime() + WATERMARK_POLL.toNanos() > deadline) {
                        LOG.info("namespace {}: shadow read of {} undecided: the region's applied watermark did not show the "
                                + "first load applied within {}", namespace, key, limits.maxGrace().plus(limits.margin()));
                        finish("undecided");
                        return;
                    }
                    executor.schedule(this::again, WATERMARK_POLL.toMillis(), TimeUnit.MILLISECONDS);
                    return;
                }
                CacheRedis.Read now = redis.read(key, namespace).get(REDIS_WAIT.toMillis(), TimeUnit.MILLISECONDS);
                if (!now.present() || !sameEntry(now)) {
                    finish("in-flight");
                    return;
                }
                Loaded<T> loaded = load();
                if (loaded == null) {
                    return;
                }
                if (same(loaded)) {
                    finish("converged");
                    return;
                }
                stale(loaded);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                finish("error");
            } catch (Exception e) {
                failed(e);
            }
        }

        private void stale(Loaded<T> loaded) throws Exception {
            long detectedAt = clock.millis();
            String dbVersion = !loaded.found() ? "not-found" : loaded.version() == null ? "" : loaded.version();
            boolean healed = false;
            if (heal) {
                Long r = redis.invalidate(key, served.version() == null ? "0" : served.version(), fenceTtl.toMillis())
                        .get(REDIS_WAIT.toMillis(), TimeUnit.MILLISECONDS);
                healed = r != null && r == 1L;
            }
            LOG.warn("namespace {}: confirmed stale entry {}: served version {}, database version {}, still different {} ms "
                    + "after it was first seen; {}", namespace, key, served.version(), dbVersion.isEmpty() ? "unknown" : dbVersion,
                    detectedAt - firstDifferentAt, heal
                            ? (healed
                                    ? "healed (invalidated at the served version)"
                                    : "not healed (the entry changed before the invalidation)")
                            : "not healed (shadowReadsHeal is off)");
            Map<String, String> record = new LinkedHashMap<>();
            record.put("namespace", namespace);
            record.put("key", key);
            record.put("served-version", served.version() == null ? "0" : served.version());
            record.put("db-version", dbVersion);
            record.put("detected-at", Long.toString(detectedAt));
            record.put("healed", healed ? "1" : "0");
            try {
                redis.auditStale(record).get(REDIS_WAIT.toMillis(), TimeUnit.MILLISECONDS);
            } catch (Exception e) {
                LOG.warn("namespace {}: the audit record of stale entry {} could not be written: {}", namespace, key, e.toString());
            }
            finish("stale");
        }

        /** The loader's answer, or null when it failed (then the check is finished as an error). */
        private Loaded<T> load() {
            Loaded<T> loaded;
            try {
                loaded = loader.load(key);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                finish("error");
                return null;
            } catch (Exception | Error e) {
                if (e instanceof VirtualMachineError v) {
                    throw v;
                }
                LOG.debug("namespace {}: shadow read of {}: the loader failed: {}", namespace, key, e.toString());
                finish("error");
                return null;
            }
            if (loaded == null) {
                finish("error");
            }
            return loaded;
        }

        /** Whether what the loader found is what was served: found-ness, value, and version when both know it. */
        private boolean same(Loaded<T> loaded) {
            if (loaded.found() == served.notFound()) {
                return false;
            }
            if (!loaded.found()) {
                return true;
            }
            if (!codec.same(codec.decode(served.data()), loaded.value())) {
                return false;
            }
            // an entry of version 0 carries no version (an unversioned fill, a derived key)
            return loaded.version() == null || isZero(served.version()) || sameNumber(loaded.version(), served.version());
        }

        private boolean sameEntry(CacheRedis.Read now) {
            return now.notFound() == served.notFound() && sameNumber(now.version(), served.version())
                    && Arrays.equals(now.data(), served.data());
        }

        /**
         * True when nothing committed before the first load can still be on its way: the region's
         * applied watermark is at or past it, or this cache reads no watermark (then the grace was
         * the longest, {@code maxGrace}). A watermark it reads that is unknown now (a failed or
         * timed-out read, withdrawn, a partition missing) shows nothing applied: false.
         */
        private boolean appliedPastFirstLoad() {
            if (appliedLsnKey == null) {
                return true;
            }
            OptionalLong applied = appliedCommitMillis();
            return applied.isPresent() && applied.getAsLong() >= firstLoadAt;
        }

        private OptionalLong lagMillis() {
            OptionalLong applied = appliedCommitMillis();
            return applied.isPresent() ? OptionalLong.of(Math.max(0, clock.millis() - applied.getAsLong())) : OptionalLong.empty();
        }

        private OptionalLong appliedCommitMillis() {
            if (appliedLsnKey == null) {
                return OptionalLong.empty();
            }
            try {
                OptionalLong micros = redis.appliedCommitMicros(appliedLsnKey).get(REDIS_WAIT.toMillis(), TimeUnit.MILLISECONDS);
                return micros.isPresent() ? OptionalLong.of(micros.getAsLong() / 1000) : OptionalLong.empty();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return OptionalLong.empty();
            } catch (Exception e) {
                return OptionalLong.empty();
            }
        }

        private void failed(Throwable e) {
            LOG.debug("namespace {}: shadow read of {} failed: {}", namespace, key, e.toString());
            finish("error");
        }

        void finish(String result) {
            if (finished) {
                return;
            }
            finished = true;
            metrics.check(result);
            pending.decrementAndGet();
            running.release();
        }
    }

    private static boolean isZero(String version) {
        return version == null || version.chars().allMatch(c -> c == '0');
    }

    private static boolean sameNumber(String a, String b) {
        if (a == null || b == null) {
            return a == b;
        }
        try {
            return new BigInteger(a.trim()).equals(new BigInteger(b.trim()));
        } catch (NumberFormatException e) {
            return a.equals(b);
        }
    }
}
