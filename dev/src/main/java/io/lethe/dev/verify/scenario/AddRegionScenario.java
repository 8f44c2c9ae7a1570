package io.lethe.dev.verify.scenario;

import io.lethe.cache.CacheNamespace;
import io.lethe.cache.Codecs;
import io.lethe.cache.LetheCache;
import io.lethe.cache.Loaded;
import io.lethe.cache.Policy;
import io.lethe.config.ConfigChanges;
import io.lethe.config.LetheConfig;
import io.lethe.pipeline.Pipeline;
import io.lethe.pipeline.Roles;
import io.lethe.region.RegionConsumerService;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;

/**
 * Regions added and moved on a running pipeline (issue 31), while a writer keeps updating rows and
 * readers read through cache-client in every region:
 * <ol>
 *   <li>a new region is added to the configuration (listed first in the file, so every other
 *       region moves down) and its consumer started; its Redis already holds entries, some of them
 *       stale (a region added on a Redis that readers filled before);</li>
 *   <li>an existing region's subscriptions change (a namespace added, another removed), rolled
 *       out by restarting streams with the new configuration, then that region.</li>
 * </ol>
 * Before each change {@code lethe config --check new --against running} ({@link ConfigChanges})
 * must say what moves: nothing for the added region (no other region's topic depends on it or on
 * the file's order), a move to another topic for the re-subscribed one. After quiescence the first
 * judge (keys parsed by the scenario, values from the database) and {@code lethe inspect} (the
 * second) must find nothing stale. Reported: the time until the new region is fed and first serves
 * from its cache, and the entries the move invalidated.
 */
final class AddRegionScenario implements Scenario {
    private static final int ITEMS = 100;
    private static final Duration FED_TIMEOUT = Duration.ofSeconds(120);

    @Override
    public String name() {
        return "add-region";
    }

    @Override
    public String summary() {
        return "a region added on a pre-filled Redis, another re-subscribed with a rolling restart, under writes and reads";
    }

    @Override
    public boolean fast() {
        return false; // readers and a writer for a minute or so: AddRegionIT runs it
    }

