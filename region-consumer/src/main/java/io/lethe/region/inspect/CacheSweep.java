package io.lethe.region.inspect;

import io.lethe.config.ApplyConfig;
import io.lethe.config.KeyTemplate;
import io.lethe.config.LetheConfig;
import io.lethe.config.NamespaceConfig;
import io.lethe.config.RegionConfig;
import io.lethe.region.inspect.CacheInspector.Report;
import io.lethe.stage.retry.Backoff;
import io.lettuce.core.RedisException;
import io.micrometer.core.instrument.MeterRegistry;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A region's continuous sweep (docs/design.md, "The region's sweep"): {@code lethe inspect} run
 * by the region consumer itself, slowly and for ever. Lethe sees only the invalidations it
 * generated, and shadow reads only the keys applications read; a stale entry neither reaches (a
 * table out of the publication, a restore replayed short, a writer outside the protocol, a reader in
 * another language) is found here, within one pass.
 *
 * <p>It walks each namespace's keys ({@link NamespaceWalk}: a SCAN cursor per namespace, resumed,
 * started again at the end), the namespaces in turn a step each, paced at
 * {@code apply.sweep.keys-per-second} ({@link Pacer}); judges each key as the inspector does
 * ({@link KeyChecks}); confirms its suspects once the region's applied watermark passed the source's
 * position read after their rows ({@link SweepBatches}); and, with {@code heal}, invalidates each
 * confirmed key through invalidate.lua at the entry's own version, which only ever removes what a
 * reader's next miss would replace (a newer entry stays). Each confirmed key is counted, logged at
 * WARN and recorded in {@code lethe:audit:stale} (coordinates, never values).
 *
 * <p>It runs on a thread, Redis connections and a database connection of its own, as the reader
 * role ({@code source.reader-user}) or on the region's replica, never as the replication role: it
 * never blocks the apply loop. When the database or Redis does not answer it counts the failure,
 * waits and goes on; it never touches the region's health.
 */
