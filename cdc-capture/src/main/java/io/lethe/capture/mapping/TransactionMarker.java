package io.lethe.capture.mapping;

import java.util.Optional;
import org.apache.kafka.connect.data.Struct;
import org.apache.kafka.connect.source.SourceRecord;

/**
 * A transaction BEGIN or END record of Debezium's transaction metadata
 * ({@code provide.transaction.metadata}): its transaction id, and for END the LSN of the COMMIT
 * record ({@code lsn_commit} of its offset, which Debezium sets from the commit message: the end
 * of the commit record).
 *
 * @param begin     true for BEGIN, false for END
 * @param txId      the PostgreSQL transaction id (rows carry it as {@code source.txId})
 * @param commitLsn for END, the commit LSN; -1 when the record does not say
 */
public record TransactionMarker(boolean begin, long txId, long commitLsn) {
    /** The marker, or empty when {@code record} is not a transaction metadata record. */
    public static Optional<TransactionMarker> of(SourceRecord record) {
        if (!(record.value() instanceof Struct value) || value.schema().field("status") == null || value.schema().field("id") == null) {
            return Optional.empty();
        }
        String status = value.getString("status");
        String id = value.getString("id");
        if (status == null || id == null) {
            return Optional.empty();
        }
        int colon = id.indexOf(':');
        long txId;
        try {
            txId = Long.parseLong(colon < 0 ? id : id.substring(0, colon));
        } catch (NumberFormatException e) {
            return Optional.empty();
        }
        long commitLsn = -1;
        Object lsn = record.sourceOffset() == null ? null : record.sourceOffset().get("lsn_commit");
        if (lsn instanceof Number n) {
            commitLsn = n.longValue();
        }
        return Optional.of(new TransactionMarker("BEGIN".equals(status), txId, commitLsn));
    }
}
