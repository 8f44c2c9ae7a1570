package io.lethe.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lethe.config.ConfigLoader;
import io.lethe.config.LetheConfig;
import io.lethe.pipeline.Roles;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@code lethe run --role capture:<shard>}: one capture per shard, spelled like {@code region:<name>}. */
class CaptureShardRolesTest {
    private static final String YAML = """
            source:
              jdbc-url: jdbc:postgresql://127.0.0.1:5432/shop
              user: lethe
              %s
            kafka: { bootstrap-servers: "127.0.0.1:9092" }
            regions: { us-east: { redis: "redis://127.0.0.1:6379" } }
            namespaces:
              order: { table: public.orders, keys: ["order:{id}"] }
              product: { table: public.products, keys: ["product:{id}"] }
            """;

    private static LetheConfig config(String shards) {
        return ConfigLoader.parse("lethe.yml", YAML.formatted(shards), name -> null);
    }

    @Test
    void captureShardRolesRunTheirShardAndCaptureRunsEveryShard() {
        LetheConfig c = config("shards: { orders: { slot: s_orders, publication: p_orders, tables: [public.orders] }, "
                + "catalog: { slot: s_catalog, publication: p_catalog, tables: [public.products] } }");
        Roles one = Roles.parse(List.of("capture:orders,region:us-east"), c);
        assertTrue(one.capture());
        assertEquals(List.of("orders"), one.shardsOf(c));
        assertEquals("capture:orders,region:us-east", one.toString());
        assertEquals(List.of("orders", "catalog"), Roles.parse(List.of("capture"), c).shardsOf(c));
        assertEquals(List.of("orders", "catalog"), Roles.parse(List.of("capture:orders", "capture"), c).shardsOf(c));
        assertEquals(List.of("orders", "catalog"), Roles.all(c).shardsOf(c));
        assertEquals(List.of(), Roles.parse(List.of("streams"), c).shardsOf(c));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Roles.parse(List.of("capture:nope"), c));
        assertTrue(e.getMessage().contains("capture:orders") && e.getMessage().contains("capture:catalog"), e.getMessage());
    }

    @Test
    void withoutShardsThereIsNoShardRole() {
        LetheConfig c = config("slot: lethe");
        assertEquals(List.of(), Roles.parse(List.of("capture"), c).shardsOf(c));
        assertThrows(IllegalArgumentException.class, () -> Roles.parse(List.of("capture:orders"), c));
    }
}
