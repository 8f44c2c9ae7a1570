package io.lethe.cli.lag;

import io.lethe.capture.source.SourceConnection;
import io.lethe.config.KafkaRole;
import io.lethe.config.LetheConfig;
import io.lethe.config.ShardConfig;
import io.lethe.config.KafkaClients;
import io.lethe.stage.kafka.GroupOffsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;

/** The stages before the regions: the WAL capture's slots hold back, and the changes streams has not read yet. */
final class UpstreamLag {
    private UpstreamLag() {
    }

    /** The slots capture reads: each shard's, or the single one. */
    static List<String> slots(LetheConfig config) {
        return config.source().sharded()
                ? config.source().shards().values().stream().map(ShardConfig::slot).toList()
                : List.of(config.source().slot());
    }

    static LagReport.Upstream of(LetheConfig config) {
        long retained = -1;
        Map<String, Long> bySlot = new LinkedHashMap<>();
        try (Connection c = SourceConnection.open(config);
                PreparedStatement ps = c
                        .prepareStatement("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), confirmed_flush_lsn)::bigint "
                                + "FROM pg_replication_slots WHERE slot_name = ?")) {
            for (String slot : slots(config)) {
                ps.setString(1, slot);
                try (ResultSet rs = ps.executeQuery()) {
                    long held = rs.next() ? rs.getLong(1) : -1;
                    bySlot.put(slot, held);
                    retained = Math.max(retained, held);
                }
            }
        } catch (SQLException e) {
            // the primary is unreachable from here: shown as "-"
        }
        long unread = -1;
        try (Admin admin = Admin.create(KafkaClients.common(config.kafka(), KafkaRole.CLI, "lethe-lag"));
                KafkaConsumer<byte[], byte[]> reader = LagReaders.reader(config, KafkaRole.CLI)) {
            List<TopicPartition> partitions = LagReaders.partitions(reader, config.topics().changes());
            Map<TopicPartition, OffsetAndMetadata> committed = GroupOffsets.committed(admin, config.streams().applicationId(),
                    LagReaders.TIMEOUT);
            Map<TopicPartition, Long> end = reader.endOffsets(partitions, LagReaders.TIMEOUT);
            unread = GroupOffsets.unread(partitions, committed, reader.beginningOffsets(partitions, LagReaders.TIMEOUT), end);
        } catch (Exception e) {
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
        }
        return new LagReport.Upstream(retained, unread, bySlot);
    }
}