    @Override
    public void run(ScenarioRun run) throws Exception {
        if (run.regions().size() < 3) {
            throw new IllegalArgumentException("add-region needs 3 regions (two running, one added: lethe verify --regions 3), was given "
                    + run.regions());
        }
        String whole = run.regions().get(0);
        String moving = run.regions().get(1);
        String added = run.regions().get(2);
        Items.create(run, ITEMS);
        String namespaces = Items.namespace(run, "") + """
                label:
                  table: public.items
                  keys: ["%slabel:{id}"]
                """.formatted(run.p());
        run.configuredRegions(List.of(whole, moving));
        run.regionSettings(moving, "namespaces: [sentinel, item]");
        LetheConfig running = run.config(namespaces);
        run.truth(truth(run));

        run.start(running, new Roles(true, false, List.of()));
        Once streams = new Once(Pipeline.start(running, new Roles(false, true, List.of()), run.registry(), Clock.systemUTC()));
        run.own(streams);
        Map<String, RegionConsumerService> consumers = new LinkedHashMap<>();
        for (String region : List.of(whole, moving)) {
            consumers.put(region, start(run, running, region));
        }
        for (String region : List.of(whole, moving)) {
            ScenarioRun.await(region + "'s first feed", FED_TIMEOUT, consumers.get(region)::fed);
        }
        run.quiesce();

        Readers readers = run.own(new Readers(run));
        readers.start(whole, List.of("item", "label"));
        readers.start(moving, List.of("item"));
        Writer writer = run.own(new Writer(run));
        writer.start();
        ScenarioRun.await("the readers filling " + moving, Duration.ofSeconds(30), () -> readers.hits(moving) > 0);
        run.done("%s (every namespace) and %s (item) running; a writer updates rows while readers read through cache-client", whole,
                moving);

        // (1) a region added, listed first in lethe.yml, on a Redis readers filled before: some entries current, some stale
        Function<String, Optional<String>> truth = truth(run);
        int stale = 0;
        for (int id = 1; id <= 40; id++) {
            String key = run.p() + "item:" + id;
            String value = id <= 20 ? truth.apply(key).orElseThrow() : "stale-" + id;
            run.fill(added, key, "1", value);
            run.fill(added, run.p() + "label:" + id, "1", value);
            stale += id <= 20 ? 0 : 2;
        }
        run.configuredRegions(List.of(added, whole, moving));
        LetheConfig withAdded = run.config(namespaces);
        ConfigChanges check = ConfigChanges.between(running, withAdded);
        run.expect(!check.moves(), "lethe config --check: adding " + added + " (listed first) moves no region: " + check.lines());
        String addedLine = "region " + added + ": new; reads " + withAdded.topics().invalidations(added);
        run.expect(check.lines().stream().anyMatch(l -> l.startsWith(addedLine)), "lethe config --check says " + addedLine + ": "
                + check.lines());
        for (String region : List.of(whole, moving)) {
            run.expect(withAdded.topics().invalidations(region).equals(running.topics().invalidations(region)),
                    region + " keeps its topic whatever the order of regions in the file");
        }
        run.watch(withAdded);
        long t0 = System.nanoTime();
        consumers.put(added, start(run, withAdded, added));
        ScenarioRun.await(added + "'s first feed", FED_TIMEOUT, consumers.get(added)::fed);
        double fedAfter = (System.nanoTime() - t0) / 1e9;
        long left = countEntries(run, added);
        readers.start(added, List.of("item", "label"));
        ScenarioRun.await(added + " serving from its cache", Duration.ofSeconds(60), () -> readers.hits(added) > 0);
        double servesAfter = (System.nanoTime() - t0) / 1e9;
        run.expect(left == 0, added + "'s first feed leaves none of the 80 entries its Redis held (" + stale + " of them stale): " + left);
        run.done("lethe config --check before adding %s: %s", added, String.join("; ", check.lines()));
        run.done("%s added (listed first in lethe.yml): fed %.1f s after its consumer started, first served from its cache %.1f s "
                + "after; the %d entries its Redis held before (%d stale) invalidated wholesale, %d left", added, fedAfter, servesAfter,
                80, stale, left);

        // (2) a region's subscriptions changed: item removed, label added; streams restarted with it, then the region
        run.regionSettings(moving, "namespaces: [sentinel, label]");
        LetheConfig resubscribed = run.config(namespaces);
        ConfigChanges move = ConfigChanges.between(withAdded, resubscribed);
        String moveLine = "region " + moving + ": moves from " + withAdded.topics().invalidations(moving) + " to "
                + resubscribed.topics().invalidations(moving);
        run.expect(move.moves() && move.lines().stream().anyMatch(l -> l.startsWith(moveLine)),
                "lethe config --check says " + moveLine + ": " + move.lines());
        run.expect(
                move.lines().stream()
                        .noneMatch(l -> l.startsWith("region " + whole + ": moves") || l.startsWith("region " + added + ": moves")),
                "and moves no other region: " + move.lines());
        readers.stop(moving); // its application stops caching item there, and caches label once the region serves it
        long before = countEntries(run, moving);
        double movedBefore = topicMoves(run, moving);
        streams.close();
        streams = run.own(new Once(Pipeline.start(resubscribed, new Roles(false, true, List.of()), run.registry(), Clock.systemUTC())));
        consumers.get(moving).close();
        run.watch(resubscribed);
        t0 = System.nanoTime();
        RegionConsumerService moved = start(run, resubscribed, moving);
        ScenarioRun.await(moving + " fed from its new topic", FED_TIMEOUT,
                () -> moved.fed() && topicMoves(run, moving) > movedBefore);
        double movedAfter = (System.nanoTime() - t0) / 1e9;
        long after = countEntries(run, moving);
        readers.start(moving, List.of("label"));
        run.done("lethe config --check before re-subscribing %s: %s", moving, String.join("; ", move.lines()));
        run.done("%s re-subscribed (item removed, label added): streams then %s restarted, fed %.1f s after its consumer started; "
                + "%d entries before the move, %d after its wholesale invalidation", moving, moving, movedAfter, before, after);
        run.expect(after == 0, moving + "'s move invalidates every namespace it received before or receives now: " + after + " left");

        ScenarioRun.await("the readers filling " + moving + " again", Duration.ofSeconds(30), () -> readers.hits(moving) > 0);
        writer.close();
        readers.close();
        run.quiesce();
        run.done("writer: %d updates; reads: %s", writer.writes.get(), readers.summary());
        run.expect(readers.errors.isEmpty(), "readers and writer ran without errors: " + readers.errors);
        run.secondJudge();
    }

    private static RegionConsumerService start(ScenarioRun run, LetheConfig config, String region) {
        RegionConsumerService consumer = run.own(new RegionConsumerService(config, region, run.registry(), Clock.systemUTC()));
        consumer.start();
        return consumer;
    }

    private static double topicMoves(ScenarioRun run, String region) {
        return run.registry().find("lethe.region.topic.moves").tag("region", region).counters().stream()
                .mapToDouble(io.micrometer.core.instrument.Counter::count).sum();
    }

    /** Entries of the run's namespaces in {@code region}'s Redis (the sentinel's aside). */
    private static long countEntries(ScenarioRun run, String region) {
        return ScenarioRun.keys(run.redis(region), run.p() + "*").stream().filter(k -> !k.startsWith(run.p() + "sentinel:")).count();
    }

    /** The items' truth, and {@code label:{id}}: the row's val. */
    private static Function<String, Optional<String>> truth(ScenarioRun run) {
        Function<String, Optional<String>> items = Items.truth(run);
        String label = run.p() + "label:";
        return key -> {
            if (!key.startsWith(label)) {
                return items.apply(key);
            }
            try {
                return Optional
                        .ofNullable(run.query("SELECT val FROM items WHERE id = ?", Integer.parseInt(key.substring(label.length()))));
            } catch (java.sql.SQLException e) {
                throw new IllegalStateException("reading the database's value of " + key, e);
            }
        };
    }

