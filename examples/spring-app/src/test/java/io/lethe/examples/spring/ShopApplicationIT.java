package io.lethe.examples.spring;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.lethe.embedded.LetheStack;
import io.lethe.embedded.PostgresEndpoint;
import io.lethe.embedded.junit.LetheStackExtension;
import io.lethe.embedded.junit.TestScope;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * The example application, as configured by its application.yml, against the embedded stack's
 * PostgreSQL and Redis: the second read of a product is served from Redis. (The pipeline's
 * invalidation of an UPDATE and @CacheEvict are shown by cli's SpringPipelineIT.)
 */
@ExtendWith(LetheStackExtension.class)
class ShopApplicationIT {

    @Test
    void theSecondReadOfAProductIsServedFromTheCache(LetheStack stack, TestScope scope) throws Exception {
        PostgresEndpoint pg = stack.postgres();
        String url = pg.jdbcUrl(scope.database());
        try (Connection c = DriverManager.getConnection(url, pg.user(), pg.password()); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE products (id int PRIMARY KEY, slug text)");
            s.execute("INSERT INTO products VALUES (1, 'lamp')");
        }
        try (ConfigurableApplicationContext app = new SpringApplicationBuilder(ShopApplication.class).web(WebApplicationType.NONE)
                // as command-line arguments: they override application.yml, as an operator's would
                .run("--shop.jdbc-url=" + url, "--shop.user=" + pg.user(), "--shop.password=" + pg.password(),
                        "--lethe.cache.redis=" + stack.redisUri("us-east"),
                        // this test's own key space on the shared Redis
                        "--lethe.cache.namespaces.product.key-template=" + scope.keyPrefix() + "product:{id}")) {
            ProductService products = app.getBean(ProductService.class);
            assertEquals("lamp", products.slug(1));
            assertEquals("lamp", products.slug(1));
            assertEquals(1, products.queries(), "one query: the second read came from Redis");
        }
    }
}
