package io.lethe.region.redis;

import io.lethe.config.RedisTopology;
import io.lethe.config.RegionConfig;
import io.lethe.schemas.redis.LuaScript;
import io.lethe.schemas.redis.RedisLayout;
import io.lettuce.core.ClientOptions;
import io.lettuce.core.KeyScanCursor;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisFuture;
import io.lettuce.core.RedisURI;
import io.lettuce.core.ScanArgs;
import io.lettuce.core.ScanCursor;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.SocketOptions;
import io.lettuce.core.SslOptions;
import io.lettuce.core.StaticCredentialsProvider;
import io.lettuce.core.TimeoutOptions;
import io.lettuce.core.api.StatefulConnection;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.async.RedisScriptingAsyncCommands;
import io.lettuce.core.api.sync.BaseRedisCommands;
import io.lettuce.core.api.sync.RedisCommands;
import io.lettuce.core.api.sync.RedisHashCommands;
import io.lettuce.core.api.sync.RedisKeyCommands;
import io.lettuce.core.api.sync.RedisScriptingCommands;
import io.lettuce.core.api.sync.RedisSortedSetCommands;
import io.lettuce.core.cluster.ClusterClientOptions;
import io.lettuce.core.cluster.ClusterTopologyRefreshOptions;
import io.lettuce.core.cluster.RedisClusterClient;
import io.lettuce.core.cluster.api.StatefulRedisClusterConnection;
import io.lettuce.core.cluster.api.sync.RedisClusterCommands;
import io.lettuce.core.cluster.models.partitions.RedisClusterNode;
import io.lettuce.core.codec.ByteArrayCodec;
import io.lettuce.core.codec.RedisCodec;
import io.lettuce.core.codec.StringCodec;
import io.lettuce.core.resource.ClientResources;
import java.io.File;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * One region's Redis, whatever its topology (standalone, Sentinel, Cluster): a few connections
 * used only for pipelined script calls, and one for synchronous control commands (script
 * loading, SCAN). Lettuce routes each call of a cluster to the node owning its key's slot; a
 * key and its fence share the slot by construction.
 */
public final class RegionRedis implements AutoCloseable {
    private final ClientResources resources;
    private final RedisClient client;
    private final RedisClusterClient clusterClient;
    private final List<StatefulConnection<String, String>> pipelines = new ArrayList<>();
    private final List<RedisScriptingAsyncCommands<String, String>> pipelineCommands = new ArrayList<>();
    private final StatefulConnection<String, String> control;
    private final RedisScriptingCommands<String, String> scripting;
    private final RedisKeyCommands<String, String> keys;
    private final RedisHashCommands<String, String> hashes;
    private final RedisSortedSetCommands<String, String> sortedSets;
    private final BaseRedisCommands<String, String> base;
    private final String display;
    private final List<RedisURI> uris;
    private StatefulConnection<String, byte[]> binary;
    private int next;

