package io.lethe.spring;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lethe.cache.Policy;
import io.lethe.config.ConfigLoader;
import io.lethe.config.LetheConfig;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** lethe.cache.namespaces.* → Policy and codec, and the errors that name the property. */
class LetheCacheAutoConfigurationTest {

    @Test
    void eachConsistencyMapsToItsPolicyWithTheNamespacesSettings() {
        LetheCacheProperties.Namespace ns = new LetheCacheProperties.Namespace();
        ns.setTtl(Duration.ofMinutes(5));
        ns.setNegativeTtl(Duration.ofSeconds(10));
        ns.setFenceTtl(Duration.ofSeconds(90));
        ns.setShadowReads(0);
        Policy eventual = LetheCacheAutoConfiguration.policy("product", ns);
        assertEquals(Policy.Consistency.EVENTUAL, eventual.consistency());
        assertEquals(Duration.ofMinutes(5), eventual.ttl());
        assertEquals(Duration.ofSeconds(10), eventual.negativeTtl());
        assertEquals(Duration.ofSeconds(90), eventual.fenceTtl());
        assertEquals(0, eventual.shadowReads());

        ns.setConsistency("BOUNDED");
        ns.setMaxAge(Duration.ofSeconds(5));
        Policy bounded = LetheCacheAutoConfiguration.policy("product", ns);
        assertEquals(Duration.ofSeconds(5), bounded.maxAge());

        ns.setConsistency("strong");
        assertEquals(Policy.Consistency.STRONG, LetheCacheAutoConfiguration.policy("product", ns).consistency());
    }

    @Test
    void aBadNamespaceSettingIsRefusedWithItsPropertyPath() {
        LetheCacheProperties.Namespace ns = new LetheCacheProperties.Namespace();
        ns.setConsistency("sometimes");
        IllegalArgumentException unknown = assertThrows(IllegalArgumentException.class,
                () -> LetheCacheAutoConfiguration.policy("product", ns));
        assertTrue(unknown.getMessage().startsWith("lethe.cache.namespaces.product.consistency: expected strong, bounded or eventual"),
                unknown.getMessage());

        ns.setConsistency("bounded");
        IllegalArgumentException noMaxAge = assertThrows(IllegalArgumentException.class,
                () -> LetheCacheAutoConfiguration.policy("product", ns));
        assertTrue(noMaxAge.getMessage().startsWith("lethe.cache.namespaces.product.max-age:"), noMaxAge.getMessage());

        ns.setConsistency("eventual");
        ns.setTtl(Duration.ofSeconds(-1));
        IllegalArgumentException negative = assertThrows(IllegalArgumentException.class,
                () -> LetheCacheAutoConfiguration.policy("product", ns));
        assertTrue(negative.getMessage().startsWith("lethe.cache.namespaces.product: ttl must be zero or positive"), negative.getMessage());
    }

    @Test
    void valuesAreJsonOfTheValueTypeOrJavaSerialized() {
        LetheCacheProperties.Namespace ns = new LetheCacheProperties.Namespace();
        var serialized = LetheCacheAutoConfiguration.codec("product", ns);
        assertEquals(java.util.List.of("a", 1L),
                serialized.decode(serialized.encode(new java.util.ArrayList<>(java.util.List.of("a", 1L)))));
        IllegalArgumentException notSerializable = assertThrows(IllegalArgumentException.class, () -> serialized.encode(new Object()));
        assertTrue(notSerializable.getMessage().contains("lethe.cache.namespaces.product.value-type"), notSerializable.getMessage());

        ns.setValueType(Item.class);
        var json = LetheCacheAutoConfiguration.codec("product", ns);
        assertEquals("{\"name\":\"x\"}", new String(json.encode(new Item("x")), java.nio.charset.StandardCharsets.UTF_8));
        assertEquals(new Item("x"), json.decode(json.encode(new Item("x"))));
    }

    @Test
    void namespacesTheConfigurationKnowsAreDeclaredWithWhatTheirEntriesHold() {
        LetheConfig config = ConfigLoader.parse("lethe.yml", """
                source: { jdbc-url: "jdbc:postgresql://127.0.0.1:5432/shop", user: lethe, slot: lethe, publication: lethe }
                kafka: { bootstrap-servers: "127.0.0.1:9092" }
                regions:
                  us-east: { redis: "redis://127.0.0.1:6379" }
                namespaces:
                  product: { table: public.products, keys: ["product:{id}"], version: "column:ver" }
                """, name -> null);
        assertEquals(java.util.List.of("table:public.products", "version:column:ver", "mode:DELETE", "key/v2:product:{id}"),
                LetheCacheAutoConfiguration.holds(config, "product"));
        assertEquals(null, LetheCacheAutoConfiguration.holds(config, "basket"), "a cache name of the application's own: not checked");
        assertEquals(null, LetheCacheAutoConfiguration.holds(null, "product"), "no lethe.cache.config: not checked");
    }

    record Item(String name) {
    }
}