public final class CacheSweep implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(CacheSweep.class);

    private final LetheConfig config;
    private final String region;
    private final ApplyConfig.Sweep settings;
    private final Clock clock;
    private final SweepMetrics metrics;
    private final List<NamespaceWalk> walks = new ArrayList<>();
    private final Thread thread;
    private final SweepBatches batches;
    private volatile boolean running;
    private KeyChecks checks;
    private final SweepLease lease;
    private int turn;

    /** A sweep of {@code regionName}'s keys, not started; every namespace the region caches that has key templates. */
    public CacheSweep(LetheConfig config, String regionName, MeterRegistry registry, Clock clock) {
        this.config = config;
        this.region = regionName;
        this.settings = config.apply().sweep();
        this.clock = clock;
        List<NamespaceConfig> namespaces = KeyChecks.scanned(config, config.region(regionName), List.of()).stream()
                .filter(ns -> !ns.keys().isEmpty()).toList();
        // each template's "before" is every template ahead of it in file order, as one inspect pass scans them
        List<KeyTemplate> ahead = new ArrayList<>();
        for (NamespaceConfig ns : namespaces) {
            List<List<KeyTemplate>> before = new ArrayList<>();
            for (KeyTemplate t : ns.keys()) {
                before.add(List.copyOf(ahead));
                ahead.add(t);
            }
            walks.add(new NamespaceWalk(ns, before));
        }
        this.metrics = new SweepMetrics(registry, regionName, namespaces);
        this.batches = new SweepBatches(settings.confirmWithin());
        this.lease = new SweepLease(io.lethe.region.RegionConsumerService.groupId(config, regionName), System::nanoTime);
        this.thread = new Thread(this::run, "lethe-sweep-" + regionName);
        thread.setDaemon(true);
    }

    /**
     * Why the sweep of {@code region} cannot run, or empty when it can: it reads rows as the reader
     * role ({@code source.reader-user}) or the region's replica user, and without either it would log
     * in as capture's REPLICATION role (usually with no password: every step would fail).
     */
    public static java.util.Optional<String> withoutReader(LetheConfig config, String region) {
        RegionConfig r = config.region(region);
        if (config.source().readerUser() != null || r.hasReplicaGate() && r.replicaUser() != null) {
            return java.util.Optional.empty();
        }
        return java.util.Optional.of("region " + r.name() + ": apply.sweep is on but source.reader-user is not set, so the sweep "
                + "does not run (it never reads rows as source.user, capture's REPLICATION role); to enable it create a role with only "
                + "SELECT on the configured tables and set source.reader-user and source.reader-password (docs/runbook.md, "
                + "\"Least privilege\"), or set apply.sweep.enabled: false to silence this");
    }

    public void start() {
        running = true;
        thread.start();
        LOG.info("region {}: sweeping {} namespace(s) at {} keys/s against their rows ({}heal)", region, walks.size(),
                settings.keysPerSecond(), settings.heal() ? "" : "no ");
    }

    private void run() {
        Backoff backoff = new Backoff(Duration.ofSeconds(1), Duration.ofSeconds(30));
        Pacer pacer = new Pacer(settings.keysPerSecond(), System::nanoTime, Pacer.SLEEP);
        try {
            while (running && !walks.isEmpty()) {
                try {
                    if (checks == null) {
                        checks = new KeyChecks(config, region, List.of(), settings.heal(), "lethe-sweep");
                    }
                    if (!lease.held(checks.redis())) {
                        // another instance of the region sweeps: this one waits to take over should it stop
                        metrics.active(false);
                        Thread.sleep(SweepLease.TTL.toMillis() / 3);
                        continue;
                    }
                    metrics.active(true);
                    if (batches.full()) {
                        confirm(batches.step(System.nanoTime(), false, source()));
                        Thread.sleep(50);
                        continue;
                    }
                    pacer.await();
                    step();
                    if (backoff.attempts() > 0) {
                        LOG.info("region {}: the sweep goes on after {} failed attempt(s)", region, backoff.attempts());
                        backoff.reset();
                    }
                } catch (SQLException | RuntimeException e) {
                    // an outage (or a bug): counted, waited out and retried; one key's own failure is counted per key (judge)
                    String cause = e instanceof RedisException
                            ? "redis"
                            : e instanceof SQLException || e instanceof IllegalStateException
                                    ? "database"
                                    : "other";
                    metrics.error(cause);
                    lease.forget();
                    if (backoff.attempts() == 0) {
                        LOG.warn("region {}: the sweep waits for {} and retries: {}", region,
                                "redis".equals(cause) ? "Redis" : "database".equals(cause) ? "the database" : "an unexpected error",
                                e.toString());
                    }
                    backoff.sleep();
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Error e) {
            // not an outage: the region goes on applying; the sweep's counters stop moving (LetheSweepStalled)
            LOG.error("region {}: the sweep stopped", region, e);
        } finally {
            metrics.active(false);
            if (checks != null) {
                try {
                    lease.release(checks.redis());
                } catch (RuntimeException e) {
                    LOG.debug("region {}: the sweep's lease {} is left to expire: {}", region, lease.key(), e.toString());
                }
                checks.close();
            }
        }
    }

    /** One paced step: a key judged, or a SCAN page read, in the next namespace's turn; then the batches. */
    private void step() throws SQLException {
        NamespaceWalk walk = walks.get(turn);
        turn = (turn + 1) % walks.size();
        NamespaceWalk.Step step = walk.next(checks.redis()::scan, checks::judgedUnder);
        String ns = walk.namespace().name();
        if (step.key() != null) {
            Suspect s = judge(walk.namespace(), step.key(), () -> checks.check(walk.namespace(), step.template(), step.key()));
            if (s != null && s != SKIPPED) {
                metrics.count(ns, "checked");
                if (s.report().finding().stale()) {
                    batches.add(s, System.nanoTime());
                }
            }
        } else if (step.passEnded()) {
            metrics.passFinished(ns, clock.instant());
            LOG.debug("region {}: the sweep finished pass {} of namespace {}", region, walk.passes(), ns);
        }
        confirm(batches.step(System.nanoTime(), step.passEnded(), source()));
    }

    /** What {@link #judge} returns for a key it could not judge. */
    private static final Suspect SKIPPED = new Suspect(null, null, null, null);

    /** A lookup that may fail. */
    private interface Lookup {
        Suspect get() throws SQLException;
    }

    /**
     * One key judged; {@link #SKIPPED} (not judged, counted as {@code errors{cause=key}}) when it fails for a
     * reason of its own (a value the judge cannot handle), so one bad row never stops the sweep. An
     * outage (SQL, Redis) still propagates, to be waited out.
     */
    private Suspect judge(NamespaceConfig ns, String key, Lookup lookup) throws SQLException {
        try {
            return lookup.get();
        } catch (RedisException | IllegalStateException e) {
            throw e;
        } catch (RuntimeException e) {
            metrics.error("key");
            // the exception's class only: its message may quote the row's values
            LOG.warn("region {}: the sweep skips key {} of namespace {}: {}", region, key, ns.name(), e.getClass().getName());
            return SKIPPED;
        }
    }

    private SweepBatches.Source source() {
        return new SweepBatches.Source() {
            @Override
            public long position() throws SQLException {
                return checks.position();
            }

            @Override
            public boolean reached(long position) throws SQLException {
                return checks.watermarkReached(position);
            }
        };
    }

    /** Judges a batch whose watermark passed again, and counts one that waited too long as unconfirmed. */
    private void confirm(SweepBatches.Outcome outcome) throws SQLException {
        for (Suspect s : outcome.expired()) {
            metrics.count(s.ns().name(), "unconfirmed");
        }
        if (!outcome.expired().isEmpty()) {
            LOG.warn("region {}: the sweep's {} suspect(s) stay unconfirmed: the applied watermark did not pass the source's position "
                    + "within {} (the region lags; they are judged again next pass)", region, outcome.expired().size(),
                    settings.confirmWithin());
        }
        for (Suspect s : outcome.ready()) {
            Suspect again = judge(s.ns(), s.entry().key(), () -> checks.confirm(s));
            if (again == SKIPPED) {
                continue;
            }
            if (again == null) {
                metrics.count(s.ns().name(), "cleared");
            } else {
                stale(again);
            }
        }
    }

    /** A confirmed stale entry: counted, healed (unless heal is off), logged and recorded in the audit stream. */
    private void stale(Suspect s) {
        Report r = s.report();
        String ns = s.ns().name();
        metrics.count(ns, SweepMetrics.result(r.finding()));
        boolean healed = settings.heal() && checks.heal(s.ns(), r, s.entry());
        if (healed) {
            metrics.count(ns, "healed");
        }
        // coordinates only: the report's detail may quote the row's payload (PAYLOAD_DIFFERS), which no log holds
        LOG.warn("region {}: the sweep confirmed {} at {} (namespace {}, entry version {}, row version {}); {}", region, r.finding(),
                r.key(), ns, r.entryVersion(), r.rowVersion() == null ? "unknown" : r.rowVersion(),
                healed
                        ? "healed (invalidated at the entry's version)"
                        : settings.heal()
                                ? "not healed (the entry changed before the invalidation)"
                                : "not healed (apply.sweep.heal is off)");
        Map<String, String> record = new LinkedHashMap<>();
        record.put("namespace", ns);
        record.put("key", r.key());
        record.put("served-version", r.entryVersion());
        record.put("db-version", r.finding() == Finding.ROW_GONE || r.finding() == Finding.DERIVED_ORPHAN
                ? "not-found"
                : r.rowVersion() == null ? "" : r.rowVersion());
        record.put("detected-at", Long.toString(clock.millis()));
        record.put("healed", healed ? "1" : "0");
        record.put("source", "sweep");
        record.put("region", region);
        record.put("finding", r.finding().name());
        try {
            checks.redis().auditStale(record);
        } catch (RedisException e) {
            LOG.warn("region {}: the audit record of stale entry {} could not be written: {}", region, r.key(), e.toString());
        }
    }

    /** Stops the sweep's thread (it closes its connections as it ends). */
    @Override
    public void close() {
        running = false;
        thread.interrupt();
        try {
            thread.join(Duration.ofSeconds(10).toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