    /** Closes its resource once, however often asked (owned by the run and closed early for a rolling restart). */
    private static final class Once implements AutoCloseable {
        private final AutoCloseable resource;
        private final AtomicBoolean closed = new AtomicBoolean();

        Once(AutoCloseable resource) {
            this.resource = resource;
        }

        @Override
        public void close() {
            if (closed.compareAndSet(false, true)) {
                try {
                    resource.close();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                } catch (Exception e) {
                    throw new IllegalStateException("closing " + resource, e);
                }
            }
        }
    }

    /** Single-row updates of random items ({@code w<seq>}), about 20 a second, until closed. */
    private static final class Writer implements AutoCloseable {
        private final ScenarioRun run;
        private final AtomicBoolean running = new AtomicBoolean(true);
        final AtomicLong writes = new AtomicLong();
        private Thread thread;

        Writer(ScenarioRun run) {
            this.run = run;
        }

        void start() {
            thread = new Thread(() -> {
                try (Connection c = run.connect(); PreparedStatement update = c.prepareStatement("UPDATE items SET val = ? WHERE id = ?")) {
                    while (running.get()) {
                        long seq = writes.incrementAndGet();
                        update.setString(1, "w" + seq);
                        update.setInt(2, 1 + ThreadLocalRandom.current().nextInt(ITEMS));
                        update.executeUpdate();
                        Thread.sleep(50); // pacing the load, not waiting for anything
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                } catch (Exception e) {
                    throw new IllegalStateException("the writer failed", e);
                }
            }, "add-region-writer");
            thread.start();
        }

        @Override
        public void close() {
            running.set(false);
            if (thread != null) {
                try {
                    thread.join(10_000);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        }
    }

    /** One reader thread per region through cache-client, each over the namespaces its application caches there. */
    private static final class Readers implements AutoCloseable {
        private final ScenarioRun run;
        private final Map<String, AtomicBoolean> running = new ConcurrentHashMap<>();
        private final Map<String, Thread> threads = new ConcurrentHashMap<>();
        private final Map<String, AtomicLong> hits = new ConcurrentHashMap<>();
        private final Map<String, AtomicLong> loads = new ConcurrentHashMap<>();
        final List<String> errors = java.util.Collections.synchronizedList(new ArrayList<>());

        Readers(ScenarioRun run) {
            this.run = run;
        }

        long hits(String region) {
            return hits.computeIfAbsent(region, r -> new AtomicLong()).get();
        }

        String summary() {
            StringBuilder out = new StringBuilder();
            loads.forEach((region, n) -> out.append(out.isEmpty() ? "" : ", ").append(region).append(' ').append(hits(region))
                    .append(" hits / ").append(n.get()).append(" loads"));
            return out.toString();
        }

        void start(String region, List<String> namespaces) {
            stop(region);
            AtomicBoolean on = new AtomicBoolean(true);
            running.put(region, on);
            AtomicLong hit = hits.computeIfAbsent(region, r -> new AtomicLong());
            AtomicLong load = loads.computeIfAbsent(region, r -> new AtomicLong());
            hit.set(0);
            Thread t = new Thread(() -> {
                try (LetheCache cache = LetheCache.builder(run.stack().redisUri(region)).shadowReadsHeal(false)
                        .meterRegistry(run.registry())
                        .build();
                        Connection c = run.connect();
                        PreparedStatement select = c.prepareStatement("SELECT val FROM items WHERE id = ?")) {
                    Map<String, CacheNamespace<String>> caches = new LinkedHashMap<>();
                    namespaces.forEach(ns -> caches.put(ns, cache.namespace(ns, Codecs.utf8(), Policy.eventual())));
                    while (on.get()) {
                        int id = 1 + ThreadLocalRandom.current().nextInt(ITEMS);
                        for (Map.Entry<String, CacheNamespace<String>> ns : caches.entrySet()) {
                            boolean[] loaded = {false};
                            ns.getValue().get(run.p() + ns.getKey() + ":" + id, k -> {
                                loaded[0] = true;
                                select.setInt(1, id);
                                try (ResultSet rs = select.executeQuery()) {
                                    return Loaded.of(rs.next() ? rs.getString(1) : null);
                                }
                            });
                            (loaded[0] ? load : hit).incrementAndGet();
                        }
                        Thread.sleep(5); // pacing the load on a shared machine
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                } catch (Exception e) {
                    errors.add(region + ": " + e);
                }
            }, "add-region-reader-" + region);
            threads.put(region, t);
            t.start();
        }

        void stop(String region) {
            AtomicBoolean on = running.remove(region);
            if (on != null) {
                on.set(false);
            }
            Thread t = threads.remove(region);
            if (t != null) {
                try {
                    t.join(10_000);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        }

        @Override
        public void close() {
            List.copyOf(running.keySet()).forEach(this::stop);
        }
    }
}
