package io.lethe.dev.verify;

import io.lethe.embedded.LetheStack;
import io.lethe.embedded.LetheYml;
import io.lethe.embedded.PostgresEndpoint;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;

/**
 * The verify run's data: items in groups. Three namespaces read it three ways: {@code item:{id}}
 * (row-scoped, LSN versions the reader cannot see), {@code itemv:{id}} (versioned by a column the
 * reader loads), and {@code group:{grp}:items} (derived from many rows: the sum of their values).
 */
final class VerifySchema {
    static final String DATABASE = "verify";
    static final int ITEMS = 400;
    static final int GROUPS = 16;

    private VerifySchema() {
    }

    static void create(LetheStack stack) throws SQLException {
        stack.createDatabase(DATABASE);
        PostgresEndpoint pg = stack.postgres();
        try (Connection c = DriverManager.getConnection(pg.jdbcUrl(DATABASE), pg.user(), pg.password());
                Statement s = c.createStatement()) {
            s.execute("CREATE TABLE items (id int PRIMARY KEY, grp int NOT NULL, val int NOT NULL, version int NOT NULL, "
                    + "updated_at timestamptz NOT NULL DEFAULT now())");
            s.execute("ALTER TABLE items REPLICA IDENTITY FULL");
            s.execute("INSERT INTO items SELECT i, i % " + GROUPS + ", i, 1 FROM generate_series(1, " + ITEMS + ") i");
        }
    }

    static String yaml(LetheStack stack, List<String> regions, PostgresEndpoint replica, int httpPort) {
        LetheYml yaml = LetheYml.on(stack, DATABASE).header("Written by `lethe verify`.").slot("lethe_verify").heartbeat("2s")
                .topicPrefix("verify").kafka("replication-factor: 1")
                .apply("replica-poll-interval: 100ms").apply("prober: { sample-every: 20, windows: [1s, 10s] }")
                // verify judges Lethe's guards under faults: a sweep would heal what a broken guard left before the judge sees it
                .apply("sweep: { enabled: false }")
                .namespaces("""
                        item:
                          table: public.items
                          keys: ["item:{id}"]
                        itemv:
                          table: public.items
                          keys: ["itemv:{id}"]
                          version: column:version
                        group:
                          table: public.items
                          keys: ["group:{grp}:items"]
                        """)
                .extra("http:\n  port: " + httpPort);
        for (String region : regions) {
            yaml.region(region, "{ redis: \"" + stack.redisUri(region) + "\", replica: \"" + replica.jdbcUrl(DATABASE) + "\" }");
        }
        return yaml.build();
    }
}
