package io.lethe.region.inspect;

import io.lethe.config.KeyTemplate;
import io.lethe.config.LetheConfig;
import io.lethe.config.Mode;
import io.lethe.config.NamespaceConfig;
import io.lethe.config.RegionConfig;
import io.lethe.region.RegionConsumerService;
import io.lethe.region.redis.RegionRedis;
import io.lethe.schemas.Versions;
import io.lethe.schemas.redis.AppliedLsn;
import io.lethe.schemas.redis.LuaScript;
import io.lethe.schemas.redis.RedisLayout;
import io.lettuce.core.KeyScanCursor;
import io.lettuce.core.KeyValue;
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
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.ThreadLocalRandom;
import java.util.regex.Pattern;
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
    private static final Pattern DECIMAL = Pattern.compile("[0-9]+");

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

    /** A suspect of the first pass, with the entry as it was then. */
    private record Suspect(NamespaceConfig ns, KeyTemplate template, Entry entry, Report report) {
    }

    private final LetheConfig config;
    private final RegionConfig region;
    private final Options options;
    private final Clock clock;
    private final RegionRedis redis;
    private final SourceRows rows;
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
            throw new IllegalArgumentException("no region '" + regionName + "' in " + config.file() + "; regions: " + config.regions().keySet());
        }
        this.options = options;
        this.clock = clock;
        List<String> cached = config.receives(region);
        config.namespaces().values().stream().filter(ns -> cached.contains(ns.name())).forEach(receives::add);
        List<String> subscribed = region.namespaces().isEmpty() ? List.copyOf(config.namespaces().keySet()) : region.namespaces();
        for (String name : options.namespaces().isEmpty() ? subscribed : options.namespaces()) {
            if (!subscribed.contains(name)) {
                throw new IllegalArgumentException("region " + region.name() + " does not cache namespace '" + name + "' (it caches " + subscribed + ")");
            }
            scanned.add(config.namespaces().get(name));
        }
        this.rows = new SourceRows(config.source(), region);
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
                        Entry entry = read(key);
                        if (entry.gone()) {
                            continue;
                        }
                        Suspect s = judgeAll(ns, template, entry);
                        if (s.report().finding().stale()) {
                            suspects.add(s);
                        } else {
                            counts.computeIfAbsent(s.ns().name(), n -> new EnumMap<>(Finding.class)).merge(s.report().finding(), 1L, Long::sum);
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
                    Entry now = read(s.entry().key());
                    Suspect again = now.gone() || !now.sameValue(s.entry()) ? null : judge(s.ns(), s.template(), now);
                    if (again != null && again.report().finding().stale()) {
                        confirmed.add(again.report());
                        counts.computeIfAbsent(s.ns().name(), n -> new EnumMap<>(Finding.class)).merge(again.report().finding(), 1L, Long::sum);
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

    /** The key as Redis holds it now, with its fence's version. */
    private Entry read(String key) {
        String kind = redis.keyCommands().type(key);
        List<KeyValue<String, String>> fenceFields = redis.hashCommands().hmget(RedisLayout.fenceKey(key), RedisLayout.FENCE_VERSION,
                RedisLayout.FENCE_FORCED);
        // a fence marked x (a namespace-wide delete, a derived key: version 2^64-1 or one that means nothing for this key) is
        // not compared with the entry's version: fill.lua accepts a fill after it when the counter did not move since the
        // miss, so an entry below it is no sign of a write after the invalidation (judged by its row alone)
        boolean forced = fenceFields.size() > 1 && fenceFields.get(1).hasValue();
        String fence = forced || fenceFields.isEmpty() || !fenceFields.get(0).hasValue() ? null : fenceFields.get(0).getValue();
        if (!"hash".equals(kind)) {
            return new Entry(key, kind, "0", null, false, fence);
        }
        Map<String, String> f = new LinkedHashMap<>();
        for (KeyValue<String, String> kv : redis.hashCommands().hmget(key, RedisLayout.ENTRY_VERSION, RedisLayout.ENTRY_DATA,
                RedisLayout.ENTRY_NOT_FOUND)) {
            if (kv.hasValue()) {
                f.put(kv.getKey(), kv.getValue());
            }
        }
        return new Entry(key, kind, f.getOrDefault(RedisLayout.ENTRY_VERSION, "0"), f.get(RedisLayout.ENTRY_DATA),
                "1".equals(f.get(RedisLayout.ENTRY_NOT_FOUND)), fence);
    }

    /**
     * Judges the key under the namespace it was scanned for and under every other namespace whose
     * template renders it: OK under any of them is OK (a key two namespaces' templates can render
     * is not stale because the other table has no such row).
     */
    private Suspect judgeAll(NamespaceConfig ns, KeyTemplate template, Entry entry) throws SQLException {
        Suspect first = judge(ns, template, entry);
        if (!first.report().finding().stale()) {
            return first;
        }
        boolean format1 = !template.matches(entry.key());
        for (NamespaceConfig other : receives) {
            for (KeyTemplate t : other.keys()) {
                if ((other != ns || t != template) && (format1 ? t.mayHaveRendered(entry.key()) : t.matches(entry.key()))) {
                    Suspect s = judge(other, t, entry);
                    if (!s.report().finding().stale()) {
                        return s;
                    }
                }
            }
        }
        return first;
    }

    /** One entry against the row(s) its key names under one template. */
    private Suspect judge(NamespaceConfig ns, KeyTemplate template, Entry e) throws SQLException {
        if (!e.versioned() && !e.legacy()) {
            return verdict(ns, template, e, Finding.NOT_AN_ENTRY, null, "a " + e.kind() + ", not a Lethe entry");
        }
        if (!DECIMAL.matcher(e.version()).matches()) {
            return verdict(ns, template, e, Finding.NOT_AN_ENTRY, null, "its v is not a decimal version");
        }
        boolean format1 = !template.matches(e.key());
        // a key only key format 1 renders: its values as written (format 2 escapes reserved characters, format 1 did not)
        Optional<Map<String, String>> values = format1 ? template.valuesAsWritten(e.key()) : template.values(e.key());
        if (values.isEmpty()) {
            return verdict(ns, template, e, Finding.UNJUDGED_VALUE, null, "the key parses more than one way under " + template
                    + (format1 ? " in key format 1" : ""));
        }
        Suspect byRow = judgeByRow(ns, template, e, values.get());
        if (format1) {
            byRow = inFormat1(byRow);
        }
        Finding f = byRow.report().finding();
        if ((f == Finding.OK || f == Finding.UNJUDGED_VALUE) && e.versioned() && e.fenceVersion() != null
                && DECIMAL.matcher(e.fenceVersion()).matches() && !"0".equals(Versions.canonical(e.version()))
                && Versions.compare(e.version(), e.fenceVersion()) < 0) {
            // invalidate.lua deletes an entry at or below the version it applies: this one was written after, and fill.lua refuses that
            return verdict(ns, template, e, Finding.INVALIDATED_AFTER_WRITE, byRow.report().rowVersion(),
                    "the fence records an invalidation at version " + e.fenceVersion() + ", above the entry's");
        }
        return byRow;
    }

    /** {@code s}, its detail saying that the key is of key format 1 (which the pipeline no longer invalidates). */
    private static Suspect inFormat1(Suspect s) {
        Report r = s.report();
        String note = "a key format 1 key (a value's reserved character not escaped): the pipeline no longer invalidates it";
        return new Suspect(s.ns(), s.template(), s.entry(), new Report(r.namespace(), r.key(), r.finding(), r.entryVersion(), r.rowVersion(),
                r.detail().isEmpty() ? note : r.detail() + "; " + note));
    }

    /** The judgement by the row(s) alone. */
    private Suspect judgeByRow(NamespaceConfig ns, KeyTemplate template, Entry e, Map<String, String> columns) throws SQLException {
        Optional<Map<String, String>> values = Optional.of(columns);
        Optional<SourceRows.Row> row = rows.find(ns, values.get());
        String rowVersion = row.map(SourceRows.Row::version).orElse(null);
        if (ns.isRowScoped(template)) {
            if (row.isEmpty()) {
                return e.notFound() ? verdict(ns, template, e, Finding.OK, null, "cached not-found, no row")
                        : verdict(ns, template, e, Finding.ROW_GONE, null, "no row has " + values.get());
            }
            if (e.notFound()) {
                return verdict(ns, template, e, Finding.NEGATIVE_BUT_ROW, rowVersion, "cached not-found, the row exists");
            }
            if (e.legacy()) {
                return verdict(ns, template, e, Finding.UNJUDGED_VALUE, rowVersion, "a legacy (string) entry has no version");
            }
            if (!ns.version().isLsn()) {
                if ("0".equals(Versions.canonical(e.version()))) {
                    return verdict(ns, template, e, Finding.UNJUDGED_VALUE, rowVersion, "filled with an unknown version");
                }
                if (rowVersion != null && DECIMAL.matcher(rowVersion).matches() && Versions.compare(e.version(), rowVersion) < 0) {
                    return verdict(ns, template, e, Finding.OLDER_VERSION, rowVersion, "the row is at version " + rowVersion);
                }
            }
            if (ns.mode() == Mode.UPSERT) {
                SourceRows.Row r = row.get();
                if (!r.payloadRenderable()) {
                    return verdict(ns, template, e, Finding.UNJUDGED_VALUE, rowVersion, "a payload column of a type the inspector does not render");
                }
                return SourceRows.samePayload(e.data(), r.payload()) ? verdict(ns, template, e, Finding.OK, rowVersion, "")
                        : verdict(ns, template, e, Finding.PAYLOAD_DIFFERS, rowVersion, "the row's payload is " + r.payload());
            }
            if (ns.version().isLsn()) {
                return verdict(ns, template, e, Finding.UNJUDGED_VALUE, rowVersion,
                        "an application-defined payload under lsn versions (shadow reads judge it)");
            }
            return verdict(ns, template, e, Finding.OK, rowVersion, "");
        }
        if (row.isEmpty()) {
            return e.notFound() ? verdict(ns, template, e, Finding.OK, null, "cached not-found, no row")
                    : verdict(ns, template, e, Finding.DERIVED_ORPHAN, null, "no row has " + values.get());
        }
        if (e.notFound()) {
            return verdict(ns, template, e, Finding.NEGATIVE_BUT_ROW, rowVersion, "cached not-found, a row has " + values.get());
        }
        return verdict(ns, template, e, Finding.UNJUDGED_VALUE, rowVersion, "a derived key's value");
    }

    private static Suspect verdict(NamespaceConfig ns, KeyTemplate template, Entry e, Finding f, String rowVersion, String detail) {
        return new Suspect(ns, template, e, new Report(ns.name(), e.key(), f, e.version(), rowVersion, detail));
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
