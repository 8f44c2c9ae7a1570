package io.lethe.region.inspect;

import io.lethe.config.KeyTemplate;
import io.lethe.config.LetheConfig;
import io.lethe.config.NamespaceConfig;
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
 *
 * <p>What a key's judgement, confirmation and heal are is {@link KeyChecks}, which the region's
 * continuous sweep ({@link CacheSweep}) shares.
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

    private final Options options;
    private final Clock clock;
    private final KeyChecks checks;

    /**
     * @throws IllegalArgumentException for an unknown region or a namespace it does not cache
     * @throws IllegalStateException    when the region's Redis or the database cannot be reached
     */
    public CacheInspector(LetheConfig config, String regionName, Options options, Clock clock) {
        this.options = options;
        this.clock = clock;
        this.checks = new KeyChecks(config, regionName, options.namespaces(), options.heal(), "lethe-inspect");
    }

    /** One pass over the region's keys, the confirmation of its suspects and, with heal, their invalidation. */
    public Summary run(Progress progress) throws InterruptedException, SQLException {
        Instant t0 = clock.instant();
        String region = checks.region().name();
        Map<String, Map<Finding, Long>> counts = new LinkedHashMap<>();
        checks.scanned().forEach(ns -> counts.put(ns.name(), new EnumMap<>(Finding.class)));
        List<Suspect> suspects = new ArrayList<>();
        // the templates scanned before this one: a key one of them matches was judged then
        List<KeyTemplate> before = new ArrayList<>();
        Pacer pacer = new Pacer(options.keysPerSecond(), System::nanoTime, Pacer.SLEEP);
        long count = 0;
        for (NamespaceConfig ns : checks.scanned()) {
            for (KeyTemplate template : ns.keys()) {
                ScanCursor cursor = ScanCursor.INITIAL;
                do {
                    KeyScanCursor<String> page = checks.redis().scan(cursor, template.glob(), 1000);
                    for (String key : page.getKeys()) {
                        if (!checks.judgedUnder(template, key, before)) {
                            continue;
                        }
                        pacer.await();
                        Suspect s = checks.check(ns, template, key);
                        if (s == null) {
                            continue;
                        }
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
            long position = checks.position();
            if (checks.awaitWatermark(position, options.confirmWithin())) {
                for (Suspect s : suspects) {
                    Suspect again = checks.confirm(s);
                    if (again != null) {
                        confirmed.add(again.report());
                        counts.computeIfAbsent(s.ns().name(), n -> new EnumMap<>(Finding.class)).merge(again.report().finding(), 1L,
                                Long::sum);
                        LOG.warn("inspect {}: confirmed {} at {} (namespace {}, entry version {}, row version {}): {}", region,
                                again.report().finding(), s.entry().key(), s.ns().name(), again.report().entryVersion(),
                                again.report().rowVersion(), again.report().detail());
                        if (options.heal()) {
                            checks.heal(s.ns(), again.report(), again.entry());
                            LOG.info("inspect {}: healed {} ({}, namespace {})", region, s.entry().key(), again.report().finding(),
                                    s.ns().name());
                            healed++;
                        }
                    } else {
                        cleared++;
                    }
                }
            } else {
                suspects.forEach(s -> unconfirmed.add(s.report()));
                LOG.warn("inspect {}: the applied watermark did not reach the source's position {} within {}: {} suspects unconfirmed",
                        region, position, options.confirmWithin(), suspects.size());
            }
        }
        return new Summary(counts, confirmed, unconfirmed, cleared, healed, count, checks.rowsFrom(),
                Duration.between(t0, clock.instant()));
    }

    @Override
    public void close() {
        checks.close();
    }
}
