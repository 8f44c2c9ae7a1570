package io.lethe.capture.engine;

import io.debezium.engine.DebeziumEngine;
import io.debezium.engine.RecordChangeEvent;
import io.lethe.capture.mapping.ChangeEventMapper;
import io.lethe.capture.mapping.Resets;
import io.lethe.capture.mapping.TransactionBuffer;
import io.lethe.capture.mapping.TransactionMarker;
import io.lethe.config.LetheConfig;
import io.lethe.schemas.ChangeEvent;
import io.lethe.schemas.DlqReason;
import io.lethe.schemas.Watermark;
import io.lethe.stage.dlq.DeadLetter;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.connect.json.JsonConverter;
import org.apache.kafka.connect.source.SourceRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Debezium's batches: maps each record, publishes, waits for Kafka's acknowledgement, and only
 * then marks records processed. Rows of a transaction wait in a {@link TransactionBuffer} for its
 * END record (their commit LSN), so records of a transaction still open at the end of a batch
 * stay unmarked until a later batch publishes them: capture never marks a record whose change
 * Kafka does not hold. A record that cannot be mapped resets its table's namespaces (fail closed)
 * and goes to the DLQ as Debezium's JSON of it. Before a batch is published the source is checked
 * for drift ({@link SourceCheck}); a heartbeat's watermark is published only when that check ran.
 */
public final class ChangeBatchHandler implements CaptureEngine.BatchHandler {
    private static final Logger LOG = LoggerFactory.getLogger(ChangeBatchHandler.class);
    private static final String PUBLISH_THREAD = "lethe-capture-publish";

    private final LetheConfig config;
    private final ChangeEventMapper mapper;
    private final ChangePublisher publisher;
    private final CaptureMetrics metrics;
    private final Clock clock;
    private final TransactionBuffer transactions;
    private final SourceCheck source;
    private final JsonConverter json = new JsonConverter();
    /** Records handed over but not marked processed yet, in order. */
    private final List<RecordChangeEvent<SourceRecord>> unmarked = new ArrayList<>();

    /**
     * Checks the source for drift (and publishes the resets a drift needs) before a batch is
     * published; see {@code SourceWatch}.
     */
    @FunctionalInterface
    public interface SourceCheck {
        /**
         * @param sinceNanos when the batch arrived ({@link System#nanoTime()})
         * @return a check that started then or later, completing once its resets are published:
         *         with false when capture cannot vouch for the moment (the batch's watermark is held back)
         */
        CompletableFuture<Boolean> checkedSince(long sinceNanos);
    }

    public ChangeBatchHandler(LetheConfig config, ChangeEventMapper mapper, ChangePublisher publisher, CaptureMetrics metrics, Clock clock,
            SourceCheck source) {
        this.config = config;
        this.source = source;
        this.mapper = mapper;
        this.publisher = publisher;
        this.metrics = metrics;
        this.clock = clock;
        this.transactions = new TransactionBuffer(config);
        json.configure(Map.of("schemas.enable", false), false);
    }

    @Override
    public void handleBatch(List<RecordChangeEvent<SourceRecord>> records,
            DebeziumEngine.RecordCommitter<RecordChangeEvent<SourceRecord>> committer) throws InterruptedException {
        // the source is read after these records were decoded, and so after they committed, while they are mapped
        CompletableFuture<Boolean> check = source.checkedSince(System.nanoTime());
        Thread current = Thread.currentThread();
        if (!current.getName().startsWith(PUBLISH_THREAD)) {
            // Debezium runs this on an anonymous pool thread; named, it shows up in thread dumps and profiles
            current.setName(PUBLISH_THREAD);
        }
        List<ChangeEvent> events = new ArrayList<>(records.size());
        Watermark newest = null;
        int markable = 0;
        long overflowsBefore = transactions.overflows();
        for (RecordChangeEvent<SourceRecord> r : records) {
            SourceRecord record = r.record();
            unmarked.add(r);
            long now = nowMicros();
            Optional<TransactionMarker> marker = TransactionMarker.of(record);
            Optional<Watermark> heartbeat = marker.isPresent() ? Optional.empty() : mapper.heartbeat(record);
            if (marker.isPresent()) {
                events.addAll(marker.get().begin()
                        ? transactions.begin(marker.get().txId(), now)
                        : transactions.end(marker.get().txId(), marker.get().commitLsn(), now));
            } else if (heartbeat.isPresent()) {
                newest = heartbeat.get();
            } else {
                try {
                    mapper.map(record).ifPresent(e -> events.addAll(transactions.add(e, now)));
                } catch (RuntimeException e) {
                    events.addAll(unmappable(record, e, now));
                }
            }
            if (!transactions.isOpen()) {
                markable = unmarked.size();
            }
        }
        // any drift that hid changes before these records has its resets published ahead of them
        boolean vouched = vouched(check);
        List<ChangeEvent> published = publisher.publishAll(events);
        if (newest != null && vouched) {
            // every change committed before the heartbeat is acknowledged now (the slot streams whole
            // transactions in commit order, so rows still held commit after it): the watermark goes
            // out behind them on every partition
            publisher.publishWatermark(newest);
            metrics.watermark(newest.commitTs());
        }
        metrics.batch(published.size());
        long now = nowMicros();
        for (ChangeEvent event : published) {
            metrics.published(event.source().qualifiedName(), event.op().code(), event.commitTs(), now);
        }
        for (long i = overflowsBefore; i < transactions.overflows(); i++) {
            metrics.error("transaction-too-large");
        }
        List<RecordChangeEvent<SourceRecord>> done = unmarked.subList(0, markable);
        for (RecordChangeEvent<SourceRecord> r : done) {
            committer.markProcessed(r);
        }
        done.clear();
        committer.markBatchFinished();
    }

    private static boolean vouched(CompletableFuture<Boolean> check) throws InterruptedException {
        try {
            return check.get();
        } catch (ExecutionException e) {
            return false;
        }
    }

    /** Fail closed: what changed in the table is unknown, so its namespaces are reset; the record goes to the DLQ. */
    private List<ChangeEvent> unmappable(SourceRecord record, RuntimeException e, long now) throws InterruptedException {
        List<ChangeEvent> resets = ChangeEventMapper.tableOf(record)
                .map(table -> Resets.forTables(config, List.of(table), Math.max(0, position(record)), now))
                .orElse(List.of());
        metrics.error("unmappable");
        LOG.error("cannot map a change from {} (sent to the DLQ; {} namespace(s) reset instead): {}", record.topic(),
                resets.size(), e.getMessage());
        publisher.deadLetter(DeadLetter.of("capture", DlqReason.MALFORMED, e.getMessage()).original(null, debeziumJson(record))
                .source(record.topic(), position(record)).exception(e).at(clock.millis()));
        return resets;
    }

    /** The record as Debezium's JSON (no schemas): the original change, readable by any Debezium tooling. */
    private byte[] debeziumJson(SourceRecord record) {
        try {
            return json.fromConnectData(record.topic(), record.valueSchema(), record.value());
        } catch (RuntimeException e) {
            return String.valueOf(record.value()).getBytes(StandardCharsets.UTF_8);
        }
    }

    private static long position(SourceRecord record) {
        Object lsn = record.sourceOffset() == null ? null : record.sourceOffset().get("lsn");
        return lsn instanceof Number n ? n.longValue() : -1;
    }

    private long nowMicros() {
        Instant now = clock.instant();
        return now.getEpochSecond() * 1_000_000L + now.getNano() / 1_000;
    }
}
