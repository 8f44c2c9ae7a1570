package io.lethe.schemas;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.junit.jupiter.api.Test;

/** A capture shard's watermark names its shard, through every stage, under the signature. */
class WatermarkShardTest {
    private static final byte[] KEY = "a-watermark-key-of-32-characters".getBytes(StandardCharsets.UTF_8);

    @Test
    void theShardTravelsWithTheWatermarkAndIsSigned() {
        Watermark w = new Watermark(1_000, 2_000, -1, "h", "orders");
        RecordHeaders headers = new RecordHeaders();
        w.from(4).writeTo(headers, KEY, "routes");
        Watermark read = Watermark.read(headers).orElseThrow();
        assertEquals("orders", read.shard());
        assertEquals(4, read.source());
        assertTrue(read.verifies(headers, KEY));
        // another shard's name over the same fields does not verify: a watermark cannot be moved to another shard
        RecordHeaders moved = new RecordHeaders();
        w.from(4).writeTo(moved, KEY, "routes");
        moved.remove(Watermark.SHARD);
        moved.add(Watermark.SHARD, "catalog".getBytes(StandardCharsets.UTF_8));
        assertFalse(Watermark.read(moved).orElseThrow().verifies(moved, KEY));
    }

    @Test
    void aSingleCapturesWatermarkIsWhatItWasBeforeShards() {
        Watermark single = new Watermark(1_000, 2_000, 3, "h");
        assertNull(single.shard());
        RecordHeaders headers = new RecordHeaders();
        single.writeTo(headers, KEY);
        assertNull(headers.lastHeader(Watermark.SHARD));
        assertEquals(single.signature(KEY), new Watermark(1_000, 2_000, 3, "h", null).signature(KEY));
        assertEquals(single.signature(KEY), single.ofShard(null).inHistory("h").signature(KEY));
    }
}
