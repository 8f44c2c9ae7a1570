package io.lethe.region.inspect;

import io.lethe.config.KeyTemplate;
import io.lethe.config.LetheConfig;
import io.lethe.config.NamespaceConfig;
import io.lethe.config.RegionConfig;
import io.lethe.region.RegionConsumerService;
import io.lethe.region.inspect.CacheInspector.Report;
import io.lethe.region.redis.RegionRedis;
import io.lethe.schemas.redis.AppliedLsn;
import io.lethe.schemas.redis.LuaScript;
import io.lethe.schemas.redis.RedisLayout;
import io.lettuce.core.RedisNoScriptException;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;
import java.util.concurrent.ThreadLocalRandom;

/**
 * What {@code lethe inspect} ({@link CacheInspector}, one pass) and the region's sweep
 * ({@link CacheSweep}, continuous) share: which keys a template's scan judges, the judgement of one
 * key against its row(s), the confirmation of a suspect once the region's applied watermark passed
 * the source's position, and the heal. One region's Redis connections and one database connection
 * (the reader role's), owned.
 */
final class KeyChecks implements AutoCloseable {
    private final LetheConfig config;
    private final RegionConfig region;
    private final RegionRedis redis;
    private final SourceRows rows;
    private final Judge judge;
    /** The namespaces inspected, in file order (or the order asked for). */
    private final List<NamespaceConfig> scanned;
    /** Every namespace whose keys the region may hold: a key is judged under each whose template renders it. */
    private final List<NamespaceConfig> receives;

    /**
     * @param namespaces  the namespaces to inspect; empty: every namespace the region caches
     * @param application what the database sessions are named ({@code application_name}), so a DBA
     *                    tells the sweep's queries from an operator's {@code lethe inspect}
     * @throws IllegalArgumentException for an unknown region or a namespace it does not cache
     * @throws IllegalStateException    when the region's Redis or the database cannot be reached
     */
    KeyChecks(LetheConfig config, String regionName, List<String> namespaces, boolean heal, String application) {
        this.config = config;
        this.region = config.regions().get(regionName);
        if (region == null) {
            throw new IllegalArgumentException(
                    "no region '" + regionName + "' in " + config.file() + "; regions: " + config.regions().keySet());
        }
        this.scanned = scanned(config, region, namespaces);
        List<String> cached = config.receives(region);
        this.receives = config.namespaces().values().stream().filter(ns -> cached.contains(ns.name())).toList();
        this.rows = new SourceRows(config.source(), region, application);
        this.judge = new Judge(rows, receives);
        RegionRedis opened = null;
        try {
            opened = new RegionRedis(region, 1, config.apply().commandTimeout());
            if (heal) {
                opened.loadScripts();
            }
        } catch (RuntimeException e) {
            // the sweep retries this constructor while Redis is down: nothing it opened may stay open
            if (opened != null) {
                opened.close();
            }
            rows.close();
            throw e;
        }
        this.redis = opened;
    }

    /** The namespaces named (or every one the region caches), refusing one it does not cache. */
    static List<NamespaceConfig> scanned(LetheConfig config, RegionConfig region, List<String> namespaces) {
        List<String> subscribed = region.namespaces().isEmpty() ? List.copyOf(config.namespaces().keySet()) : region.namespaces();
        List<NamespaceConfig> out = new ArrayList<>();
        for (String name : namespaces.isEmpty() ? subscribed : namespaces) {
            if (!subscribed.contains(name)) {
                throw new IllegalArgumentException(
                        "region " + region.name() + " does not cache namespace '" + name + "' (it caches " + subscribed + ")");
            }
            out.add(config.namespaces().get(name));
        }
        return List.copyOf(out);
    }

    RegionConfig region() {
        return region;
    }

    List<NamespaceConfig> scanned() {
        return scanned;
    }

    RegionRedis redis() {
        return redis;
    }

    /** Where the rows are read: "primary" or "replica". */
    String rowsFrom() {
        return rows.where();
    }

