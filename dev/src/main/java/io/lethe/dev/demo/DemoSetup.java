package io.lethe.dev.demo;

import io.lethe.config.ConfigLoader;
import io.lethe.config.LetheConfig;
import io.lethe.embedded.LetheStack;
import io.lethe.embedded.LetheYml;
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
        String[] subscriptions = {"[product, category, price]", "[product, price]", "[product, category]"};
        LetheYml yaml = LetheYml.on(stack, settings.database())
                .header("Written by `lethe demo`; the embedded servers' ports change on every run.")
                .slot(settings.slot()).heartbeat("1s").topicPrefix(settings.topicPrefix()).kafka("replication-factor: 1")
                .namespaces("""
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
                        """)
                .extra("http:\n  port: 0");
        for (int i = 0; i < regions.size(); i++) {
            yaml.region(regions.get(i), "{ redis: " + stack.redisUri(regions.get(i)) + ", namespaces: "
                    + subscriptions[i % subscriptions.length] + " }");
        }
        return yaml.build();
    }

    public static LetheConfig writeConfig(Path file, String yaml) throws IOException {
        Files.createDirectories(file.getParent());
        Files.writeString(file, yaml);
        return ConfigLoader.parse(file.toString(), yaml, System::getenv);
    }
}
