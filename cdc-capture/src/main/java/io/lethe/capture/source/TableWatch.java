package io.lethe.capture.source;

import io.lethe.capture.engine.CaptureMetrics;
import io.lethe.capture.source.Drift.Kind;
import io.lethe.config.LetheConfig;
import io.lethe.schemas.SourceHistory;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The source watch of {@code source.mode: debezium-topics}: the slot and the publication are the
 * connector's, but the configured tables are the application's, and DDL on them changes what
 * rows hold without a row change that any connector could decode (a column retyped or rewritten
 * with a {@code USING}, an enum label renamed, a name given to another column, a table re-created
 * or swapped, set UNLOGGED, partitions or inheriting tables attached or detached with rows). The
 * translator asks it before every watermark it publishes ({@link #check}): it reads the tables'
 * state from the catalog (one query, as capture's watch does) and compares it with the one it
 * relied on ({@link TableDrifts#since}, {@link SourceDrifts#tablesHiding}). Once the connector's
 * publication ({@code source.publication}) exists, it is watched as capture watches its own
 * ({@link SourceDrifts#since}, {@link SourceDrifts#connectorHiding}): dropped or made again, its
 * options changed, a table dropped from it (and added back), not in it, or published with a row
 * filter, a column list without a key column, or under its partitions' names. Every rewrite of a
 * plain table resets it (a connector may skip TRUNCATE: Debezium does by default), VACUUM FULL
 * and CLUSTER too, more than needed.
 *
 * <p>Every drift resets the namespaces of its tables, wholesale (this mode's resets delete
 * whatever is there: the connector's positions are not Lethe's), before the watermark; while a
 * condition hides changes (a table UNLOGGED, an inheriting table no namespace carries) they are
 * reset again every {@link SourceWatch#HIDDEN_RESET_INTERVAL} and no watermark is published. A check that
 * cannot read the catalog publishes no watermark either (lag grows; tokens read the database).
 *
 * <p>The state relied on is kept by a {@link StateKeeper} (this mode has no table of its own in the
 * source: the translator keeps it in Kafka) whenever it changes, after the resets it needed were
 * acknowledged; the first check of a translator compares with the state kept last, so DDL while
 * no translator ran is found as any other (a crash between the resets and the save finds it again).
 * With nothing kept yet (the first start), the state read then is the baseline.
 */
public final class TableWatch implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(TableWatch.class);

    private final LetheConfig config;
    private final MeterRegistry registry;
    private final Map<String, Counter> drifts = new ConcurrentHashMap<>();
    private final AtomicInteger hiddenCount = new AtomicInteger();
    private final WatchConnection connection;
    private SourceState relied;
    private List<Drift> hidden = List.of();
    private long hiddenResetNanos;
    private long lastFailureLogged = Long.MIN_VALUE;
    private long checkedAtNanos = Long.MIN_VALUE;
    /** A check failed before any read the state, and none was kept: what changed before the first read is unknown. */
    private boolean baselineMissed;
    private final StateKeeper keeper;
    /** Whether the kept state was read (the first check reads it). */
    private boolean loaded;
    /** The state as kept last ({@link SourceState#toJson()}), or null. */
    private String kept;
    private final Counter saveErrors;
    private boolean publicationMissingSaid;
    private final ConnectorSlot slot;
    /** The source's history the relied state was read in ({@link SourceHistory}), or null before the first check. */
    private String reliedHistory;
    private final Counter checkErrors;
    /** The kinds this watch can find. */
    private static final List<Kind> WATCHED = List.of(Kind.IDENTITY, Kind.PERSISTENCE, Kind.REWRITTEN, Kind.PARTITIONS,
            Kind.INHERITANCE, Kind.RETYPED, Kind.UNRECORDED, Kind.PUBLICATION, Kind.PUBLICATION_OPTIONS, Kind.MEMBERSHIP, Kind.ADDED,
            Kind.HISTORY, Kind.SLOT);

    public TableWatch(LetheConfig config, MeterRegistry registry, StateKeeper keeper) {
        this.config = config;
        this.keeper = keeper;
        this.slot = new ConnectorSlot(config);
        this.registry = registry;
        this.connection = new WatchConnection(config, "lethe-debezium-topics-table-watch");
        Gauge.builder(CaptureMetrics.SOURCE_HIDDEN, hiddenCount, AtomicInteger::get).tag("slot", config.source().slot())
                .description("conditions of the source that hide changes now; their namespaces are reset every 10 s").register(registry);
        // registered at 0, so that the first drift of a kind is an increase an alert sees
        for (Kind kind : WATCHED) {
            driftCounter(kind.tag());
        }
        this.checkErrors = Counter.builder(CaptureMetrics.ERRORS).tag("kind", "source-check")
                .description("checks of the configured tables that could not read the catalog").register(registry);
        this.saveErrors = Counter.builder(CaptureMetrics.ERRORS).tag("kind", "source-state-save")
                .description("saves of the configured tables' state that failed (tried again at the next check)").register(registry);
    }

    /**
     * What one check found: the tables whose namespaces must be reset now, whether a watermark may
     * be published, and what to rely on once the resets are acknowledged (the tables' state and the
     * source's history, {@link SourceHistory}).
     */
    public record Verdict(Set<String> reset, boolean vouches, SourceState next, String history) {
    }

    /** True while a condition of the tables hides changes, as the last check found. */
    public boolean hidesChanges() {
        return hiddenCount.get() > 0;
    }

    /** True when no check ran for {@code interval}. */
    public boolean due(Duration interval) {
        return checkedAtNanos == Long.MIN_VALUE || System.nanoTime() - checkedAtNanos >= interval.toNanos();
    }

    /** Reads the tables' state now and compares it with the state relied on. */
    public Verdict check() {
        long started = System.nanoTime();
        checkedAtNanos = started;
        try {
            Connection c = connection.get();
            if (!loaded) {
                load();
            }
            SourceState now = SourceState.read(connection.query(), config);
            String history = history(c);
            List<Drift> since;
            if (relied == null && baselineMissed) {
                // the translator ran before the catalog could be read: changes meanwhile are unknown
                since = List.of(new Drift(Kind.UNRECORDED, config.tables(), "the state the configured tables were in before "
                        + "this translator's first read is unknown (the catalog could not be read when it started, or the kept state "
                        + "could not be read): DDL before the first read is unknown", "", false));
            } else if (relied != null && relied.publication() != null) {
                // the connector's publication (source.publication) is watched as capture watches its own; once gone, its
                // drop was reported by the check that found it, and it stays hidden (held, reset every 10 s) until it is
                // made again, which is a drift of its own (the relied state keeps the publication last seen)
                boolean reported = now.publication() == null && hidden.stream().anyMatch(d -> d.kind() == Kind.PUBLICATION);
                since = reported ? List.of() : SourceDrifts.since(config, relied, now, SourceState.emptyLeaves(c), true);
            } else {
                since = TableDrifts.since(config, relied == null ? now : relied, now, SourceState.emptyLeaves(c), false, true);
            }
            if (reliedHistory != null && !reliedHistory.equals(history)) {
                // LSNs of two histories cannot be compared: entries cached with versions of the old one may be above every
                // version of the new one, so no change would ever remove them
                since = new ArrayList<>(since);
                since.add(0, new Drift(Kind.HISTORY, config.tables(), "the source's history changed (" + reliedHistory + " -> "
                        + history + "): a failover to an asynchronous standby, a restore or a blue/green switch; versions cached "
                        + "before cannot be compared with the new ones", "", false));
            }
            SourceState.Slot seenSlot = relied == null ? null : relied.slot();
            since = new ArrayList<>(since);
            since.addAll(slot.since(now.slot()));
            List<Drift> ongoing = now.publication() != null || (relied != null && relied.publication() != null)
                    ? SourceDrifts.connectorHiding(config, now)
                    : SourceDrifts.tablesHiding(config, now);
            Optional<Drift> slotHiding = slot.hiding(seenSlot, now.slot());
            if (slotHiding.isPresent()) {
                ongoing = new ArrayList<>(ongoing);
                ongoing.add(slotHiding.get());
            }
            if (now.publication() == null && !publicationMissingSaid) {
                publicationMissingSaid = true;
                LOG.warn("publication {} (source.publication: the connector's publication.name) does not exist: the tables' "
                        + "membership and the publication's options are not watched until it does", config.source().publication());
            }
            boolean fresh = ongoing.stream().anyMatch(d -> !hidden.contains(d));
            boolean again = !ongoing.isEmpty() && started - hiddenResetNanos >= SourceWatch.HIDDEN_RESET_INTERVAL.toNanos();
            Set<String> reset = new LinkedHashSet<>();
            since.forEach(d -> reset.addAll(d.tables()));
            for (Drift d : since) {
                drift(d.kind().tag());
                LOG.error("the source drifted ({}): {}; namespaces {} reset (source.mode debezium-topics: wholesale)", d.kind().tag(),
                        d.what(), SourceDrifts.namespaces(config, List.of(d)));
            }
            if (fresh || again) {
                hiddenResetNanos = started;
                for (Drift d : ongoing) {
                    reset.addAll(d.tables());
                    if (fresh && !hidden.contains(d)) {
                        drift(d.kind().tag());
                    }
                    LOG.error("the source hides changes ({}): {}; namespaces {} reset, again every {} s while it lasts, and no "
                            + "watermark is published. Fix: {}", d.kind().tag(), d.what(), SourceDrifts.namespaces(config, List.of(d)),
                            SourceWatch.HIDDEN_RESET_INTERVAL.toSeconds(), d.fix());
                }
            }
            hidden = List.copyOf(ongoing);
            hiddenCount.set(ongoing.size());
            SourceState next = relied == null ? now : ColumnDrifts.carry(relied, now);
            // the publication and the slot last seen stay relied on while they are gone: their coming back is a drift
            if (relied != null) {
                next = new SourceState(next.publication() != null ? next.publication() : relied.publication(), next.tables(),
                        next.slot() != null ? next.slot() : relied.slot());
            }
            return new Verdict(reset, ongoing.isEmpty(), next, history);
        } catch (SQLException | RuntimeException e) {
            close();
            checkErrors.increment();
            if (relied == null) {
                baselineMissed = true;
            }
            if (started - lastFailureLogged > TimeUnit.MINUTES.toNanos(1)) {
                lastFailureLogged = started;
                LOG.warn("cannot read the configured tables' state (from the source, or the state kept in Kafka) ({}); no watermark is "
                        + "published until it can",
                        e.getMessage());
            }
            return new Verdict(Set.of(), false, null, null);
        }
    }

    /**
     * The state kept last becomes the one relied on: the first check compares the tables with it.
     * A kept state that cannot be read is no baseline: every namespace is reset once.
     */
    private void load() {
        StateKeeper.Kept found = keeper.load();
        loaded = true;
        if (found.json().isEmpty()) {
            if (found.ranBefore()) {
                // a translator ran before and kept nothing (the record deleted, expired or unreadable, or kept under another
                // group; or the first start of a version that keeps it): what changed since is unknown
                LOG.error("no state of the configured tables was kept, yet a translator ran before: every namespace is reset once");
                baselineMissed = true;
            } else {
                LOG.info("no state of the configured tables was kept before (the first translator): the tables as read now are "
                        + "the baseline");
            }
            return;
        }
        kept = found.json().get();
        try {
            KeptState state = KeptState.fromJson(kept);
            relied = state.state();
            reliedHistory = state.history();
            baselineMissed = false;
            LOG.info("comparing the configured tables with the state the last translator kept");
        } catch (IllegalArgumentException e) {
            LOG.error("the kept state of the configured tables cannot be read ({}): DDL since it was kept is unknown", e.getMessage());
            baselineMissed = true;
        }
    }

    /**
     * Relies on what {@code verdict} read from now on: called once its resets are acknowledged, so
     * a drift whose resets were never published is found again by the next check. Keeps the state
     * when it changed; a save that fails is tried again at the next check (until it succeeds, the
     * next translator compares with the older state: it resets again what was reset, never less).
     */
    public void relyOn(Verdict verdict) {
        if (verdict.next() == null) {
            return;
        }
        relied = verdict.next();
        reliedHistory = verdict.history();
        String json = new KeptState(reliedHistory, relied).toJson();
        if (!json.equals(kept)) {
            try {
                keeper.save(json);
                kept = json;
            } catch (RuntimeException e) {
                saveErrors.increment();
                LOG.warn("cannot keep the configured tables' state ({}); trying again at the next check", e.getMessage());
            }
        }
    }

    /** The history of the source the watch is connected to: its system identifier and timeline. */
    private static String history(Connection c) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT " + SourceHistory.SQL)) {
            rs.next();
            return rs.getString(1);
        }
    }

    private void drift(String kind) {
        driftCounter(kind).increment();
    }

    private Counter driftCounter(String kind) {
        return drifts.computeIfAbsent(kind, k -> Counter.builder(CaptureMetrics.SOURCE_DRIFT).tag("slot", config.source().slot())
                .tag("kind", k).description("source drifts that hid changes; their tables' namespaces were reset").register(registry));
    }

    @Override
    public void close() {
        connection.close();
    }
}