    public RegionRedis(RegionConfig region, int connections, Duration commandTimeout) {
        this.display = region.redisUriForDisplay();
        this.resources = SharedClientResources.acquire();
        TimeoutOptions timeouts = TimeoutOptions.enabled(commandTimeout);
        SocketOptions socket = SocketOptions.builder().connectTimeout(commandTimeout).keepAlive(true).build();
        this.uris = uris(region, commandTimeout);
        try {
            if (region.topology() == RedisTopology.CLUSTER) {
                this.client = null;
                this.clusterClient = RedisClusterClient.create(resources, uris);
                clusterClient.setOptions(ClusterClientOptions.builder()
                        .timeoutOptions(timeouts).socketOptions(socket).sslOptions(sslOptions(region))
                        // a paused or down node must fail fast so the batch backs off and retries
                        .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS)
                        .topologyRefreshOptions(ClusterTopologyRefreshOptions.builder()
                                .enableAllAdaptiveRefreshTriggers().enablePeriodicRefresh(Duration.ofSeconds(30)).build())
                        .build());
                for (int i = 0; i < connections; i++) {
                    StatefulRedisClusterConnection<String, String> c = clusterClient.connect();
                    c.setAutoFlushCommands(false);
                    pipelines.add(c);
                    pipelineCommands.add(c.async());
                }
                StatefulRedisClusterConnection<String, String> c = clusterClient.connect();
                this.control = c;
                this.scripting = c.sync();
                this.keys = c.sync();
                this.hashes = c.sync();
                this.sortedSets = c.sync();
                this.base = c.sync();
            } else {
                this.clusterClient = null;
                this.client = RedisClient.create(resources);
                client.setOptions(ClientOptions.builder().timeoutOptions(timeouts).socketOptions(socket).sslOptions(sslOptions(region))
                        .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS).build());
                RedisURI uri = uris.get(0);
                for (int i = 0; i < connections; i++) {
                    StatefulRedisConnection<String, String> c = client.connect(uri);
                    c.setAutoFlushCommands(false);
                    pipelines.add(c);
                    pipelineCommands.add(c.async());
                }
                StatefulRedisConnection<String, String> c = client.connect(uri);
                this.control = c;
                this.scripting = c.sync();
                this.keys = c.sync();
                this.hashes = c.sync();
                this.sortedSets = c.sync();
                this.base = c.sync();
            }

        } catch (RuntimeException e) {
            // a client on shared resources owns no threads: closing what it opened and releasing the threads is all
            pipelines.forEach(StatefulConnection::close);
            SharedClientResources.release();
            throw e;
        }
    }

    /** TLS for rediss://: the JVM's trust store, or the CA certificates of {@code redis-ca-file}. */
    public static SslOptions sslOptions(RegionConfig region) {
        SslOptions.Builder b = SslOptions.builder();
        if (region.redisCaFile() != null) {
            b.trustManager(new File(region.redisCaFile()));
        }
        return b.build();
    }

    /**
     * The region's Redis URIs (a cluster's seed nodes, else the one URI), with the command timeout
     * and the region's credentials: every connection to a region's Redis is made from these.
     */
    public static List<RedisURI> uris(RegionConfig region, Duration timeout) {
        List<RedisURI> out = new ArrayList<>();
        List<String> texts = region.topology() == RedisTopology.CLUSTER
                ? List.of(region.redisUri().split(","))
                : List.of(region.redisUri());
        for (String text : texts) {
            String t = text.trim();
            if (!t.contains("://")) {
                t = "redis://" + t;
            }
            // the URI as parsed (RedisURI.builder(uri) would drop a redis-sentinel:// URI's sentinels)
            RedisURI uri = RedisURI.create(t);
            uri.setTimeout(timeout);
            if (region.redisPassword() != null) {
                uri.setCredentialsProvider(new StaticCredentialsProvider(region.redisUser() == null ? "default" : region.redisUser(),
                        region.redisPassword().reveal().toCharArray()));
            }
            out.add(uri);
        }
        return out;
    }

    /** Loads the contract scripts and the batch script (on every master of a cluster). */
    public void loadScripts() {
        for (LuaScript script : LuaScript.values()) {
            String sha = scripting.scriptLoad(script.source());
            if (!script.sha1().equals(sha)) {
                throw new IllegalStateException("Redis returned SHA " + sha + " for " + script.fileName() + ", expected " + script.sha1());
            }
        }
    }

    /** One script call on the control connection, waiting for its reply (a Long); routed by its first key in a cluster. */
    public Object evalshaSync(LuaScript script, String[] keys, String... args) {
        return scripting.evalsha(script.sha1(), ScriptOutputType.INTEGER, keys, args);
    }

    /** True for a Redis Cluster: a call's keys must then share a slot. */
    public boolean cluster() {
        return clusterClient != null;
    }

    /**
     * Queues the calls on the pipeline connections (round-robin by call) and flushes; one future
     * per call: a Long, or for {@link LuaScript#INVALIDATE_BATCH} a list of Longs.
     */
    public List<RedisFuture<Object>> evalsha(List<ScriptCall> calls) {
        List<RedisFuture<Object>> futures = new ArrayList<>(calls.size());
        boolean[] used = new boolean[pipelines.size()];
        for (ScriptCall call : calls) {
            int i = next++ % pipelines.size();
            if (next < 0) {
                next = 0;
            }
            used[i] = true;
            ScriptOutputType type = call.script() == LuaScript.INVALIDATE_BATCH ? ScriptOutputType.MULTI : ScriptOutputType.INTEGER;
            futures.add(pipelineCommands.get(i).evalsha(call.script().sha1(), type, call.keys(), call.args()));
        }
        for (int i = 0; i < pipelines.size(); i++) {
            if (used[i]) {
                pipelines.get(i).flushCommands();
            }
        }
        return futures;
    }

    /** The {@code run_id} of the server the control connection talks to now (standalone and Sentinel). */
    public String runId() {
        for (String line : ((StatefulRedisConnection<String, String>) control).sync().info("server").split("\\r?\\n")) {
            if (line.startsWith("run_id:")) {
                return line.substring("run_id:".length()).trim();
            }
        }
        throw new IllegalStateException("Redis " + display + " did not report its run_id");
    }

    /** Flushes every pipeline connection again: sends what Lettuce queued on them itself (a cluster's redirected calls). */
    public void flush() {
        pipelines.forEach(StatefulConnection::flushCommands);
    }

    /**
     * One SCAN step over every master (standalone and Sentinel: the one master; a cluster's scan
     * by {@link #slotMap}, master by master, see the region's pattern scan).
     *
     * @return the keys and the cursor to continue with (finished when {@link KeyScanCursor#isFinished()})
     */
    public KeyScanCursor<String> scan(ScanCursor cursor, String match, int count) {
        // which of the keys found may be invalidated is the applier's decision (PatternScan.inScope)
        return keys.scan(cursor, ScanArgs.Builder.matches(match).limit(count));
    }

    /**
     * A Redis Cluster's masters and slots, as each master describes itself. When a master the
     * client does not know yet appears in any master's view (one added for a resharding), the
     * client's view is refreshed first, so no master is left out of a scan.
     */
    public SlotMap slotMap() {
        StatefulRedisClusterConnection<String, String> c = (StatefulRedisClusterConnection<String, String>) control;
        for (int attempt = 0;; attempt++) {
            Map<String, String> myself = new LinkedHashMap<>();
            Set<String> seen = new LinkedHashSet<>();
            for (RedisClusterNode node : c.getPartitions()) {
                if (!node.is(RedisClusterNode.NodeFlag.UPSTREAM)) {
                    continue;
                }
                String nodes = c.getConnection(node.getNodeId()).sync().clusterNodes();
                for (String line : nodes.split("\n")) {
                    String[] f = line.trim().split(" ");
                    if (f.length < 3) {
                        continue;
                    }
                    List<String> flags = List.of(f[2].split(","));
                    if (flags.contains("myself")) {
                        myself.put(node.getNodeId(), line);
                    }
                    if (flags.contains("master") && !flags.contains("fail") && !flags.contains("handshake") && !flags.contains("noaddr")) {
                        seen.add(f[0]);
                    }
                }
            }
            if (myself.keySet().containsAll(seen) || attempt >= 2) {
                return SlotMap.of(myself);
            }
            clusterClient.refreshPartitions();
        }
    }

    /** One SCAN step on one master of a cluster. */
    public KeyScanCursor<String> scan(String node, ScanCursor cursor, String match, int count) {
        return ((StatefulRedisClusterConnection<String, String>) control).getConnection(node).sync()
                .scan(cursor, ScanArgs.Builder.matches(match).limit(count));
    }

    /** Every key one master of a cluster holds in {@code slot} (imported or not yet migrated ones too). */
    public List<String> keysInSlot(String node, int slot) {
        RedisCommands<String, String> commands = ((StatefulRedisClusterConnection<String, String>) control).getConnection(node).sync();
        long count = commands.clusterCountKeysInSlot(slot);
        return count == 0 ? List.of() : commands.clusterGetKeysInSlot(slot, (int) Math.min(Integer.MAX_VALUE, count));
    }

    /**
     * Raises the namespace's wide watermark to {@code lsn} (never lowers it): the LSN of the
     * newest namespace-wide invalidation applied here. An upsert from a change at or below it is
     * older than that invalidation and must not write its value.
     */
    public void raiseWideWatermark(String namespace, long lsn) {
        raise(namespace, RedisLayout.WIDE_WATERMARK_MEMBER, lsn);
    }

    /** Raises the namespace's scan watermark to {@code commitLsn} (see {@link RedisLayout#SCAN_WATERMARK_MEMBER}). */
    public void raiseScanWatermark(String namespace, long commitLsn) {
        raise(namespace, RedisLayout.SCAN_WATERMARK_MEMBER, commitLsn);
    }

    private void raise(String namespace, String member, long lsn) {
        scripting.eval(RAISE_WATERMARK, ScriptOutputType.INTEGER, new String[] {RedisLayout.wideWatermarkKey(namespace)},
                Long.toString(lsn), member);
    }

    /*
     * Namespace-wide invalidations must apply when Redis is full too: each of these scripts starts
     * with PERSIST, a write Redis never refuses at maxmemory (and a no-op here: these keys have no
     * TTL), after which Redis runs the script's other writes (see invalidate.lua).
     */
    private static final String RAISE_WATERMARK = "redis.call('PERSIST', KEYS[1]) "
            + "return redis.call('ZADD', KEYS[1], 'GT', ARGV[1], ARGV[2])";
    private static final String INCREMENT_EPOCH = "redis.call('PERSIST', KEYS[1]) return redis.call('INCR', KEYS[1])";

    /** The namespace's wide watermark, or -1 when no namespace-wide invalidation was applied here. */
    public long wideWatermark(String namespace) {
        Double score = sortedSets.zscore(RedisLayout.wideWatermarkKey(namespace), RedisLayout.WIDE_WATERMARK_MEMBER);
        return score == null ? -1 : score.longValue();
    }

    /** Increments the namespace's epoch: readers with a fill in flight undo it (see {@link RedisLayout#EPOCH_PREFIX}). */
    public long incrementEpoch(String namespace) {
        return scripting.eval(INCREMENT_EPOCH, ScriptOutputType.INTEGER, RedisLayout.epochKey(namespace));
    }

    /** PING on the control connection, for health checks. */
    public boolean ping() {
        try {
            return "PONG".equals(base.ping());
        } catch (RuntimeException e) {
            return false;
        }
    }

    /** The synchronous key commands (for probes and tests). */
    public RedisKeyCommands<String, String> keyCommands() {
        return keys;
    }

    /** The synchronous hash commands (for probes and tests). */
    public RedisHashCommands<String, String> hashCommands() {
        return hashes;
    }

    /**
     * Synchronous commands whose values are bytes (keys are text): for copying entries as they
     * are ({@code lethe prewarm}). Opened on first use, closed with this.
     */
    public synchronized RedisClusterCommands<String, byte[]> binary() {
        RedisCodec<String, byte[]> codec = RedisCodec.of(
                StringCodec.UTF8, ByteArrayCodec.INSTANCE);
        if (binary == null) {
            binary = clusterClient != null ? clusterClient.connect(codec) : client.connect(codec, uris.get(0));
        }
        return binary instanceof StatefulRedisClusterConnection<String, byte[]> c
                ? c.sync()
                : ((StatefulRedisConnection<String, byte[]>) binary).sync();
    }

    /** The control connection, for callers that need other synchronous commands. */
    public StatefulConnection<String, String> controlConnection() {
        return control;
    }

    public String display() {
        return display;
    }

    @Override
    public void close() {
        if (binary != null) {
            binary.close();
        }
        pipelines.forEach(StatefulConnection::close);
        control.close();
        if (client != null) {
            client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
        }
        if (clusterClient != null) {
            clusterClient.shutdown(Duration.ZERO, Duration.ofSeconds(2));
        }
        SharedClientResources.release();
    }
}
