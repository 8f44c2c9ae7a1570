package io.lethe.dev.verify.explore;

import io.lethe.cache.CacheNamespace;
import io.lethe.cache.Codecs;
import io.lethe.cache.LetheCache;
import io.lethe.cache.Loaded;
import io.lethe.cache.Loader;
import io.lethe.cache.Policy;
import io.lethe.dev.verify.explore.Program.Namespace;
import io.lethe.dev.verify.explore.Truth.Owner;
import java.sql.Array;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;

/**
 * The application's readers: a {@link LetheCache} per region (with a near cache and
 * read-your-writes tokens when the program says so), reading keys built from PostgreSQL's text
 * ({@link Truth}) and loading them with the same queries the judge uses. Steps read
 * synchronously; background readers in every region read all along, some loads slow.
 *
 * <p>It remembers every payload it loaded per region and key, so the judge can tell a stale entry
 * that holds a value a reader loaded before a change (a lost invalidation) from other staleness.
 */
final class Readers implements AutoCloseable {
    private static final int SAMPLE = 30;
    private static final int THREADS_PER_REGION = 2;

    private volatile Program program;
    private volatile Truth truth;
    private volatile Map<String, List<String>> holds;
    private final Map<String, LetheCache> caches = new LinkedHashMap<>();
    private final Map<String, Map<String, CacheNamespace<String>>> namespaces = new ConcurrentHashMap<>();
    private long seed;
    private int generation;
    private final ConnectionPool pool;
    private final Map<String, Set<String>> loaded = new ConcurrentHashMap<>();
    private final Map<String, Set<String>> readKeys = new ConcurrentHashMap<>();
    private final AtomicBoolean running = new AtomicBoolean();
    private final List<Thread> threads = new ArrayList<>();
    private final AtomicLong reads = new AtomicLong();
    private final AtomicLong errors = new AtomicLong();
    private final AtomicLong slowLoads = new AtomicLong();
    private volatile io.lethe.cache.ReadToken token;
    private volatile String lastError;

    /**
     * @param holds   namespace to what its entries hold under the program's lethe.yml ({@code NamespaceConfig.holdsRendered}):
     *                the readers declare it, as an application reading lethe.yml does, so a fill is refused while a
     *                region's Redis records other holds (a rollout in progress)
     * @param regions region name to its Redis URI
     * @param groups  region name to its consumer group (read-your-writes)
     * @param subscribed region name to the namespaces it caches
     */
    Readers(Program program, Truth truth, Map<String, List<String>> holds, Map<String, String> regions, Map<String, String> groups,
            Map<String, List<String>> subscribed, ConnectionPool pool) {
        this.program = program;
        this.truth = truth;
        this.holds = holds;
        this.pool = pool;
        for (var e : regions.entrySet()) {
            LetheCache.Builder b = LetheCache.builder(e.getValue()).shadowReadsHeal(false).connectWithin(Duration.ofSeconds(30));
            if (program.readers().nearCache()) {
                b.nearCache(5_000, Duration.ofMinutes(10));
            }
            if (program.readers().tokens()) {
                b.readYourWrites(groups.get(e.getKey()));
            }
            caches.put(e.getKey(), b.build());
        }
        define(subscribed);
    }

    private void define(Map<String, List<String>> subscribed) {
        for (var e : caches.entrySet()) {
            Map<String, CacheNamespace<String>> byName = new LinkedHashMap<>();
            for (Namespace ns : program.namespaces()) {
                if (subscribed.get(e.getKey()).contains(ns.name())) {
                    Policy p = Policy.eventual().withFenceTtl(Duration.parse("PT" + ns.fenceTtl().toUpperCase(java.util.Locale.ROOT)));
                    if (ns.negativeTtlMillis() > 0) {
                        p = p.withNegativeTtl(Duration.ofMillis(ns.negativeTtlMillis()));
                    }
                    byName.put(ns.name(), e.getValue().namespace(ns.name(), Codecs.utf8(), p, holds.get(ns.name())));
                }
            }
            namespaces.put(e.getKey(), byName);
        }
    }

