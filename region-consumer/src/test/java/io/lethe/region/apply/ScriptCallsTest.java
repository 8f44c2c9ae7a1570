package io.lethe.region.apply;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.lethe.config.ConfigLoader;
import io.lethe.config.LetheConfig;
import io.lethe.region.redis.ScriptCall;
import io.lethe.schemas.Action;
import io.lethe.schemas.InvalidationEvent;
import io.lethe.schemas.Op;
import io.lethe.schemas.Scope;
import io.lethe.schemas.redis.LuaScript;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ScriptCallsTest {
    private static final LetheConfig CONFIG = ConfigLoader.parse("lethe.yml",
            """
                    source: { jdbc-url: "jdbc:postgresql://127.0.0.1:5432/shop", user: lethe, slot: lethe, publication: lethe }
                    kafka: { bootstrap-servers: "127.0.0.1:9092" }
                    regions:
                      eu-west: { redis: "redis://127.0.0.1:6380", namespaces: [products] }
                    namespaces:
                      products: { table: public.products, keys: ["product:{id}"], version: "column:version", fence-ttl: 60s }
                      prices: { table: public.prices, keys: ["price:{id}"], patterns: ["product:*"], mode: upsert, payload-columns: [price], fence-ttl: 8s }
                      orders: { table: public.orders, keys: ["order:{id}"], fence-ttl: 7s }
                    """,
            Map.<String, String>of()::get);

    private static InvalidationEvent event(String namespace, Scope scope, String key, String pattern, Action action) {
        return new InvalidationEvent(InvalidationEvent.SCHEMA_ID, "e", namespace, scope, key, pattern, action,
                action == Action.UPSERT ? "{\"price\":3}" : null, "3", 1, 1L, 1, 1, 1, null, Op.UPDATE, null, null);
    }

    @Test
    void aPatternDeletesWhateverIsThere() {
        // a price change's pattern reaches product:15, filled by a products reader at version 9: the pattern's
        // version 3 is another row's and cannot be compared with it (before: kept-newer, the old price served)
        ScriptCall call = new ScriptCalls(CONFIG.namespaces(), Set.of("products")).call(event("prices", Scope.PATTERN, null, "product:*",
                Action.DELETE), "product:15");
        assertEquals(LuaScript.INVALIDATE, call.script());
        assertEquals("1", call.args()[3], "force: delete whatever entry is there");
    }

    @Test
    void aFenceLastsTheLongestFenceTtlOfTheNamespacesThatMayHoldItsKey() {
        // prices' pattern reaches products' keys, whose readers load for up to 60 s: a 5 s fence would let them fill
        assertEquals(Map.of("products", Duration.ofSeconds(60), "prices", Duration.ofSeconds(60),
                "orders", Duration.ofSeconds(7)), ScriptCalls.fenceTtls(CONFIG.namespaces()));
        ScriptCall call = new ScriptCalls(CONFIG.namespaces(), Set.of("products", "prices"))
                .call(event("prices", Scope.ROW, "price:1", null,
                        Action.DELETE), "price:1");
        assertEquals("60000", call.args()[1]);
    }

    @Test
    void anUpsertOfANamespaceTheRegionDoesNotCacheIsADelete() {
        ScriptCall call = new ScriptCalls(CONFIG.namespaces(), Set.of("products")).call(event("prices", Scope.ROW, "price:1", null,
                Action.UPSERT), "price:1");
        assertEquals(LuaScript.INVALIDATE, call.script(), "never written where nobody reads it");
        ScriptCall cached = new ScriptCalls(CONFIG.namespaces(), Set.of("prices")).call(event("prices", Scope.ROW, "price:1", null,
                Action.UPSERT), "price:1");
        assertEquals(LuaScript.UPSERT, cached.script());
    }
}
