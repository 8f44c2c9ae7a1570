package io.lethe.dev.verify.scenario;

import io.lethe.cache.CacheNamespace;
import io.lethe.cache.Codecs;
import io.lethe.cache.LetheCache;
import io.lethe.cache.Loaded;
import io.lethe.cache.Policy;
import io.lethe.embedded.PostgresEndpoint;
import io.lethe.schemas.redis.RedisLayout;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;

/**
 * A region whose readers refill from a read replica that applies WAL 2 s late
 * ({@code recovery_min_apply_delay}), with the replica gate on and no other writes (heartbeats
 * every minute). A standby replays a change record at once but holds it invisible until the
 * transaction's COMMIT record is applied 2 s later; a gate that compares the replica's replay
 * position with the change's LSN re-applies at once, and a reader that refills from the replica
 * right after that puts the old value back for good. The gate must wait for the commit LSN.
 */
final class ReplicaGateScenario implements Scenario {
    private static final Duration DELAY = Duration.ofSeconds(2);

    @Override
    public String name() {
        return "replica-gate";
    }

    @Override
    public String summary() {
        return "readers refill from a replica that applies WAL late; the gate must wait for the COMMIT";
    }

    @Override
    public void run(ScenarioRun run) throws Exception {
        PostgresEndpoint replica = run.stack().replica(DELAY);
        Items.create(run, 2);
        String region = run.regions().get(0);
        String replicaUrl = replica.jdbcUrl(run.jdbcUrl().substring(run.jdbcUrl().lastIndexOf('/') + 1));
        run.regionSettings(region, "replica: \"" + replicaUrl + "\"");
        run.heartbeatInterval("60s");
        run.start(run.config(Items.namespace(run, "")));
        run.secondJudge(); // lethe inspect over every region after the judge: a confirmed stale entry fails the scenario
        run.truth(key -> key.startsWith(run.p() + "item:") ? Items.truth(run).apply(key) : null);
        run.done("region %s gated on a replica that applies WAL late (recovery_min_apply_delay); heartbeats every 60 s", region);
        String key = run.p() + "item:1";
        // the replica of a shared stack may have been started with another delay; it shows this run's database once it replays its creation
        ScenarioRun.await("this run's database on the replica", Duration.ofSeconds(60), () -> {
            try (Connection c = DriverManager.getConnection(replicaUrl, replica.user(), replica.password())) {
                return true;
            } catch (java.sql.SQLException e) {
                return false;
            }
        });
        try (LetheCache cache = LetheCache.builder(run.stack().redisUri(region)).shadowReadsHeal(false).build();
                Connection fromReplica = DriverManager.getConnection(replicaUrl, replica.user(), replica.password())) {
            Duration delay = applyDelay(fromReplica);
            CacheNamespace<String> items = cache.namespace("item", Codecs.utf8(), Policy.eventual());
            PreparedStatement load = fromReplica.prepareStatement("SELECT val FROM items WHERE id = ?");
            ScenarioRun.await("item 1 on the replica", Duration.ofSeconds(60), () -> {
                try {
                    return value(load, 1) != null;
                } catch (IllegalStateException notYet) {
                    return false; // the replica has not replayed the table's creation yet
                }
            });
            items.get(key, k -> Loaded.of(value(load, 1)));
            run.sql("UPDATE items SET val = 'v1.1' WHERE id = 1");
            ScenarioRun.await("the invalidation of " + key, Duration.ofSeconds(60),
                    () -> run.redis(region).exists(RedisLayout.fenceKey(key)) == 1);
            run.done("item 1 cached from the replica; UPDATE items SET val = 'v1.1' WHERE id = 1 applied once");
            long until = System.nanoTime() + delay.plusSeconds(2).toNanos();
            int reads = 0;
            while (System.nanoTime() < until) {
                items.get(key, k -> Loaded.of(value(load, 1)));
                reads++;
                Thread.sleep(25);
            }
            run.done("a reader read item 1 %d times over %d s (the replica's delay + 2 s), refilling every miss from the replica", reads,
                    delay.plusSeconds(2).toSeconds());
        }
        run.quiesce();
    }

    /** The replica's recovery_min_apply_delay. */
    private static Duration applyDelay(Connection replica) throws java.sql.SQLException {
        try (var s = replica.createStatement();
                ResultSet rs = s.executeQuery("SELECT setting::bigint FROM pg_settings WHERE name = 'recovery_min_apply_delay'")) {
            rs.next();
            return Duration.ofMillis(rs.getLong(1));
        }
    }

    private static String value(PreparedStatement load, int id) {
        try {
            load.setInt(1, id);
            try (ResultSet rs = load.executeQuery()) {
                return rs.next() ? rs.getString(1) : null;
            }
        } catch (java.sql.SQLException e) {
            throw new IllegalStateException(e);
        }
    }
}
