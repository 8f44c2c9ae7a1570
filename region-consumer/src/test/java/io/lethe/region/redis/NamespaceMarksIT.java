package io.lethe.region.redis;

import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lethe.embedded.LetheStack;
import io.lethe.embedded.junit.LetheStackExtension;
import io.lethe.embedded.junit.TestScope;
import io.lethe.schemas.redis.RedisLayout;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.api.sync.RedisCommands;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The namespace marks' scripts on a real Redis. */
@ExtendWith(LetheStackExtension.class)
class NamespaceMarksIT {
    private RedisClient client;
    private RedisCommands<String, String> redis;
    private NamespaceMarks marks;
    private TestScope scope;

    @BeforeEach
    void connect(LetheStack stack, TestScope scope) {
        this.scope = scope;
        client = RedisClient.create();
        redis = client.connect(RedisURI.create(stack.redisUri("us-east"))).sync();
        marks = new NamespaceMarks(redis, redis, redis);
    }

    @AfterEach
    void close() {
        client.shutdown();
    }

    /**
     * A reader compares the epoch its miss read with the one after its fill: equal means no namespace-wide or pattern
     * invalidation started meanwhile. An epoch key lost in between (evicted under an {@code allkeys-*} policy, deleted)
     * must not count again from 0 to a value a reader read before: its fill, landed after that invalidation's scan passed,
     * would be confirmed (failed first: expected: not equal but was: <1>).
     */
    @Test
    void anEpochNeverReturnsToAValueItHadAfterItsKeyIsLost() {
        String namespace = scope.key("product");
        String key = RedisLayout.epochKey(namespace);
        marks.incrementEpoch(namespace);
        String readByAMiss = redis.get(key);
        redis.del(key); // evicted
        marks.incrementEpoch(namespace);
        assertNotEquals(readByAMiss, redis.get(key));
        long before = Long.parseLong(redis.get(key));
        marks.incrementEpoch(namespace);
        assertTrue(Long.parseLong(redis.get(key)) > before, "and it still increases");
        assertTrue(redis.ttl(key) < 0, "without a TTL");
    }
}
