package io.lethe.spring;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lethe.embedded.LetheStack;
import io.lethe.embedded.junit.LetheStackExtension;
import io.lethe.embedded.junit.TestScope;
import io.lethe.schemas.redis.LuaScript;
import io.lethe.schemas.redis.RedisLayout;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.api.sync.RedisCommands;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.cache.CacheManager;
import org.springframework.cache.annotation.CacheEvict;
import org.springframework.cache.annotation.CachePut;
import org.springframework.cache.annotation.Cacheable;
import org.springframework.cache.annotation.EnableCaching;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Bean;

/**
 * A real Spring Boot context (auto-configured from lethe.cache.*) over a real Redis; invalidations
 * are applied with invalidate.lua, as the region consumers apply the pipeline's.
 */
@ExtendWith(LetheStackExtension.class)
class LetheSpringCacheIT {
    private ConfigurableApplicationContext context;
    private Products products;
    private RedisClient client;
    private RedisCommands<String, String> redis;
    private String prefix;

    @SpringBootConfiguration
    @EnableAutoConfiguration
    @EnableCaching
    static class App {
        @Bean
        Products products() {
            return new Products();
        }
    }

    /** A repository-like bean: each method call is a database load. Reached through Spring's proxy: state by methods only. */
    static class Products {
        private final AtomicInteger loads = new AtomicInteger();
        private volatile String value = "v1";
        /** Runs inside the method, after it read {@link #value}: a change committed while it loads. */
        private volatile Runnable duringLoad = () -> {
        };

        public int loads() {
            return loads.get();
        }

        public void value(String v) {
            value = v;
        }

        public void duringLoad(Runnable r) {
            duringLoad = r;
        }

        @Cacheable(cacheNames = "product", sync = true)
        public String find(long id) {
            loads.incrementAndGet();
            return value;
        }

        @Cacheable(cacheNames = "product", sync = true)
        public java.util.concurrent.CompletableFuture<String> findAsync(long id) {
            loads.incrementAndGet();
            return java.util.concurrent.CompletableFuture.supplyAsync(() -> value);
        }

        @Cacheable(cacheNames = "product")
        public String findPlain(long id) {
            loads.incrementAndGet();
            String read = value;
            duringLoad.run();
            return read;
        }

        @CachePut(cacheNames = "product")
        public String update(long id) {
            return value;
        }

        @CacheEvict(cacheNames = "product")
        public void evict(long id) {
        }
    }

    @BeforeEach
    void start(LetheStack stack, TestScope scope) {
        prefix = scope.keyPrefix();
        client = RedisClient.create();
        redis = client.connect(RedisURI.create(stack.redisUri("us-east"))).sync();
        redis.scriptLoad(LuaScript.INVALIDATE.source());
        context = new SpringApplicationBuilder(App.class).web(WebApplicationType.NONE).properties(
                "lethe.cache.redis=" + stack.redisUri("us-east"),
                "lethe.cache.namespaces.product.consistency=eventual",
                "lethe.cache.namespaces.product.shadow-reads=0",
                "lethe.cache.namespaces.product.key-template=" + prefix + "product:{id}").run();
        products = context.getBean(Products.class);
    }

    @AfterEach
    void stop() {
        if (context != null) {
            context.close();
        }
        client.shutdown();
    }

    private void invalidate(String key) {
        redis.evalsha(LuaScript.INVALIDATE.sha1(), ScriptOutputType.INTEGER, new String[] {key, RedisLayout.fenceKey(key)},
                "100", "60000", "12345");
    }

    @Test
    void theAutoConfiguredManagerHasOneLetheCachePerNamespace() {
        CacheManager manager = context.getBean(CacheManager.class);
        assertInstanceOf(LetheCacheManager.class, manager);
        assertEquals(List.of("product"), new ArrayList<>(manager.getCacheNames()));
        assertInstanceOf(LetheSpringCache.class, manager.getCache("product"));
    }

