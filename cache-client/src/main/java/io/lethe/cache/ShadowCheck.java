package io.lethe.cache;

import java.math.BigInteger;
import java.time.Duration;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.OptionalLong;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One sampled hit's inspection ({@link Inspection}): the first load and comparison, the grace, the
 * second look (the entry and the database again, once the region's applied watermark shows the
 * first load applied), and for a confirmed stale entry the heal, the log line and the audit record.
 */
final class ShadowCheck<T> {
    /** Logs under {@link Inspection}'s name, as shadow reads always have. */
    private static final Logger LOG = LoggerFactory.getLogger(Inspection.class);
    /** How often an inspection looks again while the region has not applied up to its first load. */
    private static final Duration WATERMARK_POLL = Duration.ofMillis(250);
    private static final Duration REDIS_WAIT = Duration.ofSeconds(5);

    private final Inspection inspection;
    private final String namespace;
    private final String key;
    private final Inspection.Served served;
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

    ShadowCheck(Inspection inspection, String namespace, String key, Inspection.Served served, Codec<T> codec, Loader<T> loader,
            Duration fenceTtl, CacheMetrics metrics) {
        this.inspection = inspection;
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
            firstLoadAt = inspection.clock.millis();
            if (same(loaded)) {
                finish("match");
                return;
            }
            firstDifferentAt = inspection.clock.millis();
            // the region's lag unknown (no readYourWrites, no watermark yet): wait the longest grace, never
            // the margin alone, or a change still in flight during a slow spell is counted (and paged) as stale
            long lag = lagMillis().orElse(inspection.limits.maxGrace().toMillis());
            long grace = Math.min(lag, inspection.limits.maxGrace().toMillis()) + inspection.limits.margin().toMillis();
            deadline = System.nanoTime() + inspection.limits.maxGrace().plus(inspection.limits.margin()).toNanos();
            LOG.debug("namespace {}: shadow read of {} differs from the entry served at version {}; checking again in {} ms",
                    namespace, key, served.version(), grace);
            inspection.executor.schedule(this::again, grace, TimeUnit.MILLISECONDS);
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
                            + "first load applied within {}", namespace, key,
                            inspection.limits.maxGrace().plus(inspection.limits.margin()));
                    finish("undecided");
                    return;
                }
                inspection.executor.schedule(this::again, WATERMARK_POLL.toMillis(), TimeUnit.MILLISECONDS);
                return;
            }
            CacheRedis.Read now = inspection.redis.read(key, namespace, false).get(REDIS_WAIT.toMillis(), TimeUnit.MILLISECONDS);
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
        long detectedAt = inspection.clock.millis();
        String dbVersion = !loaded.found() ? "not-found" : loaded.version() == null ? "" : loaded.version();
        boolean healed = false;
        if (inspection.heal) {
            Long r = inspection.redis.invalidate(key, served.version() == null ? "0" : served.version(), fenceTtl.toMillis())
                    .get(REDIS_WAIT.toMillis(), TimeUnit.MILLISECONDS);
            healed = r != null && r == 1L;
        }
        LOG.warn("namespace {}: confirmed stale entry {}: served version {}, database version {}, still different {} ms "
                + "after it was first seen; {}", namespace, key, served.version(), dbVersion.isEmpty() ? "unknown" : dbVersion,
                detectedAt - firstDifferentAt, inspection.heal
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
            inspection.redis.auditStale(record).get(REDIS_WAIT.toMillis(), TimeUnit.MILLISECONDS);
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
        if (inspection.appliedLsnKey == null) {
            return true;
        }
        OptionalLong applied = appliedCommitMillis();
        return applied.isPresent() && applied.getAsLong() >= firstLoadAt;
    }

    private OptionalLong lagMillis() {
        OptionalLong applied = appliedCommitMillis();
        return applied.isPresent() ? OptionalLong.of(Math.max(0, inspection.clock.millis() - applied.getAsLong())) : OptionalLong.empty();
    }

    private OptionalLong appliedCommitMillis() {
        if (inspection.appliedLsnKey == null) {
            return OptionalLong.empty();
        }
        try {
            OptionalLong micros = inspection.redis.appliedCommitMicros(inspection.appliedLsnKey).get(REDIS_WAIT.toMillis(),
                    TimeUnit.MILLISECONDS);
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
        inspection.done();
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