    /**
     * Whether {@code key}, found under {@code template}'s glob, is judged under it: a key
     * {@code template} renders (key format 2) unless a template scanned before renders it too; a key
     * only key format 1 renders (a value with a reserved character written as itself, from before
     * key format 2 or concatenated by hand, {@link KeyTemplate#mayHaveRendered}) unless a template of
     * the region renders it in format 2 or one scanned before could have rendered it in format 1.
     * The pipeline, on key format 2, never invalidates a format-1 key again: it is inspected all the same.
     *
     * @param before the templates that come before {@code template} in the order of {@link #scanned}:
     *               a key one of them matches is judged under that one (no set of every key seen:
     *               memory would grow with the cache)
     */
    boolean judgedUnder(KeyTemplate template, String key, List<KeyTemplate> before) {
        if (key.startsWith(RedisLayout.RESERVED_PREFIX)) {
            return false;
        }
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

    /** The key as Redis holds it now, judged under {@code template} (and every other that renders it); null when it is gone. */
    Suspect check(NamespaceConfig ns, KeyTemplate template, String key) throws SQLException {
        Entry entry = Entry.read(redis, key);
        return entry.gone() ? null : judge.judgeAll(ns, template, entry);
    }

    /** The primary's WAL position now, read after the rows of the suspects it is to confirm. */
    long position() throws SQLException {
        return rows.position();
    }

    /**
     * True once the region's applied watermark is at or past {@code position} (and, when rows come
     * from a replica, the replica's replay too): every change the rows read before it reflect was
     * applied in the region.
     */
    boolean watermarkReached(long position) throws SQLException {
        String key = AppliedLsn.key(RegionConsumerService.groupId(config, region.name()));
        OptionalLong applied = AppliedLsn.of(redis.hashCommands().hgetall(key));
        return applied.isPresent() && applied.getAsLong() >= position && rows.replayed() >= position;
    }

    /** Waits until {@link #watermarkReached}, for at most {@code within}. */
    boolean awaitWatermark(long position, Duration within) throws InterruptedException, SQLException {
        long deadline = System.nanoTime() + within.toNanos();
        while (!watermarkReached(position)) {
            if (System.nanoTime() >= deadline) {
                return false;
            }
            Thread.sleep(100);
        }
        return true;
    }

    /**
     * A suspect judged again once the watermark passed: the suspect as it is now when its entry is
     * unchanged and still stale (confirmed), or null when the entry changed, went, or now agrees
     * (a change that was in flight: cleared).
     */
    Suspect confirm(Suspect s) throws SQLException {
        Entry now = Entry.read(redis, s.entry().key());
        if (now.gone() || !now.sameValue(s.entry())) {
            return null;
        }
        Suspect again = judge.judge(s.ns(), s.template(), now);
        return again.report().finding().stale() ? again : null;
    }

    /**
     * invalidate.lua at the entry's version: the entry goes, a newer one written since stays. A
     * cached not-found, a derived key and a legacy entry carry no version of the row: those are
     * removed whatever is there (the script's delete-anyway argument, as for derived keys).
     *
     * @return true when the entry was deleted (false: it was gone, or a newer one was kept)
     */
    boolean heal(NamespaceConfig ns, Report report, Entry entry) {
        boolean anyway = report.finding() == Finding.NEGATIVE_BUT_ROW || report.finding() == Finding.DERIVED_ORPHAN || entry.legacy();
        List<String> args = new ArrayList<>(List.of(entry.version(), Long.toString(ns.fenceTtl().toMillis()),
                Long.toString(ThreadLocalRandom.current().nextLong(1, 1L << 40))));
        if (anyway) {
            args.add("1");
        }
        String[] keys = {entry.key(), RedisLayout.fenceKey(entry.key())};
        Object r;
        try {
            r = redis.evalshaSync(LuaScript.INVALIDATE, keys, args.toArray(String[]::new));
        } catch (RedisNoScriptException e) {
            // a Redis restarted or flushed since the scripts were loaded (the sweep runs for as long as the region)
            redis.loadScripts();
            r = redis.evalshaSync(LuaScript.INVALIDATE, keys, args.toArray(String[]::new));
        }
        return r instanceof Long l && l == 1L;
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