    /**
     * The readers switch to another configuration's definitions (a {@link Step.Kind#CONFIG} rolls
     * them out while every stage is down): the background readers stop, the namespaces each region
     * caches and how their loads tag fills follow {@code newProgram}, and the background readers start
     * again. What they loaded and read so far stays remembered for the judge.
     */
    void reconfigure(Program newProgram, Truth newTruth, Map<String, List<String>> newHolds, Map<String, List<String>> subscribed)
            throws InterruptedException {
        boolean background = running.get();
        stop();
        program = newProgram;
        truth = newTruth;
        holds = newHolds;
        define(subscribed);
        if (background) {
            start(seed * 7 + ++generation);
        }
    }

    /** The writer's token after its last commit (read-your-writes reads carry it). */
    void token(io.lethe.cache.ReadToken t) {
        token = t;
    }

    long reads() {
        return reads.get();
    }

    long errors() {
        return errors.get();
    }

    long slowLoads() {
        return slowLoads.get();
    }

    String lastError() {
        return lastError;
    }

    /** A step's reads: the keys of the given rows of one template (or the pattern's list key) in one or every region. */
    void read(Step step) throws SQLException {
        Namespace ns = program.namespace(step.a()).orElseThrow();
        Owner owner = owner(step);
        if (owner == null) {
            return;
        }
        List<String> keys = keysOf(owner, step);
        for (String region : caches.keySet()) {
            if (step.region().equals("*") || regionIndex(region) == Integer.parseInt(step.region()) % caches.size()) {
                CacheNamespace<String> cn = namespaces.get(region).get(ns.name());
                if (cn == null) {
                    continue; // this region does not cache the namespace
                }
                for (String key : keys) {
                    get(region, cn, owner, key, false);
                }
            }
        }
    }

    /**
     * A {@link Step.Kind#CHECK} (everything committed before it already applied in every region):
     * the keys of its rows read through every region's cache that holds the namespace, each compared
     * with the database's answer read after it. Returns one line per stale read.
     */
    List<String> check(Step step) throws SQLException {
        Owner owner = owner(step);
        List<String> stale = new ArrayList<>();
        if (owner == null) {
            return stale;
        }
        List<String> keys = keysOf(owner, step);
        for (String region : caches.keySet()) {
            CacheNamespace<String> cn = namespaces.get(region).get(owner.ns().name());
            if (cn == null) {
                continue;
            }
            for (String key : keys) {
                String got;
                try {
                    got = cn.get(key, k -> {
                        try (ConnectionPool.Lease c = pool.lease()) {
                            Truth.Loaded l = truth.load(c.get(), owner, k);
                            return l.found() ? Loaded.of(l.payload()) : Loaded.notFound();
                        }
                    });
                } catch (RuntimeException e) {
                    stale.add(region + " " + key + ": read failed: " + e);
                    continue;
                }
                Truth.Loaded want;
                try (ConnectionPool.Lease c = pool.lease()) {
                    want = truth.load(c.get(), owner, key);
                }
                if (!Truth.samePayload(owner, got, want.payload())) {
                    stale.add(region + " " + key + ": " + compare(got, want.payload()).replaceFirst("^cached", "read"));
                }
            }
        }
        return stale;
    }

    private Owner owner(Step step) {
        Namespace ns = program.namespace(step.a()).orElseThrow();
        return step.b().equals("list")
                ? truth.ownersOf(ns.name()).stream().filter(o -> o.kind() == Truth.Kind.LIST).findFirst().orElse(null)
                : truth.owners().stream().filter(o -> o.ns() == ns && o.template() != null && o.template().tag().equals(step.b()))
                        .findFirst().orElse(null);
    }

