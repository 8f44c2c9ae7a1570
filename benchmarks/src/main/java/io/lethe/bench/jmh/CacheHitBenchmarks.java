package io.lethe.bench.jmh;

import io.lethe.cache.CacheNamespace;
import io.lethe.cache.Codecs;
import io.lethe.cache.LetheCache;
import io.lethe.cache.Loaded;
import io.lethe.cache.Loader;
import io.lethe.cache.Policy;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The application's cache hit (a Redis read through cache-client) with shadow reads off (0), at
 * the default 1 in 1,000, and at 1 in 10: the sampled inspections run on their own threads, so the
 * hit's latency must not move. Needs a Redis ({@code -Dlethe.bench.redis}, default
 * {@code redis://127.0.0.1:6379}; e.g. {@code redis-server --port 6390 --save ""}). Run with:
 * <pre>
 *   ./mvnw -q -DskipTests package -pl benchmarks -am
 *   java -Dlethe.bench.redis=redis://127.0.0.1:6390 -cp "benchmarks/target/lethe-benchmarks-0.1.0-SNAPSHOT.jar:benchmarks/target/lib/*" \
 *       org.openjdk.jmh.Main CacheHit
 * </pre>
 */
@State(org.openjdk.jmh.annotations.Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class CacheHitBenchmarks {
    private static final int KEYS = 1000;

    @Param({"0", "1000", "10"})
    public int shadowReadsOneIn;

    private LetheCache cache;
    private CacheNamespace<String> items;
    private final Loader<String> loader = key -> Loaded.of("value of " + key, 1);
    private int next;

    @Setup(Level.Trial)
    public void setUp() {
        String redis = System.getProperty("lethe.bench.redis", "redis://127.0.0.1:6379");
        cache = LetheCache.builder(redis).build();
        items = cache.namespace("bench-" + shadowReadsOneIn, Codecs.utf8(),
                Policy.eventual().withTtl(Duration.ofMinutes(30), 0).withShadowReads(shadowReadsOneIn));
        for (int i = 0; i < KEYS; i++) {
            items.get(key(i), loader); // every measured read is a hit
        }
    }

    private String key(int i) {
        return "bench:" + shadowReadsOneIn + ":item:" + i;
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        cache.close();
    }

    @Benchmark
    public String hit() {
        next = (next + 1) % KEYS;
        return items.get(key(next), loader);
    }
}
