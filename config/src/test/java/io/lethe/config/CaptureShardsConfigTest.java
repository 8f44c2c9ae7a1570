package io.lethe.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class CaptureShardsConfigTest {
    private static final String SHARDED = """
            source:
              jdbc-url: jdbc:postgresql://127.0.0.1:5432/shop
              user: lethe
              shards:
                orders: { slot: lethe_orders, publication: lethe_orders, tables: [public.orders, public.order_lines] }
                catalog: { slot: lethe_catalog, publication: lethe_catalog, tables: [products] }
            kafka:
              bootstrap-servers: 127.0.0.1:9092
            regions:
              us-east: { redis: "redis://127.0.0.1:6379" }
            namespaces:
              order: { table: public.orders, keys: ["order:{id}"] }
              line: { table: public.order_lines, keys: ["line:{id}"] }
              product: { table: public.products, keys: ["product:{id}"] }
              product-page: { table: public.products, keys: ["product-page:{id}"] }
            """;

    private static LetheConfig parse(String yaml) {
        return ConfigLoader.parse("lethe.yml", yaml, Map.<String, String>of()::get);
    }

    private static Map<String, String> errors(String yaml) {
        ConfigException e = assertThrows(ConfigException.class, () -> parse(yaml));
        assertEquals("lethe.yml", e.file());
        Map<String, String> byPath = new HashMap<>();
        e.errors().forEach(err -> byPath.merge(err.path(), err.problem(), (a, b) -> a + " | " + b));
        return byPath;
    }

    @Test
    void eachShardViewCapturesItsOwnSlotPublicationAndNamespaces() {
        LetheConfig c = parse(SHARDED);
        assertTrue(c.source().sharded());
        assertEquals(List.of("catalog", "orders"), c.source().shardOrder(), "channels number the shards sorted, not in file order");
        LetheConfig orders = c.forShard("orders");
        assertEquals("lethe_orders", orders.source().slot());
        assertEquals("lethe_orders", orders.source().publication());
        assertEquals("orders", orders.source().shard());
        assertEquals(List.of("public.orders", "public.order_lines"), orders.tables());
        assertEquals(List.of("order", "line"), List.copyOf(orders.namespaces().keySet()));
        LetheConfig catalog = c.forShard("catalog");
        assertEquals(List.of("product", "product-page"), List.copyOf(catalog.namespaces().keySet()));
        assertEquals(c.topics().changes(), catalog.topics().changes(), "every shard publishes to the one changes topic");
        assertThrows(IllegalArgumentException.class, () -> c.forShard("nope"));
    }

    @Test
    void watermarkChannelsAreOnePerShardAndChangesPartitionAndStableWhenPartitionsGrow() {
        LetheConfig c = parse(SHARDED);
        assertEquals(2, c.shardCount());
        assertEquals(0, c.watermarkChannel("catalog", 0));
        assertEquals(1, c.watermarkChannel("orders", 0));
        assertEquals(6, c.watermarkChannel("catalog", 3));
        assertEquals(7, c.watermarkChannel("orders", 3));
        assertEquals(-1, c.watermarkChannel(null, 0), "a watermark without a shard is no configured shard's");
        assertEquals(-1, c.watermarkChannel("gone", 0));
        LetheConfig single = parse(SHARDED.replaceAll("(?s)  shards:.*?\\n(?=kafka:)", ""));
        assertFalse(single.source().sharded());
        assertEquals(1, single.shardCount());
        assertEquals(5, single.watermarkChannel(null, 5), "one capture: the channel is the changes partition, as before shards");
        assertEquals(-1, single.watermarkChannel("orders", 5));
        assertNull(single.source().shard());
    }

    @Test
    void everyTableInExactlyOneShardAndSlotsAndPublicationsDistinctEachErrorWithItsPath() {
        Map<String, String> e = errors(SHARDED
                .replace("tables: [products]", "tables: [products, public.orders, public.nothing]")
                .replace("publication: lethe_catalog", "publication: lethe_orders")
                .replace("slot: lethe_catalog", "slot: lethe_orders"));
        assertTrue(e.get("source.shards.catalog.slot").contains("shard orders's already"), e.toString());
        assertTrue(e.get("source.shards.catalog.publication").contains("shard orders's already"), e.toString());
        assertTrue(e.get("source.shards.catalog.tables[1]").contains("in shard orders already"), e.toString());
        assertTrue(e.get("source.shards.catalog.tables[2]").contains("not the table of any namespace"), e.toString());
        Map<String, String> missing = errors(SHARDED.replace("tables: [products]", "tables: [public.other]")
                .replace("  product-page:", "  other: { table: public.other, keys: [\"other:{id}\"] }\n  product-page:"));
        assertTrue(missing.get("source.shards").contains("table public.products (of namespace(s) [product, product-page]) is in no shard"),
                missing.toString());
    }

    @Test
    void aShardedSourceRefusesTheSingleSlotSettingsAndBadShards() {
        Map<String, String> e = errors(SHARDED.replace("  user: lethe\n", "  user: lethe\n  slot: lethe\n  publication: lethe\n")
                .replace("catalog: { slot: lethe_catalog, publication: lethe_catalog, tables: [products] }",
                        "Catalog: { slot: lethe_catalog, tables: [products], tabels: x }"));
        assertTrue(e.get("source.slot").contains("source.shards.<shard>.slot"), e.toString());
        assertTrue(e.get("source.publication").contains("source.shards.<shard>.publication"), e.toString());
        assertTrue(e.get("source.shards.Catalog").contains("shard names"), e.toString());
        assertTrue(e.get("source.shards.Catalog.publication").contains("is required"), e.toString());
        assertTrue(e.get("source.shards.Catalog.tabels").contains("unknown setting"), e.toString());
        Map<String, String> topics = errors(SHARDED.replace("  user: lethe\n", "  user: lethe\n  mode: debezium-topics\n"
                + "  debezium-topics: { topic-prefix: dbz }\n"));
        assertTrue(topics.get("source.shards").contains("mode debezium-topics"), topics.toString());
    }
}
