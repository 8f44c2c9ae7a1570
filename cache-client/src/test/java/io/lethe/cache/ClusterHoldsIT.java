package io.lethe.cache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import io.lethe.embedded.LetheStack;
import io.lethe.embedded.junit.LetheStackExtension;
import io.lethe.embedded.junit.TestScope;
import io.lethe.schemas.redis.RedisLayout;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.api.sync.RedisCommands;
import io.lettuce.core.cluster.RedisClusterClient;
import io.lettuce.core.cluster.SlotHash;
import io.lettuce.core.cluster.api.StatefulRedisClusterConnection;
import io.lettuce.core.cluster.models.partitions.RedisClusterNode;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A declared reader on a real Redis Cluster, where the entry and the namespace's holds record live on different
 * nodes, which do not keep the order of commands sent to each: the record must be read after the entry, or a reader
 * can pair a record read before a region moved with an entry written under the new rules after it, and serve it.
 */
@ExtendWith(LetheStackExtension.class)
class ClusterHoldsIT {
    private static final Policy EVENTUAL = Policy.eventual().withTtl(Duration.ofMinutes(10), 0.1).withShadowReads(0);
    private static final List<String> LSN = List.of("table:public.products", "version:lsn", "mode:DELETE");
    private static final List<String> COLUMN = List.of("table:public.products", "version:column:ver", "mode:DELETE");

    private LetheStack stack;
    private TestScope scope;
    private RedisClusterClient client;
    private StatefulRedisClusterConnection<String, String> connection;
    private final RedisClient nodes = RedisClient.create();

    @BeforeEach
    void connect(LetheStack stack, TestScope scope) {
        this.stack = stack;
        this.scope = scope;
        client = RedisClusterClient.create(RedisURI.create(stack.redisClusterUri()));
        connection = client.connect();
    }

    @AfterEach
    void close() {
        connection.close();
        client.shutdown();
        nodes.shutdown();
    }

    private RedisClusterNode nodeOf(String key) {
        return connection.getPartitions().getPartitionBySlot(SlotHash.getSlot(key));
    }

    private RedisCommands<String, String> direct(RedisClusterNode node) {
        return nodes.connect(node.getUri()).sync();
    }

    private static long calls(RedisCommands<String, String> node, String command) {
        String stats = node.info("commandstats");
        return stats.lines().filter(l -> l.startsWith("cmdstat_" + command + ":")).findFirst()
                .map(l -> Long.parseLong(l.substring(l.indexOf("calls=") + 6, l.indexOf(',', l.indexOf("calls=")))))
                .orElse(0L);
    }

    /**
     * The entry's node is paused while a reader on the old file reads it; meanwhile the region moves (records the new
     * holds) and the entry holds what the new rules wrote. Read in parallel (failed first: served), the record was
     * read before the move and the entry after it; read after the entry, the record is the new one: not served.
     */
    @Test
    void anEntryIsNotServedWithARecordReadBeforeIt() throws Exception {
        String namespace = scope.key("moving");
        String holdsKey = RedisLayout.holdsKey(namespace);
        RedisClusterNode holdsNode = nodeOf(holdsKey);
        String key = null;
        for (int i = 0; key == null || nodeOf(key).getNodeId().equals(holdsNode.getNodeId()); i++) {
            key = scope.key("product:" + i);
        }
        assertNotEquals(holdsNode.getNodeId(), nodeOf(key).getNodeId());
        var redis = connection.sync();
        redis.set(holdsKey, RedisLayout.holds(LSN));
        redis.hset(key, Map.of(RedisLayout.ENTRY_VERSION, "7", RedisLayout.ENTRY_DATA, "written by the new rules"));

        RedisCommands<String, String> entryNode = direct(nodeOf(key));
        RedisCommands<String, String> recordNode = direct(holdsNode);
        try (LetheCache cache = LetheCache.builder(stack.redisClusterUri()).cluster(true).timeout(Duration.ofSeconds(10)).build()) {
            CacheNamespace<String> old = cache.namespace(namespace, Codecs.utf8(), EVENTUAL, LSN);
            assertEquals("written by the new rules", old.get(key, k -> Loaded.of("loaded", 1)), "a hit before the move");
            long getsBefore = calls(recordNode, "get");
            entryNode.clientPause(1500);
            CompletableFuture<String> read = old.getAsync(key, k -> Loaded.of("loaded", 1));
            // A read in parallel asks the record's node at once; one in order asks only after the paused entry's
            // node answered: wait for the record's GET, bounded by the pause (after it, the order is settled).
            long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(1000);
            while (calls(recordNode, "get") == getsBefore && System.nanoTime() < until) {
                Thread.onSpinWait();
            }
            recordNode.set(holdsKey, RedisLayout.holds(COLUMN)); // the region moved
            assertEquals("loaded", read.get(10, TimeUnit.SECONDS),
                    "an entry of the new rules is not served to a reader on the old file");
        }
    }
}
