package io.lethe.capture.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lethe.capture.mapping.ColumnProjection;
import io.lethe.config.ConfigLoader;
import io.lethe.config.LetheConfig;
import io.lethe.config.SourceConfig;
import java.util.Properties;
import org.junit.jupiter.api.Test;

/** What reaches Debezium from lethe.yml. */
class EnginePropertiesTest {
    private static final String YAML = """
            source:
              jdbc-url: "jdbc:postgresql://db.example:5432/shop?sslmode=verify-full&sslrootcert=/etc/lethe/ca.pem&ApplicationName=lethe"
              user: lethe
              debezium: { status.update.interval.ms: "5000" }
            kafka: { bootstrap-servers: "k:9092" }
            regions: { us-east: { redis: "redis://r:6379" } }
            namespaces:
              product: { table: public.products, keys: ["product:{id}"] }
            """;

    private static Properties properties() {
        LetheConfig config = ConfigLoader.parse("t.yml", YAML, name -> null);
        return EngineProperties.of(config, ColumnProjection.of(config), "SELECT 1");
    }

    @Test
    void jdbcUrlParametersReachDebeziumsConnectionsTheReplicationOneIncluded() {
        Properties p = properties();
        assertEquals("verify-full", p.getProperty("database.sslmode"));
        assertEquals("/etc/lethe/ca.pem", p.getProperty("database.sslrootcert"));
        assertEquals("lethe", p.getProperty("driver.ApplicationName"));
        assertEquals("db.example", p.getProperty("database.hostname"));
        assertEquals("shop", p.getProperty("database.dbname"));
    }

    @Test
    void sourceDebeziumPassesThroughAndEveryPropertyLetheSetsIsOneTheConfigRefuses() {
        Properties p = properties();
        assertEquals("5000", p.getProperty("status.update.interval.ms"));
        for (String name : p.stringPropertyNames()) {
            if (!name.equals("status.update.interval.ms")) {
                assertTrue(SourceConfig.isLetheOwned(name), name + " is set by Lethe but source.debezium could override it");
            }
        }
    }
}
