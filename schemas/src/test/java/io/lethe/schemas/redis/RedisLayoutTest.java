package io.lethe.schemas.redis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import org.junit.jupiter.api.Test;

class RedisLayoutTest {

    @Test
    void fenceOfAPlainKeyUsesTheWholeKeyAsTag() {
        assertEquals("lethe:fence:{product:42}:product:42", RedisLayout.fenceKey("product:42"));
        assertEquals(RedisLayout.slot("product:42"), RedisLayout.slot(RedisLayout.fenceKey("product:42")));
    }

    @Test
    void fenceOfAKeyWithAHashTagUsesItsTag() {
        assertEquals("lethe:fence:{42}:customer:{42}:orders", RedisLayout.fenceKey("customer:{42}:orders"));
        assertEquals(RedisLayout.slot("customer:{42}:orders"), RedisLayout.slot(RedisLayout.fenceKey("customer:{42}:orders")));
    }

    @Test
    void hashTagRulesFollowRedisCluster() {
        assertEquals("a", RedisLayout.hashTag("{a}{b}"));
        assertNull(RedisLayout.hashTag("{}x"), "an empty tag is no tag");
        assertNull(RedisLayout.hashTag("no-tag"));
        assertEquals("b", RedisLayout.hashTag("x{b}y}"));
    }

    @Test
    void keysWithAClosingBraceButNoTagStillShareTheSlot() {
        for (String key : new String[] {"a}b", "{}x}", "weird}{", "}"}) {
            String fence = RedisLayout.fenceKey(key);
            assertEquals(RedisLayout.slot(key), RedisLayout.slot(fence), key + " -> " + fence);
        }
    }

    @Test
    void crc16MatchesTheRedisClusterSpecification() {
        // The reference value from the Redis Cluster specification: CRC16("123456789") = 0x31C3.
        assertEquals(0x31C3, RedisLayout.crc16("123456789".getBytes(java.nio.charset.StandardCharsets.US_ASCII)));
        assertEquals(12182, RedisLayout.slot("foo"), "CLUSTER KEYSLOT foo");
    }
}
