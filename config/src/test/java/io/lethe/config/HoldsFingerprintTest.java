package io.lethe.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * {@link NamespaceConfig#holdsFingerprint}, the {@code lethe.holds} stamp of upserts: it changes with what an
 * upsert writes (version source, payload columns, table, the row-scoped template that names its key), not
 * with what only invalidations or TTLs concern.
 */
class HoldsFingerprintTest {
    private static final String HEAD = """
            source: { jdbc-url: "jdbc:postgresql://127.0.0.1:5432/shop", user: lethe }
            kafka: { bootstrap-servers: "127.0.0.1:9092" }
            regions:
              us-east: { redis: "redis://127.0.0.1:6379" }
            namespaces:
            """;
    private static final String BASE = "  p: { table: public.p, primary-key: [id, sku], keys: [\"p:{id}\"], mode: upsert, payload-columns: [price]%s }\n";

    private static String of(String extra) {
        return of(BASE, extra);
    }

    private static String of(String namespace, String extra) {
        return ConfigLoader.parse("lethe.yml", HEAD + namespace.formatted(extra), name -> null).namespaces().get("p").holdsFingerprint();
    }

    @Test
    void whatAnUpsertWritesChangesItAndNothingElseDoes() {
        String base = of("");
        assertTrue(base.matches("[0-9a-f]{16}"), base);
        assertEquals(base, of(""), "the same file, the same stamp");
        assertNotEquals(base, of(", version: column:ver"), "another version source");
        assertNotEquals(base, of(BASE.replace("[price]", "[price, name]"), ""), "other payload columns");
        assertNotEquals(base, of(BASE.replace("public.p", "public.q"), ""), "another table");
        assertNotEquals(base, of(BASE.replace("p:{id}", "p:{sku}"), ""), "p:5 names another row: the same glob, another template");
        assertEquals(base, of(", patterns: [\"p:list:*\"]"), "a pattern only invalidates");
        assertEquals(base, of(", fence-ttl: 90s, ttl: 10m"), "how long fences and entries live is not what they hold");
    }
}
