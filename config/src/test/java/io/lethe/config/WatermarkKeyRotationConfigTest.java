package io.lethe.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lethe.schemas.RecordSignature;
import io.lethe.schemas.SigningKeys;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.junit.jupiter.api.Test;

/**
 * {@code streams.previous-watermark-key}, the key accepted during a rotation (docs/security.md):
 * it needs a current key, must differ from it and be as long; neither key is ever shown.
 */
class WatermarkKeyRotationConfigTest {
    private static final String OLD = "the-old-watermark-key-of-32-chars";
    private static final String NEW = "the-new-watermark-key-of-32-chars";
    private static final String YAML = """
            source: { jdbc-url: "jdbc:postgresql://127.0.0.1:5432/shop", user: lethe }
            kafka: { bootstrap-servers: "127.0.0.1:9092" }
            streams: { %s }
            regions:
              us-east: { redis: "redis://127.0.0.1:6379" }
            namespaces:
              price: { table: public.prices, keys: ["price:{id}"] }
            """;

    private static LetheConfig parse(String streams) {
        return ConfigLoader.parse("lethe.yml", YAML.formatted(streams), Map.of("OLD", OLD, "NEW", NEW, "SHORT", "too-short")::get);
    }

    @Test
    void bothKeysAreAcceptedOnlyTheCurrentSignsAndNeitherIsShown() {
        LetheConfig c = parse("watermark-key: \"${NEW}\", previous-watermark-key: \"${OLD}\"");
        assertEquals(OLD, c.streams().previousWatermarkKey().reveal());
        for (String text : new String[] {c.streams().toString(), c.toString(), c.streams().signingKeys().toString()}) {
            assertFalse(text.contains(OLD) || text.contains(NEW), "a key in " + text);
        }
        SigningKeys keys = c.streams().signingKeys();
        byte[] value = "{}".getBytes(StandardCharsets.UTF_8);
        for (String key : new String[] {OLD, NEW}) {
            RecordHeaders headers = new RecordHeaders();
            new RecordSignature(key.getBytes(StandardCharsets.UTF_8)).addTo(headers, "price:1", value);
            assertTrue(keys.verifies(headers, "price:1", value), "accepted: signed with " + (key.equals(OLD) ? "OLD" : "NEW"));
        }
        org.apache.kafka.common.header.Headers signed = keys.signer().addTo(new RecordHeaders(), "price:1", value);
        assertTrue(new RecordSignature(NEW.getBytes(StandardCharsets.UTF_8)).verifies(signed, "price:1", value),
                "signed with the current key");
        assertFalse(new RecordSignature(OLD.getBytes(StandardCharsets.UTF_8)).verifies(signed, "price:1", value),
                "never with the previous one");
        assertTrue(keys.acceptsPrevious());
        assertFalse(parse("watermark-key: \"${NEW}\"").streams().signingKeys().acceptsPrevious());
        assertNull(parse("threads: 1").streams().signingKeys(), "no key: nothing signed or verified");
    }

    @Test
    void aPreviousKeyEqualToTheCurrentOneIsAnErrorNamingFileAndPath() {
        ConfigException e = assertThrows(ConfigException.class,
                () -> parse("watermark-key: \"${NEW}\", previous-watermark-key: \"${NEW}\""));
        assertEquals(1, e.errors().size(), e.getMessage());
        assertEquals("streams.previous-watermark-key", e.errors().get(0).path());
        assertTrue(e.errors().get(0).problem().startsWith("must differ from watermark-key"), e.getMessage());
        assertTrue(e.getMessage().startsWith("lethe.yml:"), e.getMessage());
        assertFalse(e.getMessage().contains(NEW), "the key is not in the message: " + e.getMessage());
    }

    @Test
    void aPreviousKeyWithoutACurrentOneIsAnError() {
        ConfigException e = assertThrows(ConfigException.class, () -> parse("previous-watermark-key: \"${OLD}\""));
        assertEquals("streams.previous-watermark-key", e.errors().get(0).path(), e.getMessage());
        assertTrue(e.errors().get(0).problem().startsWith("is set without streams.watermark-key"), e.getMessage());
        assertTrue(e.getMessage().startsWith("lethe.yml:"), e.getMessage());
        assertFalse(e.getMessage().contains(OLD), e.getMessage());
    }

    @Test
    void aShortPreviousKeyIsAnError() {
        ConfigException e = assertThrows(ConfigException.class,
                () -> parse("watermark-key: \"${NEW}\", previous-watermark-key: \"${SHORT}\""));
        assertEquals("streams.previous-watermark-key", e.errors().get(0).path(), e.getMessage());
        assertTrue(e.errors().get(0).problem().startsWith("must be at least 16 characters"), e.getMessage());
        assertFalse(e.getMessage().contains("too-short"), e.getMessage());
    }
}
