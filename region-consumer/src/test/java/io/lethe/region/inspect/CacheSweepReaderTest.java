package io.lethe.region.inspect;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lethe.config.ConfigLoader;
import io.lethe.config.LetheConfig;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * The sweep runs only with a reader role: with {@code source.reader-user} unset it would log in as
 * {@code source.user}, capture's REPLICATION role (usually without a password), and every step of
 * every region would fail for ever. It says how to enable it instead.
 */
class CacheSweepReaderTest {

    private static LetheConfig config(String source) {
        return ConfigLoader.parse("unit.yml", """
                source: { jdbc-url: "jdbc:postgresql://127.0.0.1:5432/unused", user: lethe%s }
                kafka: { bootstrap-servers: "127.0.0.1:9" }
                regions:
                  us-east: { redis: "redis://127.0.0.1:6379" }
                namespaces:
                  item: { table: public.items, keys: ["item:{id}"] }
                """.formatted(source), name -> null);
    }

    @Test
    void withoutAReaderRoleTheSweepDoesNotRunAndSaysHowToEnableIt() {
        LetheConfig config = config("");
        assertTrue(config.apply().sweep().enabled(), "the shipped default");
        String why = CacheSweep.withoutReader(config, "us-east").orElseThrow();
        assertTrue(why.contains("source.reader-user") && why.contains("apply.sweep.enabled: false"), why);
    }

    @Test
    void withAReaderRoleTheSweepRuns() {
        assertEquals(Optional.empty(), CacheSweep.withoutReader(config(", reader-user: lethe_reader"), "us-east"));
    }
}
