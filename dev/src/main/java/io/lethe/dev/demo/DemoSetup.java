package io.lethe.dev.demo;

import io.lethe.config.ConfigLoader;
import io.lethe.config.LetheConfig;
import io.lethe.embedded.LetheStack;
import io.lethe.embedded.PostgresEndpoint;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;

/**
 * The demo's shop: a products table and a {@code lethe.yml} over it with three kinds of
 * namespaces (row-scoped keys by LSN, a derived key, and an upsert namespace versioned by a
 * column), and regions that subscribe to different namespaces.
 */
public final class DemoSetup {
    public static final int PRODUCTS = 1000;
    public static final int CATEGORIES = 20;

    private DemoSetup() {
    }

    public static void createSchema(LetheStack stack, String database) throws SQLException {
        stack.createDatabase(database);
        PostgresEndpoint pg = stack.postgres();
        try (Connection c = DriverManager.getConnection(pg.jdbcUrl(database), pg.user(), pg.password());
             Statement s = c.createStatement()) {
            s.execute("""
                    CREATE TABLE IF NOT EXISTS products (
                      id int PRIMARY KEY,
                      slug text NOT NULL UNIQUE,
                      name text NOT NULL,
                      price int NOT NULL,
                      category_id int NOT NULL,
                      version int NOT NULL DEFAULT 1)""");
            // slug and category_id are in key templates but not in the primary key: updates must
            // carry the old row so the old keys can be invalidated.
            s.execute("ALTER TABLE products REPLICA IDENTITY FULL");
            s.execute("TRUNCATE products");
            s.execute("INSERT INTO products (id, slug, name, price, category_id) "
                    + "SELECT i, 'p-' || i, 'Product ' || i, 100 + i % 900, i % " + CATEGORIES
                    + " FROM generate_series(1, " + PRODUCTS + ") i");
        }
    }

    /** The demo's configuration for the given regions (the first three subscribe to different namespaces). */
    public static String yaml(LetheStack stack, Demo.Settings settings) {
        List<String> regions = settings.regions();
        PostgresEndpoint pg = stack.postgres();
        StringBuilder regionYaml = new StringBuilder();
        String[] subscriptions = {"[product, category, price]", "[product, price]", "[product, category]"};
        for (int i = 0; i < regions.size(); i++) {
            regionYaml.append("  ").append(regions.get(i)).append(": { redis: ").append(stack.redisUri(regions.get(i)))
                    .append(", namespaces: ").append(subscriptions[i % subscriptions.length]).append(" }\n");
        }
        return """
                # Written by `lethe demo`; the embedded servers' ports change on every run.
                source:
                  jdbc-url: %s
                  user: %s
                  slot: %s
                  publication: %s
                  heartbeat-interval: 1s
                kafka:
                  bootstrap-servers: %s
                  topic-prefix: %s
                  partitions: 3
                  replication-factor: 1
                streams:
                  application-id: %s-streams
                apply:
                  group-prefix: %s-region-
                regions:
                %snamespaces:
                  product:
                    table: public.products
                    keys: ["product:{id}", "product:slug:{slug}"]
                    version: lsn
                  category:
                    table: public.products
                    keys: ["category:{category_id}:products"]
                  price:
                    table: public.products
                    keys: ["price:{id}"]
                    mode: upsert
                    payload-columns: [price, version]
                    version: column:version
                    ttl: 10m
                http:
                  port: 0
                """.formatted(pg.jdbcUrl(settings.database()), pg.user(), settings.slot(), settings.slot(),
                stack.kafkaBootstrapServers(), settings.topicPrefix(), settings.topicPrefix(), settings.topicPrefix(), regionYaml);
    }

    public static LetheConfig writeConfig(Path file, String yaml) throws IOException {
        Files.createDirectories(file.getParent());
        Files.writeString(file, yaml);
        return ConfigLoader.parse(file.toString(), yaml, System::getenv);
    }
}
