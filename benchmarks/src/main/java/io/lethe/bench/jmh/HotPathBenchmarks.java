package io.lethe.bench.jmh;

import io.lethe.config.ConfigLoader;
import io.lethe.config.LetheConfig;
import io.lethe.region.apply.BatchPlan;
import io.lethe.schemas.Action;
import io.lethe.schemas.ChangeEvent;
import io.lethe.schemas.InvalidationEvent;
import io.lethe.schemas.Op;
import io.lethe.schemas.SourceTable;
import io.lethe.schemas.serde.EventJson;
import io.lethe.streams.mapping.InvalidationMapper;
import io.lethe.streams.mapping.MappingResult;
import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The per-event hot paths: mapping a change to invalidations, JSON encode/decode of both events,
 * planning a poll batch (highest version per key), and signing and verifying a record
 * ({@code streams.watermark-key}: streams signs each record it writes, a region verifies each it
 * applies), for a delete and for an upsert with a 1 KiB payload. Run with:
 * <pre>
 *   ./mvnw -q -DskipTests package -pl benchmarks -am
 *   java -cp "benchmarks/target/lethe-benchmarks-0.1.0-SNAPSHOT.jar:benchmarks/target/lib/*" org.openjdk.jmh.Main HotPath
 * </pre>
 */
@State(org.openjdk.jmh.annotations.Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class HotPathBenchmarks {
    private InvalidationMapper mapper;
    private ChangeEvent change;
    private byte[] changeBytes;
    private InvalidationEvent invalidation;
    private byte[] invalidationBytes;
    private List<InvalidationEvent> batch;
    private io.lethe.schemas.RecordSignature signature;
    private byte[] upsertBytes;
    private org.apache.kafka.common.header.Headers signedInvalidation;
    private org.apache.kafka.common.header.Headers signedUpsert;
    private org.apache.kafka.common.header.Headers signedChange;

    @Setup
    public void setUp() {
        LetheConfig config = ConfigLoader.parse("jmh.yml", """
                source: { jdbc-url: "jdbc:postgresql://127.0.0.1:5432/shop", user: lethe }
                kafka: { bootstrap-servers: "127.0.0.1:9092" }
                regions: { us-east: { redis: "redis://127.0.0.1:6379" } }
                namespaces:
                  product: { table: public.products, keys: ["product:{id}", "product:slug:{slug}"], patterns: ["search:products:*"] }
                  price: { table: public.products, keys: ["price:{id}"], mode: upsert, payload-columns: [price], version: column:version }
                """, n -> null);
        mapper = new InvalidationMapper(config, Clock.systemUTC());
        SourceTable table = new SourceTable("shop", "public", "products");
        Map<String, Object> before = new LinkedHashMap<>(Map.of("id", 42, "slug", "blue-mug", "price", 1200, "version", 6));
        Map<String, Object> after = new LinkedHashMap<>(Map.of("id", 42, "slug", "blue-cup", "price", 1299, "version", 7));
        change = new ChangeEvent(ChangeEvent.SCHEMA_ID, "26220112:public.products", table, Op.UPDATE, Map.of("id", 42),
                before, after, "26220112", 26220112, 749L, 1_795_331_961_786_220L, 1_795_331_961_798_004L, null, null);
        changeBytes = EventJson.write(change);
        invalidation = mapper.map(change).invalidations().get(0);
        invalidationBytes = EventJson.write(invalidation);
        signature = new io.lethe.schemas.RecordSignature(
                "a-watermark-key-of-32-characters".getBytes(java.nio.charset.StandardCharsets.UTF_8));
        signedInvalidation = signature.addTo(new org.apache.kafka.common.header.internals.RecordHeaders(), invalidation.target(),
                invalidationBytes);
        InvalidationEvent upsert = new InvalidationEvent(InvalidationEvent.SCHEMA_ID, "u1", "price", io.lethe.schemas.Scope.ROW, "price:42",
                null, Action.UPSERT, "{\"price\":\"" + "9".repeat(1024) + "\"}", "7", 26220112, 26220112L, 1, 2, 3, null, Op.UPDATE, null,
                null);
        upsertBytes = EventJson.write(upsert);
        signedUpsert = signature.addTo(new org.apache.kafka.common.header.internals.RecordHeaders(), upsert.target(), upsertBytes);
        signedChange = signature.addTo(new org.apache.kafka.common.header.internals.RecordHeaders(), change.recordKey(), changeBytes);
        batch = new ArrayList<>();
        for (int i = 0; i < 2000; i++) {
            batch.add(new InvalidationEvent(InvalidationEvent.SCHEMA_ID, "id" + i, "product", io.lethe.schemas.Scope.ROW,
                    "product:" + (i % 700), null, Action.DELETE, null, Integer.toString(1000 + i), 1000 + i, 1L, 1, 2, 3, null,
                    Op.UPDATE, null, null));
        }
    }

    @Benchmark
    public MappingResult mapChange() {
        return mapper.map(change);
    }

    @Benchmark
    public byte[] encodeChange() {
        return EventJson.write(change);
    }

    @Benchmark
    public ChangeEvent decodeChange() {
        return EventJson.readChange(changeBytes);
    }

    @Benchmark
    public byte[] encodeInvalidation() {
        return EventJson.write(invalidation);
    }

    @Benchmark
    public InvalidationEvent decodeInvalidation() {
        return EventJson.readInvalidation(invalidationBytes);
    }

    @Benchmark
    public BatchPlan planBatchOf2000() {
        return BatchPlan.of(batch);
    }

    @Benchmark
    public String signInvalidation() {
        return signature.sign(invalidation.target(), invalidationBytes);
    }

    @Benchmark
    public boolean verifyInvalidation() {
        return signature.verifies(signedInvalidation, invalidation.target(), invalidationBytes);
    }

    @Benchmark
    public String signUpsert1KiB() {
        return signature.sign("price:42", upsertBytes);
    }

    @Benchmark
    public boolean verifyUpsert1KiB() {
        return signature.verifies(signedUpsert, "price:42", upsertBytes);
    }

    /** What capture adds per change with streams.watermark-key (issue 34, the changes topic). */
    @Benchmark
    public String signChange() {
        return signature.sign(change.recordKey(), changeBytes);
    }

    /** What streams adds per change with streams.watermark-key, before mapping it. */
    @Benchmark
    public boolean verifyChange() {
        return signature.verifies(signedChange, change.recordKey(), changeBytes);
    }
}
