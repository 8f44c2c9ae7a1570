package io.lethe.embedded;

import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.api.StatefulRedisConnection;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * A real Redis Cluster of three masters (no replicas) on 127.0.0.1: each node started with
 * {@code cluster-enabled yes}, introduced with CLUSTER MEET and given a third of the 16384
 * slots with CLUSTER ADDSLOTS, then awaited until every node reports {@code cluster_state:ok}.
 */
final class EmbeddedRedisCluster implements AutoCloseable {
    private static final int SLOTS = 16384;
    private final List<EmbeddedRedisServer> nodes;
    private final Path dir;
    private final Path binaries;

    private EmbeddedRedisCluster(List<EmbeddedRedisServer> nodes, Path dir, Path binaries) {
        this.nodes = nodes;
        this.dir = dir;
        this.binaries = binaries;
    }

    private static List<String> settings() {
        return List.of("cluster-enabled yes", "cluster-config-file nodes.conf", "cluster-node-timeout 5000",
                "cluster-require-full-coverage yes");
    }

    static EmbeddedRedisCluster start(Path dir, Path binaries, int masters) {
        List<EmbeddedRedisServer> nodes = new ArrayList<>();
        try {
            for (int i = 0; i < masters; i++) {
                nodes.add(EmbeddedRedisServer.start("cluster-" + i, dir.resolve("node-" + i), binaries,
                        FreePorts.nextWithBus(), settings()));
            }
            form(nodes);
            return new EmbeddedRedisCluster(nodes, dir, binaries);
        } catch (RuntimeException e) {
            nodes.forEach(EmbeddedRedisServer::close);
            throw e;
        }
    }

    private static void form(List<EmbeddedRedisServer> nodes) {
        RedisClient client = RedisClient.create();
        try {
            List<StatefulRedisConnection<String, String>> connections = new ArrayList<>();
            for (EmbeddedRedisServer node : nodes) {
                connections.add(client.connect(RedisURI.create(node.uri())));
            }
            int per = SLOTS / nodes.size();
            for (int i = 0; i < nodes.size(); i++) {
                int from = i * per;
                int to = i == nodes.size() - 1 ? SLOTS - 1 : from + per - 1;
                int[] slots = new int[to - from + 1];
                for (int s = from; s <= to; s++) {
                    slots[s - from] = s;
                }
                connections.get(i).sync().clusterAddSlots(slots);
            }
            for (int i = 1; i < nodes.size(); i++) {
                connections.get(0).sync().clusterMeet("127.0.0.1", nodes.get(i).port());
            }
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            for (StatefulRedisConnection<String, String> c : connections) {
                while (!c.sync().clusterInfo().contains("cluster_state:ok")
                        || c.sync().clusterNodes().lines().count() < nodes.size()) {
                    if (System.nanoTime() > deadline) {
                        throw new IllegalStateException("Redis Cluster did not reach cluster_state:ok in 60 s");
                    }
                    try {
                        Thread.sleep(50);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        throw new IllegalStateException("interrupted while forming the Redis Cluster", e);
                    }
                }
            }
            connections.forEach(StatefulRedisConnection::close);
        } finally {
            client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
        }
    }

    /** Every node's URI, in start order. */
    List<String> nodeUris() {
        return nodes.stream().map(EmbeddedRedisServer::uri).toList();
    }

    /**
     * Restarts node {@code i} on its port and directory: it loads its snapshot ({@code dump.rdb})
     * and its {@code nodes.conf}, so it rejoins the cluster with its slots and whatever data the
     * snapshot held. Returns once the cluster reports {@code cluster_state:ok} again.
     */
    synchronized void restartNode(int i) {
        EmbeddedRedisServer old = nodes.get(i);
        try {
            old.close();
        } catch (RuntimeException e) {
            // already shut down
        }
        nodes.set(i, EmbeddedRedisServer.start(old.name(), dir.resolve("node-" + i), binaries, old.port(), settings()));
        RedisClient client = RedisClient.create();
        try (StatefulRedisConnection<String, String> c = client.connect(RedisURI.create(nodes.get(i).uri()))) {
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (!c.sync().clusterInfo().contains("cluster_state:ok")) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("Redis Cluster node " + i + " did not rejoin within 60 s");
                }
                Thread.sleep(50);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while restarting a cluster node", e);
        } finally {
            client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
        }
    }

    /** The URI of the first node; clients discover the rest. */
    String uri() {
        return nodes.get(0).uri();
    }

    @Override
    public void close() {
        nodes.forEach(EmbeddedRedisServer::close);
    }
}