    private List<String> keysOf(Owner owner, Step step) throws SQLException {
        List<String> keys = new ArrayList<>();
        try (ConnectionPool.Lease c = pool.lease(); PreparedStatement ps = c.get().prepareStatement(truth.keysOfRidsSql(owner))) {
            Array rids = c.get().createArrayOf("int4", step.rids().toArray());
            ps.setArray(1, rids);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    keys.add(rs.getString(1));
                }
            }
        }
        return keys;
    }

    private int regionIndex(String region) {
        return new ArrayList<>(caches.keySet()).indexOf(region);
    }

    private void get(String region, CacheNamespace<String> cn, Owner owner, String key, boolean withToken) {
        reads.incrementAndGet();
        readKeys.computeIfAbsent(region, r -> ConcurrentHashMap.newKeySet()).add(key);
        try {
            Loader<String> loader = k -> load(region, owner, k);
            io.lethe.cache.ReadToken t = token;
            if (withToken && t != null && t.lsn() > 0) {
                cn.get(key, loader, t);
            } else {
                cn.get(key, loader);
            }
        } catch (RuntimeException e) {
            errors.incrementAndGet();
            lastError = e.toString();
        }
    }

    private Loaded<String> load(String region, Owner owner, String key) throws Exception {
        Truth.Loaded l;
        // row keys of lsn namespaces: tagged with an LSN read while the row is locked, when the program says so
        boolean atLsn = owner.kind() == Truth.Kind.ROW && !owner.ns().columnVersion() && program.readers().lsnFills();
        try (ConnectionPool.Lease c = pool.lease()) {
            l = atLsn ? truth.loadAtLsn(c.get(), owner, key) : truth.load(c.get(), owner, key);
        }
        if (l.found()) {
            loaded.computeIfAbsent(region + '\0' + key, k -> ConcurrentHashMap.newKeySet()).add(l.payload());
        }
        Program.Readers r = program.readers();
        if (r.slowPercent() > 0 && ThreadLocalRandom.current().nextInt(100) < r.slowPercent()) {
            slowLoads.incrementAndGet();
            Thread.sleep(ThreadLocalRandom.current().nextInt(r.maxSlowMillis()));
        }
        if (!l.found()) {
            return Loaded.notFound();
        }
        // row keys of column-versioned namespaces carry the row's version, as a JPA reader would (and with lsnFills
        // those of lsn namespaces the LSN of their load)
        boolean versioned = owner.kind() == Truth.Kind.ROW && (owner.ns().columnVersion() || atLsn) && l.version() != null
                && l.version() >= 0;
        return versioned ? Loaded.of(l.payload(), l.version()) : Loaded.of(l.payload());
    }

    /** Whether some reader in {@code region} loaded {@code payload} for {@code key} at some point. */
    boolean loadedBefore(String region, String key, String payload) {
        Set<String> s = loaded.get(region + '\0' + key);
        return s != null && s.contains(payload);
    }

    /** Starts {@value #THREADS_PER_REGION} background readers per region. */
    void start(long seed) {
        this.seed = seed;
        running.set(true);
        int i = 0;
        for (String region : caches.keySet()) {
            for (int k = 0; k < THREADS_PER_REGION; k++) {
                long threadSeed = seed * 31 + i++;
                Thread t = new Thread(() -> background(region, new SplittableRandom(threadSeed)), "explore-reader-" + region + "-" + k);
                t.setDaemon(true);
                threads.add(t);
                t.start();
            }
        }
    }

    private void background(String region, SplittableRandom random) {
        Map<String, CacheNamespace<String>> mine = namespaces.get(region);
        List<Owner> owners = truth.owners().stream().filter(o -> mine.containsKey(o.ns().name())).toList();
        Map<Owner, List<String>> samples = new LinkedHashMap<>();
        Map<Owner, List<String>> ghosts = new LinkedHashMap<>();
        int n = 0;
        while (running.get() && !owners.isEmpty()) {
            Owner o = owners.get(random.nextInt(owners.size()));
            if (n++ % 40 == 0) {
                samples.clear();
            }
            try {
                List<String> keys = random.nextInt(10) < 3
                        ? ghosts.computeIfAbsent(o, this::ghostKeys)
                        : samples.computeIfAbsent(o, x -> sample(x));
                if (keys.isEmpty()) {
                    Thread.sleep(20);
                    continue;
                }
                String key = keys.get(random.nextInt(keys.size()));
                CacheNamespace<String> cn = mine.get(o.ns().name());
                if (o.kind() == Truth.Kind.LIST && cn == null) {
                    continue;
                }
                get(region, cn, o, key, program.readers().tokens() && random.nextInt(10) < 3);
                Thread.sleep(5 + random.nextInt(20));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } catch (RuntimeException e) {
                errors.incrementAndGet();
                lastError = e.toString();
            }
        }
    }

    private List<String> sample(Owner o) {
        return query(truth.sampleSql(o, SAMPLE), null);
    }

    private List<String> ghostKeys(Owner o) {
        List<String> keys = new ArrayList<>();
        String groups = o.kind() == Truth.Kind.GROUP ? truth.ghostGroupKeysSql(o) : null;
        if (groups != null) {
            keys.addAll(query(groups, null));
        }
        if (o.kind() != Truth.Kind.LIST) {
            List<Integer> rids = new ArrayList<>();
            for (int i = 0; i < 20; i++) {
                rids.add(1 + ThreadLocalRandom.current().nextInt(Math.max(2, program.table(o.ns().table()).rows() * 2)));
            }
            keys.addAll(query(truth.keysOfRidsSql(o), rids));
        }
        return keys;
    }

    private List<String> query(String sql, List<Integer> rids) {
        List<String> out = new ArrayList<>();
        try (ConnectionPool.Lease c = pool.lease(); PreparedStatement ps = c.get().prepareStatement(sql)) {
            if (rids != null) {
                ps.setArray(1, c.get().createArrayOf("int4", rids.toArray()));
            }
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(rs.getString(1));
                }
            }
        } catch (SQLException e) {
            errors.incrementAndGet();
            lastError = e.toString();
        }
        return out;
    }

    /** Stops the background readers and waits until their last reads (slow loads included) are done. */
    void stop() throws InterruptedException {
        running.set(false);
        for (Thread t : threads) {
            t.join(Duration.ofSeconds(60).toMillis());
        }
        threads.clear();
    }

    /**
     * After quiescence: every key the readers read, read again through each region's cache (near
     * cache included), compared with the database. Returns one line per stale read.
     */
    List<String> staleReads(Function<Owner, Map<String, String>> expected, int limit) {
        List<String> stale = new ArrayList<>();
        for (String region : caches.keySet()) {
            List<String> keys = new ArrayList<>(readKeys.getOrDefault(region, Set.of()));
            Collections.sort(keys);
            for (String key : keys.subList(0, Math.min(keys.size(), limit))) {
                Owner o = truth.owner(key);
                CacheNamespace<String> cn = o == null ? null : namespaces.get(region).get(o.ns().name());
                if (cn == null) {
                    continue;
                }
                try {
                    String got = cn.get(key, k -> {
                        try (ConnectionPool.Lease c = pool.lease()) {
                            Truth.Loaded l = truth.load(c.get(), o, k);
                            return l.found() ? Loaded.of(l.payload()) : Loaded.notFound();
                        }
                    });
                    String want = expected.apply(o).get(key);
                    if (!Truth.samePayload(o, got, want)) {
                        stale.add(region + " " + key + ": " + compare(got, want).replaceFirst("^cached", "read"));
                    }
                } catch (RuntimeException e) {
                    stale.add(region + " " + key + ": read failed: " + e);
                }
            }
        }
        return stale;
    }

    static String show(String s) {
        return s == null ? "no row" : "'" + (s.length() > 80 ? s.substring(0, 80) + "..." : s) + "'";
    }

    /** Both values, around where they first differ when they are long. */
    static String compare(String cached, String database) {
        if (cached == null || database == null || cached.length() <= 80 && database.length() <= 80) {
            return "cached " + show(cached) + ", database " + show(database);
        }
        int i = 0;
        while (i < cached.length() && i < database.length() && cached.charAt(i) == database.charAt(i)) {
            i++;
        }
        int from = Math.max(0, i - 20);
        return "cached '..." + cached.substring(from, Math.min(cached.length(), from + 60)) + "...', database '..."
                + database.substring(from, Math.min(database.length(), from + 60)) + "...' (from character " + from + ")";
    }

    @Override
    public void close() {
        running.set(false);
        caches.values().forEach(LetheCache::close);
    }
}
