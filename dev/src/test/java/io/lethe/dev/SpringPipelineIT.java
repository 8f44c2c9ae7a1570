package io.lethe.dev;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.lethe.embedded.EmbeddedStack;
import io.lethe.embedded.PostgresEndpoint;
import io.lethe.embedded.junit.Await;
import io.lethe.embedded.junit.LetheStackExtension;
import io.lethe.embedded.junit.TestScope;
import io.lethe.pipeline.PipelineFixture;
import io.lethe.schemas.redis.RedisLayout;
import io.lettuce.core.api.sync.RedisCommands;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.cache.annotation.CacheEvict;
import org.springframework.cache.annotation.Cacheable;
import org.springframework.cache.annotation.EnableCaching;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Bean;

/**
 * The Spring starter against the whole pipeline: a {@code @Cacheable} method loads once, an UPDATE
 * in PostgreSQL invalidates its entry through CDC, and {@code @CacheEvict} purges through the
 * pipeline (lethe.cache.config).
 */
@ExtendWith(LetheStackExtension.class)
class SpringPipelineIT {
    @SpringBootConfiguration
    @EnableAutoConfiguration
    @EnableCaching
    static class App {
        @Bean
        Products products(org.springframework.core.env.Environment env) {
            return new Products(env.getProperty("test.jdbc-url"), env.getProperty("test.jdbc-user"), env.getProperty("test.jdbc-password"));
        }
    }

    /** Reached through Spring's proxy: state by methods only. */
    static class Products {
        private final AtomicInteger loads = new AtomicInteger();
        private final String url;
        private final String user;
        private final String password;

        Products(String url, String user, String password) {
            this.url = url;
            this.user = user;
            this.password = password;
        }

        @Cacheable(cacheNames = "product", sync = true)
        public String slug(int id) throws Exception {
            loads.incrementAndGet();
            try (Connection c = DriverManager.getConnection(url, user, password);
                    PreparedStatement s = c.prepareStatement("SELECT slug FROM products WHERE id = ?")) {
                s.setInt(1, id);
                try (ResultSet rs = s.executeQuery()) {
                    return rs.next() ? rs.getString(1) : null;
                }
            }
        }

        public int loads() {
            return loads.get();
        }

        @CacheEvict(cacheNames = "product")
        public void changedElsewhere(int id) {
        }
    }

    @Test
    void anUpdateInPostgresqlAndAnEvictBothReachTheCacheableEntryThroughThePipeline(EmbeddedStack stack, TestScope scope,
            @TempDir Path dir) throws Exception {
        try (PipelineFixture f = new PipelineFixture(stack, scope)) {
            String p = scope.keyPrefix();
            f.sql("CREATE TABLE products (id int PRIMARY KEY, slug text)", "ALTER TABLE products REPLICA IDENTITY FULL",
                    "INSERT INTO products VALUES (1, 'a')");
            String yaml = f.yaml(List.of("us-east"), "product: { table: public.products, keys: [\"" + p + "product:{id}\"] }",
                    "http: { port: 0 }");
            Path file = dir.resolve("lethe.yml");
            Files.writeString(file, yaml);
            f.start(f.config(yaml));
            PostgresEndpoint pg = stack.postgres();
            RedisCommands<String, String> redis = f.redis("us-east");
            String key = p + "product:1";
            try (ConfigurableApplicationContext context = new SpringApplicationBuilder(App.class).web(WebApplicationType.NONE).properties(
                    "lethe.cache.redis=" + stack.redisUri("us-east"),
                    "lethe.cache.config=" + file,
                    "lethe.cache.namespaces.product.shadow-reads=0",
                    "lethe.cache.namespaces.product.key-template=" + p + "product:{id}",
                    "test.jdbc-url=" + pg.jdbcUrl(scope.database()), "test.jdbc-user=" + pg.user(),
                    "test.jdbc-password=" + pg.password()).run()) {
                Products products = context.getBean(Products.class);

                assertEquals("a", products.slug(1));
                assertEquals("a", products.slug(1));
                assertEquals(1, products.loads(), "loaded once, then served from Redis");
                assertEquals(1, redis.exists(key));

                f.sql("UPDATE products SET slug = 'b' WHERE id = 1");
                Await.until("the UPDATE's invalidation in us-east", Duration.ofSeconds(60), () -> redis.exists(key) == 0);
                assertEquals("b", products.slug(1));
                assertEquals(2, products.loads());
                assertEquals("b", products.slug(1));
                assertEquals(2, products.loads());

                String fenceBefore = redis.hget(RedisLayout.fenceKey(key), RedisLayout.FENCE_COUNTER);
                products.changedElsewhere(1);
                Await.until("the evict's purge in us-east", Duration.ofSeconds(60),
                        () -> redis.exists(key) == 0 && !java.util.Objects.equals(fenceBefore,
                                redis.hget(RedisLayout.fenceKey(key), RedisLayout.FENCE_COUNTER)));
                assertEquals("b", products.slug(1));
                assertEquals(3, products.loads(), "loaded again after the purge");
            }
        }
    }
}