    @Test
    void aSyncCacheableLoadsOnceForConcurrentCallersAndFillsRedis() throws Exception {
        ExecutorService callers = Executors.newFixedThreadPool(8);
        try {
            CountDownLatch go = new CountDownLatch(1);
            List<Future<String>> results = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                results.add(callers.submit(() -> {
                    go.await();
                    return products.find(1);
                }));
            }
            go.countDown();
            for (Future<String> r : results) {
                assertEquals("v1", r.get(30, TimeUnit.SECONDS));
            }
        } finally {
            callers.shutdownNow();
        }
        assertEquals("v1", products.find(1));
        assertEquals(1, products.loads(), "one load for every caller");
        assertEquals(1, redis.exists(prefix + "product:1"), "filled under the key template's key");
    }

    @Test
    void aSyncCacheableReturningAFutureLoadsOnceAndFills() throws Exception {
        assertEquals("v1", products.findAsync(6).get(30, TimeUnit.SECONDS));
        assertEquals("v1", products.findAsync(6).get(30, TimeUnit.SECONDS));
        assertEquals(1, products.loads());
        assertEquals(1, redis.exists(prefix + "product:6"));
    }

    @Test
    void aPlainCacheableLoadsOnceThenHits() {
        assertEquals("v1", products.findPlain(2));
        assertEquals("v1", products.findPlain(2));
        assertEquals(1, products.loads());
        assertEquals(1, redis.exists(prefix + "product:2"), "the put after the miss filled it");
    }

    @Test
    void aPlainCacheablesPutIsRefusedWhenItsKeyWasInvalidatedWhileTheMethodLoaded() {
        String key = prefix + "product:3";
        products.duringLoad(() -> {
            products.value("v2"); // the row changes after the method read it, and the pipeline invalidates the key
            invalidate(key);
        });
        assertEquals("v1", products.findPlain(3), "the caller gets what the method returned");
        assertEquals(0, redis.exists(key), "but the put of the value read before the invalidation is refused by the miss's fence");
        products.duringLoad(() -> {
        });
        assertEquals("v2", products.findPlain(3), "the next call loads the new value");
        assertEquals("v2", products.findPlain(3));
        assertEquals(2, products.loads());
    }

    @Test
    void aPlainCacheableInsideATransactionReturnsItsValueUncached() {
        // what a @Transactional caller's thread looks like to the cache: the method may read the transaction's own
        // uncommitted write, which a rollback leaves with no change for the pipeline to invalidate
        org.springframework.transaction.support.TransactionSynchronizationManager.setActualTransactionActive(true);
        try {
            assertEquals("v1", products.findPlain(7));
        } finally {
            org.springframework.transaction.support.TransactionSynchronizationManager.setActualTransactionActive(false);
        }
        assertEquals(0, redis.exists(prefix + "product:7"), "not written from inside a transaction");
        assertEquals("v1", products.findPlain(7));
        assertEquals(1, redis.exists(prefix + "product:7"), "outside one, the put after the miss fills it");
    }

    @Test
    void aStringKeyTheTemplateCouldNotHaveRenderedIsRefused() {
        CacheManager manager = context.getBean(CacheManager.class);
        IllegalArgumentException refused = assertThrows(IllegalArgumentException.class,
                () -> manager.getCache("product").get("product:42"));
        assertTrue(refused.getMessage().contains("no change of the row would ever invalidate it"), refused.getMessage());
        assertNull(manager.getCache("product").get(prefix + "product:42"), "a key the template renders is taken as it is");
    }

    @Test
    void aPutWithoutAMissIsRefusedAndSaysWhatToUse() {
        IllegalStateException refused = assertThrows(IllegalStateException.class, () -> products.update(4));
        assertTrue(refused.getMessage().contains("@Cacheable(sync = true)"), refused.getMessage());
        assertEquals(0, redis.exists(prefix + "product:4"));
    }

    @Test
    void evictWithoutLetheYmlAndClearAreRefused() {
        IllegalStateException evict = assertThrows(IllegalStateException.class, () -> products.evict(5));
        assertTrue(evict.getMessage().contains("lethe.cache.config"), evict.getMessage());
        UnsupportedOperationException clear = assertThrows(UnsupportedOperationException.class,
                () -> context.getBean(CacheManager.class).getCache("product").clear());
        assertTrue(clear.getMessage().contains("lethe invalidate"), clear.getMessage());
    }
}
