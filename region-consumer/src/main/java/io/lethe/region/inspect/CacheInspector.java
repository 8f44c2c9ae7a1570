package io.lethe.region.inspect;

import io.lethe.config.KeyTemplate;
import io.lethe.config.LetheConfig;
import io.lethe.config.NamespaceConfig;
import io.lethe.config.RegionConfig;
import io.lethe.region.RegionConsumerService;
import io.lethe.region.redis.RegionRedis;
import io.lethe.schemas.redis.AppliedLsn;
import io.lethe.schemas.redis.LuaScript;
import io.lethe.schemas.redis.RedisLayout;
import io.lettuce.core.KeyScanCursor;
import io.lettuce.core.ScanCursor;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.concurrent.ThreadLocalRandom;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code lethe inspect}: an fsck of one region's cache against PostgreSQL (docs/design.md,
 * "Inspecting a region's cache"). It scans the region's Redis for the keys of each namespace's
 * templates (never Lethe's own {@code lethe:} keys), maps each key back to its row(s) through the
 * template ({@link KeyTemplate#values}), reads the row(s) from the primary, or from the region's
 * replica when it has one ({@link SourceRows}), and judges the entry ({@link Finding}).
 *
 * <p>A change in flight makes a fresh cache disagree with the source for a moment, so a first
 * pass only finds suspects. The source's WAL position is read after the pass's last row; once the
 * region's applied watermark ({@link AppliedLsn}) reached it, every change those rows reflect was
 * applied in the region, and a suspect whose entry is unchanged and still judged stale is
 * <em>confirmed</em>. If the watermark does not get there within {@code confirmWithin}, the
 * suspects stay <em>unconfirmed</em>. With {@code heal}, each confirmed key is invalidated through
 * {@code invalidate.lua} at the entry's own version (a newer value written meanwhile stays), never
 * with a bare DEL that would race readers.
 *
 * <p>Cost: one SELECT per key (its columns compared as {@code col::text}), paced at
 * {@code keysPerSecond}, plus one SCAN page per thousand keys.
 */
public final class CacheInspector implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(CacheInspector.class);

    /** What to inspect and how fast. {@code namespaces} empty: every namespace the region caches. */
    public record Options(List<String> namespaces, int keysPerSecond, boolean heal, Duration confirmWithin) {
        public Options {
            namespaces = List.copyOf(namespaces);
            if (keysPerSecond < 1) {
                throw new IllegalArgumentException("--rate must be at least 1 key a second, was " + keysPerSecond);
            }
            if (confirmWithin.isNegative()) {
                throw new IllegalArgumentException("--confirm-within must not be negative, was " + confirmWithin);
            }
        }
    }

    /** One key's finding: the entry's version, the row's (for {@code column:} namespaces), and why. */
    public record Report(String namespace, String key, Finding finding, String entryVersion, String rowVersion, String detail) {
    }

    /**
     * A run's outcome. {@code counts}: per namespace, every key by its final finding (a stale
     * finding counted only once confirmed); {@code confirmed} and {@code unconfirmed}: the stale
     * keys; {@code cleared}: suspects whose entry changed or agreed with the source on re-check
     * (changes in flight); {@code healed}: confirmed keys invalidated.
     */
    public record Summary(Map<String, Map<Finding, Long>> counts, List<Report> confirmed, List<Report> unconfirmed, long cleared,
            long healed, long scanned, String rowsFrom, Duration took) {

        /** True when a stale finding other than the suspect {@link Finding#DERIVED_ORPHAN} was confirmed. */
        public boolean staleFound() {
            return confirmed.stream().anyMatch(r -> r.finding() != Finding.DERIVED_ORPHAN);
        }
    }

    /** Told every hundred keys, and once at the end of the first pass. */
    public interface Progress {
        void update(long scanned, long suspects, String namespace);
    }

    private final LetheConfig config;
    private final RegionConfig region;
    private final Options options;
    private final Clock clock;
    private final RegionRedis redis;
    private final SourceRows rows;
    private final Judge judge;
    private final List<NamespaceConfig> scanned = new ArrayList<>();
    /** Every namespace whose keys the region may hold: a key is judged under each whose template renders it. */
    private final List<NamespaceConfig> receives = new ArrayList<>();

    /**
     * @throws IllegalArgumentException for an unknown region or a namespace it does not cache
     * @throws IllegalStateException    when the region's Redis or the database cannot be reached
     */
    public CacheInspector(LetheConfig config, String regionName, Options options, Clock clock) {
        this.config = config;
        this.region = config.regions().get(regionName);
        if (region == null) {
            throw new IllegalArgumentException(
                    "no region '" + regionName + "' in " + config.file() + "; regions: " + config.regions().keySet());
        }
        this.options = options;
        this.clock = clock;
        List<String> cached = config.receives(region);
        config.namespaces().values().stream().filter(ns -> cached.contains(ns.name())).forEach(receives::add);
        List<String> subscribed = region.namespaces().isEmpty() ? List.copyOf(config.namespaces().keySet()) : region.namespaces();
        for (String name : options.namespaces().isEmpty() ? subscribed : options.namespaces()) {
            if (!subscribed.contains(name)) {
                throw new IllegalArgumentException(
                        "region " + region.name() + " does not cache namespace '" + name + "' (it caches " + subscribed + ")");
            }
            scanned.add(config.namespaces().get(name));
        }
        this.rows = new SourceRows(config.source(), region);
        this.judge = new Judge(rows, receives);
        try {
            this.redis = new RegionRedis(region, 1, config.apply().commandTimeout());
            if (options.heal()) {
                redis.loadScripts();
            }
        } catch (RuntimeException e) {
            rows.close();
            throw e;
        }
    }

    /** One pass over the region's keys, the confirmation of its suspects and, with heal, their invalidation. */
    public Summary run(Progress progress) throws InterruptedException, SQLException {
        Instant t0 = clock.instant();
        Map<String, Map<Finding, Long>> counts = new LinkedHashMap<>();
        scanned.forEach(ns -> counts.put(ns.name(), new EnumMap<>(Finding.class)));
        List<Suspect> suspects = new ArrayList<>();
        // the templates scanned before this one: a key one of them matches was judged then (no set of every key seen: memory would grow with the cache)
        List<KeyTemplate> before = new ArrayList<>();
        long nanosPerKey = 1_000_000_000L / options.keysPerSecond();
        long nextAt = System.nanoTime();
        long count = 0;
        for (NamespaceConfig ns : scanned) {
            for (KeyTemplate template : ns.keys()) {
                ScanCursor cursor = ScanCursor.INITIAL;
                do {
                    KeyScanCursor<String> page = redis.scan(cursor, template.glob(), 1000);
                    for (String key : page.getKeys()) {
                        if (key.startsWith(RedisLayout.RESERVED_PREFIX) || !judgedUnder(template, key, before)) {
                            continue;
                        }
                        long wait = nextAt - System.nanoTime();
                        if (wait > 0) {
                            Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
                        }
                        nextAt = Math.max(nextAt, System.nanoTime() - nanosPerKey) + nanosPerKey;
                        Entry entry = Entry.read(redis, key);
                        if (entry.gone()) {
                            continue;
                        }
                        Suspect s = judge.judgeAll(ns, template, entry);
                        if (s.report().finding().stale()) {
                            suspects.add(s);
                        } else {
                            counts.computeIfAbsent(s.ns().name(), n -> new EnumMap<>(Finding.class)).merge(s.report().finding(), 1L,
                                    Long::sum);
                        }
                        if (++count % 100 == 0) {
                            progress.update(count, suspects.size(), ns.name());
                        }
                    }
                    cursor = page;
                } while (!cursor.isFinished());
                before.add(template);
            }
        }
        progress.update(count, suspects.size(), "");
        List<Report> confirmed = new ArrayList<>();
        List<Report> unconfirmed = new ArrayList<>();
        long cleared = 0;
        long healed = 0;
        if (!suspects.isEmpty()) {
            long position = rows.position();
            if (awaitWatermark(position)) {
                for (Suspect s : suspects) {
                    Entry now = Entry.read(redis, s.entry().key());
                    Suspect again = now.gone() || !now.sameValue(s.entry()) ? null : judge.judge(s.ns(), s.template(), now);
                    if (again != null && again.report().finding().stale()) {
                        confirmed.add(again.report());
                        counts.computeIfAbsent(s.ns().name(), n -> new EnumMap<>(Finding.class)).merge(again.report().finding(), 1L,
                                Long::sum);
                        LOG.warn("inspect {}: confirmed {} at {} (namespace {}, entry version {}, row version {}): {}", region.name(),
                                again.report().finding(), s.entry().key(), s.ns().name(), again.report().entryVersion(),
                                again.report().rowVersion(), again.report().detail());
                        if (options.heal()) {
                            heal(s.ns(), again.report(), now);
                            healed++;
                        }
                    } else {
                        cleared++;
                    }
                }
            } else {
                suspects.forEach(s -> unconfirmed.add(s.report()));
                LOG.warn("inspect {}: the applied watermark did not reach the source's position {} within {}: {} suspects unconfirmed",
                        region.name(), position, options.confirmWithin(), suspects.size());
            }
        }
        return new Summary(counts, confirmed, unconfirmed, cleared, healed, count, rows.where(), Duration.between(t0, clock.instant()));
    }

    /**
     * Whether {@code key}, found under {@code template}'s glob, is judged under it now: a key
     * {@code template} renders (key format 2) unless a template scanned before renders it too; a key
     * only key format 1 renders (a value with a reserved character written as itself, from before
     * key format 2 or concatenated by hand, {@link KeyTemplate#mayHaveRendered}) unless a template of
     * the region renders it in format 2 or one scanned before could have rendered it in format 1.
     * The pipeline, on key format 2, never invalidates a format-1 key again: it is inspected all the same.
     */
    private boolean judgedUnder(KeyTemplate template, String key, List<KeyTemplate> before) {
        if (template.matches(key)) {
            return before.stream().noneMatch(t -> t.matches(key));
        }
        return template.mayHaveRendered(key) && !renderedInFormat2(key) && before.stream().noneMatch(t -> t.mayHaveRendered(key));
    }

    /** True when a template of a namespace the region receives renders {@code key} in key format 2. */
    private boolean renderedInFormat2(String key) {
        return receives.stream().anyMatch(ns -> ns.keys().stream().anyMatch(t -> t.matches(key)))
                || scanned.stream().anyMatch(ns -> ns.keys().stream().anyMatch(t -> t.matches(key)));
    }

    /**
     * Waits until the region's applied watermark is at or past {@code position} (and, when rows come
     * from a replica, the replica's replay too), for at most confirmWithin.
     */
    private boolean awaitWatermark(long position) throws InterruptedException, SQLException {
        String key = AppliedLsn.key(RegionConsumerService.groupId(config, region.name()));
        long deadline = System.nanoTime() + options.confirmWithin().toNanos();
        while (true) {
            OptionalLong applied = AppliedLsn.of(redis.hashCommands().hgetall(key));
            if (applied.isPresent() && applied.getAsLong() >= position && rows.replayed() >= position) {
                return true;
            }
            if (System.nanoTime() >= deadline) {
                return false;
            }
            Thread.sleep(100);
        }
    }

    /**
     * invalidate.lua at the entry's version: the entry goes, a newer one written since stays. A
     * cached not-found, a derived key and a legacy entry carry no version of the row: those are
     * removed whatever is there (the script's delete-anyway argument, as for derived keys).
     */
    private void heal(NamespaceConfig ns, Report report, Entry entry) {
        boolean anyway = report.finding() == Finding.NEGATIVE_BUT_ROW || report.finding() == Finding.DERIVED_ORPHAN || entry.legacy();
        List<String> args = new ArrayList<>(List.of(entry.version(), Long.toString(ns.fenceTtl().toMillis()),
                Long.toString(ThreadLocalRandom.current().nextLong(1, 1L << 40))));
        if (anyway) {
            args.add("1");
        }
        redis.evalshaSync(LuaScript.INVALIDATE, new String[] {entry.key(), RedisLayout.fenceKey(entry.key())}, args.toArray(String[]::new));
        LOG.info("inspect {}: healed {} ({}, namespace {})", region.name(), entry.key(), report.finding(), ns.name());
    }

    @Override
    public void close() {
        try {
            redis.close();
        } finally {
            rows.close();
        }
    }
}
