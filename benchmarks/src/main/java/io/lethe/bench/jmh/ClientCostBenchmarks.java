package io.lethe.bench.jmh;

import io.lethe.cache.CacheNamespace;
import io.lethe.cache.Codecs;
import io.lethe.cache.LetheCache;
import io.lethe.cache.Loaded;
import io.lethe.cache.Loader;
import io.lethe.cache.Policy;
import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * What cache-client costs an application next to the cache-aside code it replaces, on one Redis,
 * one thread, the same 1,000 keys of a short string value:
 * <ul>
 *   <li>{@code lettuceHit}: plain Lettuce {@code GET} (the floor: one round trip);</li>
 *   <li>{@code letheHit}: {@link CacheNamespace#get} of a cached key (one round trip to read the
 *       entry's hash, decoding, the version check, metrics, sampling for shadow reads);</li>
 *   <li>{@code letheNearHit}: the same with the near cache on (no round trip at all);</li>
 *   <li>{@code lettuceMissFill}: plain cache-aside on a miss: {@code DEL} (to make the miss),
 *       {@code GET}, then {@code SET ... EX} of the loaded value (three round trips, no fence);</li>
 *   <li>{@code letheMissFill}: the fenced miss: a delete, the entry read, the fence read, the load
 *       and the fill script.</li>
 * </ul>
 * Needs a Redis ({@code -Dlethe.bench.redis}, default {@code redis://127.0.0.1:6379}; e.g.
 * {@code redis-server --port 6390 --save ""}). Run with:
 * <pre>
 *   ./mvnw -q -DskipTests package -pl benchmarks -am
 *   java -Dlethe.bench.redis=redis://127.0.0.1:6390 -cp "benchmarks/target/lethe-benchmarks-0.1.0-SNAPSHOT.jar:benchmarks/target/lib/*" \
 *       org.openjdk.jmh.Main ClientCost -f 3 -wi 2 -i 3 -jvmArgsAppend -Dlethe.bench.redis=redis://127.0.0.1:6390
 * </pre>
 * JMH runs the benchmarks of a fork one after another; with several forks each figure is their
 * spread over the sitting. Compare them within one run only.
 */
@State(org.openjdk.jmh.annotations.Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class ClientCostBenchmarks {
    private static final int KEYS = 1000;
    private static final String VALUE = "a cached row of about forty characters..";

    private RedisClient plainClient;
    private StatefulRedisConnection<String, String> plainConnection;
    private RedisCommands<String, String> plain;
    private LetheCache cache;
    private LetheCache nearCache;
    private CacheNamespace<String> items;
    private CacheNamespace<String> nearItems;
    private final Loader<String> loader = key -> Loaded.of(VALUE, 1);
    private int next;

    @Setup(Level.Trial)
    public void setUp() {
        String redis = System.getProperty("lethe.bench.redis", "redis://127.0.0.1:6379");
        plainClient = RedisClient.create(redis);
        plainConnection = plainClient.connect();
        plain = plainConnection.sync();
        Policy policy = Policy.eventual().withTtl(Duration.ofMinutes(30), 0);
        cache = LetheCache.builder(redis).build();
        items = cache.namespace("cost", Codecs.utf8(), policy);
        nearCache = LetheCache.builder(redis).nearCache(10_000, Duration.ofMinutes(5)).build();
        nearItems = nearCache.namespace("cost-near", Codecs.utf8(), policy);
        for (int i = 0; i < KEYS; i++) {
            plain.set(plainKey(i), VALUE);
            items.get(letheKey(i), loader);
            nearItems.get(nearKey(i), loader);
            nearItems.get(nearKey(i), loader); // the second read fills the near cache
        }
    }

    private static String plainKey(int i) {
        return "bench:cost:plain:" + i;
    }

    private static String letheKey(int i) {
        return "bench:cost:lethe:" + i;
    }

    private static String nearKey(int i) {
        return "bench:cost:near:" + i;
    }

    private static String missKey(String prefix, int i) {
        return "bench:cost:miss:" + prefix + ":" + i;
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        cache.close();
        nearCache.close();
        plainConnection.close();
        plainClient.shutdown();
    }

    private int next() {
        next = (next + 1) % KEYS;
        return next;
    }

    @Benchmark
    public String lettuceHit() {
        return plain.get(plainKey(next()));
    }

    @Benchmark
    public String letheHit() {
        return items.get(letheKey(next()), loader);
    }

    @Benchmark
    public String letheNearHit() {
        return nearItems.get(nearKey(next()), loader);
    }

    @Benchmark
    public String lettuceMissFill() {
        String key = missKey("plain", next());
        plain.del(key);
        String v = plain.get(key);
        if (v == null) {
            v = VALUE;
            plain.setex(key, 1800, v);
        }
        return v;
    }

    @Benchmark
    public String letheMissFill() {
        String key = missKey("lethe", next());
        plain.del(key);
        return items.get(key, loader);
    }
}
