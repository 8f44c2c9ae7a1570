package io.lethe.examples.spring;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.cache.annotation.EnableCaching;

/**
 * A shop that caches product slugs in Lethe: {@link ProductService#slug} is a fenced
 * {@code @Cacheable}; an UPDATE of {@code products} in PostgreSQL removes its entry in every region
 * through the pipeline, with nothing in this application. Settings: application.yml.
 */
@SpringBootApplication
@EnableCaching
public class ShopApplication {
    public static void main(String[] args) {
        SpringApplication.run(ShopApplication.class, args);
    }
}
