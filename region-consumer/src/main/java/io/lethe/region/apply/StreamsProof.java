package io.lethe.region.apply;

import io.lethe.config.LetheConfig;
import io.lethe.schemas.SigningKeys;
import io.lethe.schemas.Watermark;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.IntSupplier;
import java.util.function.Supplier;
import java.util.stream.IntStream;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;

/**
 * The proof a topic move and a first feed wait for ({@link TopicMove}): streams writes the region's
 * topic as this configuration routes it, seen on the topic itself by a consumer outside the group.
 */
final class StreamsProof {
    private StreamsProof() {
    }

    /**
     * Waits until streams writes {@code topic} as this configuration routes it: a watermark of
     * each of the {@code sources} changes partitions arrives on it after this call began, stamped
     * with {@code routes} ({@code LetheConfig.routes}) and, with {@code keys}, signed with one of
     * them (the current key or, during a rotation, the previous one).
     *
     * @return the highest source position (LSN) of those watermarks: every change after it went to
     *         {@code topic}; empty when {@code stopped} ended the wait
     * @param waiting told, every minute of waiting, why the region does not start yet
     */
    static OptionalLong await(Supplier<Consumer<String, byte[]>> watcher, String topic, String routes,
            SigningKeys keys, IntSupplier sources, BooleanSupplier stopped,
            java.util.function.Consumer<String> waiting) {
        return await(watcher, topic, routes, keys, sources, List.of(""), stopped, waiting);
    }

    /**
     * {@link #await(Supplier, String, String, SigningKeys, IntSupplier, BooleanSupplier,
     * java.util.function.Consumer)} with capture shards: {@code sources} counts channels, one per
     * (shard of {@code shardOrder}, changes partition), and each must be seen; a watermark of a
     * shard not in {@code shardOrder} counts for nothing.
     */
    static OptionalLong await(Supplier<Consumer<String, byte[]>> watcher, String topic, String routes,
            SigningKeys keys, IntSupplier sources, List<String> shardOrder,
            BooleanSupplier stopped, java.util.function.Consumer<String> waiting) {
        try (Consumer<String, byte[]> c = watcher.get()) {
            List<PartitionInfo> infos = c.partitionsFor(topic, Duration.ofSeconds(30));
            List<TopicPartition> partitions = infos.stream().map(i -> new TopicPartition(topic, i.partition())).toList();
            c.assign(partitions);
            c.seekToEnd(partitions);
            partitions.forEach(c::position); // fix the start now: only what is written from here on counts
            Set<Integer> seen = new HashSet<>();
            long highest = 0;
            long start = System.nanoTime();
            long lastSaid = start;
            while (!stopped.getAsBoolean()) {
                for (ConsumerRecord<String, byte[]> r : c.poll(Duration.ofMillis(200))) {
                    if (Watermark.isWatermark(r.key())) {
                        Optional<Watermark> w = Watermark.read(r.headers());
                        boolean ours = routes.equals(Watermark.routes(r.headers()).orElse(null))
                                && (keys == null || w.isPresent() && w.get().verifies(r.headers(), keys));
                        // streams forwards the changes partition: the channel is numbered under this configuration's shards
                        int channel = w.isPresent()
                                ? LetheConfig.watermarkChannel(shardOrder, w.get().shard(),
                                        w.get().source())
                                : -1;
                        if (ours && channel >= 0) {
                            seen.add(channel);
                            highest = Math.max(highest, w.get().lsn());
                        }
                    }
                }
                int needed = sources.getAsInt();
                if (needed > 0 && IntStream.range(0, needed).allMatch(seen::contains)) {
                    return OptionalLong.of(highest);
                }
                if (System.nanoTime() - lastSaid > TimeUnit.MINUTES.toNanos(1)) {
                    lastSaid = System.nanoTime();
                    waiting.accept("waiting " + TimeUnit.NANOSECONDS.toSeconds(lastSaid - start) + " s for streams to write " + topic
                            + " as this configuration routes it (watermarks of " + seen.size() + " of " + needed
                            + " channels, one per capture shard and changes partition, "
                            + "seen): no watermark yet (capture, or in source.mode debezium-topics the connector, sent none since: "
                            + "with debezium-topics one comes after the first change) or invalidation-streams runs another configuration");
                }
            }
            return OptionalLong.empty();
        }
    }
}
