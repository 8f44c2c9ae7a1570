package io.lethe.cli;

import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lethe.config.ConfigLoader;
import io.lethe.config.LetheConfig;
import io.lethe.region.apply.EventRules;
import io.lethe.schemas.Action;
import io.lethe.schemas.InvalidationEvent;
import io.lethe.schemas.Op;
import io.lethe.schemas.Scope;
import io.lethe.schemas.serde.EventJson;
import java.nio.charset.StandardCharsets;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;

/**
 * A purge request streams dead-lettered (its file lacked the namespace, a key's template) goes back to
 * the request topic once this configuration would route it, unsigned as its publisher wrote it:
 * streams judges it again.
 */
class DlqReplayRequestsTest {
    private static final LetheConfig CONFIG = ConfigLoader.parse("unit.yml", """
            source: { jdbc-url: "jdbc:postgresql://127.0.0.1:5432/unused", user: lethe }
            kafka: { bootstrap-servers: "127.0.0.1:9" }
            regions:
              us-east: { redis: "redis://127.0.0.1:6379" }
            namespaces:
              item: { table: public.items, keys: ["item:{id}"] }
            """, name -> null);
    private static final EventRules RULES = new EventRules(CONFIG.namespaces(), CONFIG.file(), CONFIG.apply().maxLsnLead());

    private static ConsumerRecord<byte[], byte[]> deadLetter(String key) {
        InvalidationEvent purge = new InvalidationEvent(InvalidationEvent.SCHEMA_ID, "manual:1", "item", Scope.ROW, key, null,
                Action.DELETE, null, "700", 700, null, 1, 1, 1, null, Op.MANUAL, null, null, null);
        return new ConsumerRecord<>("lethe.dlq", 0, 0, key.getBytes(StandardCharsets.UTF_8), EventJson.write(purge));
    }

    @Test
    void aPurgeRequestThisFileRoutesIsReplayedToTheRequestTopic() {
        assertNull(DlqCommand.Replay.untrusted(CONFIG, RULES, "lethe.invalidation-requests", deadLetter("item:1")));
    }

    @Test
    void aPurgeRequestThisFileRefusesIsNot() {
        String why = DlqCommand.Replay.untrusted(CONFIG, RULES, "lethe.invalidation-requests", deadLetter("order:1"));
        assertTrue(why != null && why.startsWith("refused (foreign-key)"), why);
    }
}
