package io.lethe.examples.spring;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.concurrent.atomic.AtomicLong;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.cache.annotation.CacheEvict;
import org.springframework.cache.annotation.Cacheable;
import org.springframework.stereotype.Service;

/** Reads products from PostgreSQL through the "product" cache (the Lethe namespace of that name). */
@Service
public class ProductService {
    private final String url;
    private final String user;
    private final String password;
    private final AtomicLong queries = new AtomicLong();

    public ProductService(@Value("${shop.jdbc-url}") String url, @Value("${shop.user}") String user,
            @Value("${shop.password:}") String password) {
        this.url = url;
        this.user = user;
        this.password = password;
    }

    /** The product's slug; key {@code product:<id>} by the namespace's key template. */
    @Cacheable(cacheNames = "product", sync = true)
    public String slug(int id) throws SQLException {
        queries.incrementAndGet();
        try (Connection c = DriverManager.getConnection(url, user, password);
                PreparedStatement s = c.prepareStatement("SELECT slug FROM products WHERE id = ?")) {
            s.setInt(1, id);
            try (ResultSet rs = s.executeQuery()) {
                return rs.next() ? rs.getString(1) : null;
            }
        }
    }

    /** For a change PostgreSQL does not see (the pipeline sees every row change): a purge in every region. */
    @CacheEvict(cacheNames = "product")
    public void changedElsewhere(int id) {
    }

    /** Database queries so far. */
    public long queries() {
        return queries.get();
    }
}
