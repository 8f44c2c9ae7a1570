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

    private static java.util.List<String> readerHolds(String namespace, String extra) {
        return ConfigLoader.parse("lethe.yml", HEAD + namespace.formatted(extra), name -> null).namespaces().get("p").readerHolds();
    }

    /**
     * What readers declare and a region records in {@code lethe:holds:<ns>} also changes with the keys: a reader on the
     * old file that fills p:5 with row id 5 after the region moved to p:{sku} fills a key no invalidation of that row
     * reaches, and a key of a template or pattern gone is never invalidated again.
     */
    @Test
    void whatReadersDeclareChangesWithTheKeysToo() {
        java.util.List<String> base = readerHolds(BASE, "");
        assertEquals(base, readerHolds(BASE, ""));
        assertNotEquals(base, readerHolds(BASE.replace("p:{id}", "p:{sku}"), ""), "the same glob, another row under p:5");
        assertNotEquals(base, readerHolds(BASE, ", patterns: [\"p:list:*\"]"), "a pattern added or gone");
        assertNotEquals(base, readerHolds(BASE, ", version: column:ver"), "another version source");
        assertEquals(base, readerHolds(BASE, ", fence-ttl: 90s, ttl: 10m"));
    }

    /**
     * Two files that list the same templates and patterns in another order hold the same entries: the record, the
     * readers' declaration and the upserts' stamp are equal (failed first: two instances on such files each took the
     * other's record for another, and rewrote it and invalidated the namespace wholesale in turn; a stamp that differed
     * turned every upsert into a delete).
     */
    @Test
    void theOrderOfTemplatesAndPatternsIsNotWhatEntriesHold() {
        String two = "  p: { table: public.p, primary-key: [id, sku], keys: [%s], mode: upsert, payload-columns: [price], "
                + "patterns: [%s] }\n";
        String ab = two.formatted("\"p:{id}\", \"p:sku:{sku}\"", "\"p:list:*\", \"p:all:*\"");
        String ba = two.formatted("\"p:sku:{sku}\", \"p:{id}\"", "\"p:all:*\", \"p:list:*\"");
        assertEquals(readerHolds(ab.replace("%", "%%"), ""), readerHolds(ba.replace("%", "%%"), ""));
        assertEquals(of(ab.replace("%", "%%"), ""), of(ba.replace("%", "%%"), ""));
    }
}
