package io.lethe.region.apply;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.lethe.config.ConfigLoader;
import io.lethe.config.LetheConfig;
import io.lethe.schemas.Watermark;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.record.TimestampType;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;

/**
 * Capture shards (issue 31): streams forwards each watermark with its changes partition and its
 * shard, and a region numbers the channel under its own configuration's shard set, so a streams
 * instance with another shard set (a shard added or removed while stages restart one by one, with
 * another shard count too) cannot make one shard's watermark stand for another shard's or another
 * partition's; a shard the region's configuration lacks vouches for nothing.
 */
class AdmissionShardsTest {
    private static final String TOPIC = "lethe.invalidations";

    @Test
    void aWatermarkIsNumberedUnderTheRegionsShardSet() {
        LetheConfig config = ConfigLoader.parse("unit.yml", """
                source:
                  jdbc-url: "jdbc:postgresql://127.0.0.1:5432/unused"
                  user: lethe
                  shards:
                    orders: { slot: s_orders, publication: p_orders, tables: [public.orders] }
                    catalog: { slot: s_catalog, publication: p_catalog, tables: [public.products] }
                kafka: { bootstrap-servers: "127.0.0.1:9" }
                regions:
                  us-east: { redis: "redis://127.0.0.1:6379" }
                namespaces:
                  order: { table: public.orders, keys: ["order:{id}"] }
                  product: { table: public.products, keys: ["product:{id}"] }
                """, name -> null);
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        RegionMetrics metrics = new RegionMetrics(registry, "us-east");
        MockProducer<String, byte[]> dlq = new MockProducer<>(true, null, new StringSerializer(), new ByteArraySerializer());
        RegionDeadLetters deadLetters = new RegionDeadLetters(dlq, "lethe.dlq", "us-east", metrics, Clock.systemUTC());
        Admission admission = new Admission(config);

        List<ConsumerRecord<String, byte[]>> records = new ArrayList<>();
        records.add(watermark(0, 0, "catalog")); // changes partition 0, catalog (index 0): channel 0
        records.add(watermark(1, 1, "orders")); // changes partition 1, orders (index 1): channel 3
        records.add(watermark(2, 3, "orders")); // changes partition 3 (a streams with 3 shards would have called it 9 or 10): 7
        records.add(watermark(3, 1, null)); // a single capture's: no shard here
        records.add(watermark(4, 2, "gone")); // a shard this configuration does not have
        Admission.Admitted admitted = admission.admit(new ConsumerRecords<>(Map.of(new TopicPartition(TOPIC, 0), records), Map.of()),
                deadLetters);

        assertEquals(List.of(0, 3, 7), admitted.watermarks().get(0).stream().map(Watermark::source).toList());
        assertEquals(0, dlq.history().size(), "a watermark of another shard set is not poison: it is left out, not dead-lettered");
    }

    private static ConsumerRecord<String, byte[]> watermark(long offset, int changesPartition, String shard) {
        RecordHeaders headers = new RecordHeaders();
        new Watermark(1_000_000, 2_000, changesPartition, "h", shard).writeTo(headers);
        return new ConsumerRecord<>(TOPIC, 0, offset, 0L, TimestampType.CREATE_TIME, -1, -1, Watermark.KEY, new byte[0], headers,
                Optional.empty());
    }
}
