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
import io.lettuce.core.TimeoutOptions;
import io.lettuce.core.XAddArgs;
import io.lettuce.core.api.StatefulConnection;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.async.RedisScriptingAsyncCommands;
import io.lettuce.core.api.sync.BaseRedisCommands;
import io.lettuce.core.api.sync.RedisHashCommands;
import io.lettuce.core.api.sync.RedisKeyCommands;
import io.lettuce.core.api.sync.RedisScriptingCommands;
import io.lettuce.core.api.sync.RedisSortedSetCommands;
import io.lettuce.core.api.sync.RedisStringCommands;
import io.lettuce.core.cluster.ClusterClientOptions;
import io.lettuce.core.cluster.ClusterTopologyRefreshOptions;
import io.lettuce.core.cluster.RedisClusterClient;
import io.lettuce.core.cluster.api.StatefulRedisClusterConnection;
import io.lettuce.core.cluster.api.sync.RedisClusterCommands;
import io.lettuce.core.codec.ByteArrayCodec;
import io.lettuce.core.codec.RedisCodec;
import io.lettuce.core.codec.StringCodec;
import io.lettuce.core.resource.ClientResources;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * One region's Redis, whatever its topology (standalone, Sentinel, Cluster): a few connections
 * used only for pipelined script calls, and one for synchronous control commands (script
 * loading, SCAN). Lettuce routes each call of a cluster to the node owning its key's slot; a
 * key and its fence share the slot by construction. Where it is: {@link RedisEndpoints}; the
 * namespaces' marks in it: {@link NamespaceMarks}.
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
    private final RedisStringCommands<String, String> strings;
    private final NamespaceMarks namespaceMarks;
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
        this.uris = RedisEndpoints.uris(region, commandTimeout);
        try {
            if (region.topology() == RedisTopology.CLUSTER) {
                this.client = null;
                this.clusterClient = RedisClusterClient.create(resources, uris);
                clusterClient.setOptions(ClusterClientOptions.builder()
                        .timeoutOptions(timeouts).socketOptions(socket).sslOptions(RedisEndpoints.sslOptions(region))
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
                this.strings = c.sync();
                this.base = c.sync();
            } else {
                this.clusterClient = null;
                this.client = RedisClient.create(resources);
                client.setOptions(
                        ClientOptions.builder().timeoutOptions(timeouts).socketOptions(socket).sslOptions(RedisEndpoints.sslOptions(region))
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
                this.strings = c.sync();
                this.base = c.sync();
            }

            this.namespaceMarks = new NamespaceMarks(scripting, sortedSets, strings);
        } catch (RuntimeException e) {
            // a client on shared resources owns no threads: closing what it opened and releasing the threads is all
            pipelines.forEach(StatefulConnection::close);
            SharedClientResources.release();
            throw e;
        }
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
     * by {@link ClusterMasters#slotMap}, master by master, see the region's pattern scan).
     *
     * @return the keys and the cursor to continue with (finished when {@link KeyScanCursor#isFinished()})
     */
    public KeyScanCursor<String> scan(ScanCursor cursor, String match, int count) {
        // which of the keys found may be invalidated is the applier's decision (PatternScan.inScope)
        return keys.scan(cursor, ScanArgs.Builder.matches(match).limit(count));
    }

    /** A Redis Cluster's masters, master by master (for sweeps and scans); only for a cluster. */
    public ClusterMasters clusterMasters() {
        if (clusterClient == null) {
            throw new IllegalStateException("Redis " + display + " is not a cluster");
        }
        return new ClusterMasters(clusterClient, (StatefulRedisClusterConnection<String, String>) control);
    }

    /** The namespaces' wide and scan watermarks and epochs in this Redis. */
    public NamespaceMarks namespaceMarks() {
        return namespaceMarks;
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

    /**
     * XADD of one record to the audit stream of confirmed stale entries
     * ({@link RedisLayout#AUDIT_STALE_STREAM}, trimmed as cache-client trims it), on the control connection.
     */
    public String auditStale(Map<String, String> fields) {
        XAddArgs args = XAddArgs.Builder.maxlen(RedisLayout.AUDIT_STALE_MAXLEN).approximateTrimming();
        return control instanceof StatefulRedisClusterConnection<String, String> c
                ? c.sync().xadd(RedisLayout.AUDIT_STALE_STREAM, args, fields)
                : ((StatefulRedisConnection<String, String>) control).sync().xadd(RedisLayout.AUDIT_STALE_STREAM, args, fields);
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
