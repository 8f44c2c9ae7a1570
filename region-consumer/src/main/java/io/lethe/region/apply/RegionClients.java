package io.lethe.region.apply;

import io.lethe.config.KafkaRole;
import io.lethe.config.LetheConfig;
import io.lethe.config.KafkaClients;
import java.util.Map;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/** The Kafka clients of a region: its group's consumer, its dead-letter producer and its admin client. */
final class RegionClients {
    private RegionClients() {
    }

    static KafkaConsumer<String, byte[]> consumer(LetheConfig config, String region) {
        Map<String, Object> props = KafkaClients.common(config.kafka(), KafkaRole.region(region), "lethe-region-" + region);
        props.put(ConsumerConfig.GROUP_ID_CONFIG, RegionApply.groupId(config, region));
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        // never reset silently: a missing or out-of-range offset reaches poll() (see RestoreReplay.startFromLogStart)
        props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "none");
        props.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, config.apply().maxPollRecords());
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        props.put(ConsumerConfig.MAX_POLL_INTERVAL_MS_CONFIG, 300_000);
        // a dead consumer's partitions move to the region's other consumers after 10 s, not Kafka's 45 s
        props.put(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, 10_000);
        props.put(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG, 2_000);
        return new KafkaConsumer<>(props, new StringDeserializer(), new ByteArrayDeserializer());
    }

    /** A consumer outside the group, for {@link TopicMove}: reads a topic's newest records, commits nothing. */
    static KafkaConsumer<String, byte[]> watcher(LetheConfig config, String region) {
        Map<String, Object> props = KafkaClients.common(config.kafka(), KafkaRole.region(region), "lethe-region-" + region + "-topic-move");
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        return new KafkaConsumer<>(props, new StringDeserializer(), new ByteArrayDeserializer());
    }

    /** The admin client that reads the topics' partition counts for the applied watermark. */
    static Admin admin(LetheConfig config, String region) {
        return Admin.create(KafkaClients.common(config.kafka(), KafkaRole.region(region), "lethe-region-" + region + "-metadata"));
    }

    /**
     * The admin client that reads what only the primary cluster knows: for a region on a mirrored
     * cluster of its own, the partition counts streams routes by (see
     * {@link BrokerPartitions#counts}); null for a region on the primary (use {@link #admin}).
     */
    static Admin primaryAdmin(LetheConfig config, String region) {
        KafkaRole role = KafkaRole.region(region);
        return config.kafka().ownCluster(role)
                ? Admin.create(
                        KafkaClients.primary(config.kafka(), role, "lethe-region-" + region + "-primary-metadata"))
                : null;
    }

    static KafkaProducer<String, byte[]> deadLetterProducer(LetheConfig config, String region) {
        Map<String, Object> props = KafkaClients.common(config.kafka(), KafkaRole.region(region), "lethe-region-" + region + "-dlq");
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        return new KafkaProducer<>(props, new StringSerializer(), new ByteArraySerializer());
    }
}
