package io.lethe.capture.engine;

import io.lethe.capture.mapping.Resets;
import io.lethe.config.KafkaRole;
import io.lethe.config.LetheConfig;
import io.lethe.config.NamespaceConfig;
import io.lethe.config.KafkaClients;
import io.lethe.schemas.ChangeEvent;
import io.lethe.schemas.Headers;
import io.lethe.schemas.RecordSignature;
import io.lethe.schemas.SigningKeys;
import io.lethe.schemas.Op;
import io.lethe.schemas.Watermark;
import io.lethe.schemas.serde.EventJson;
import io.lethe.stage.dlq.DeadLetter;
import io.lethe.stage.failure.Failure;
import io.lethe.stage.failure.KafkaFailures;
import io.lethe.stage.health.Misconfiguration;
import io.lethe.stage.retry.Backoff;
import io.lethe.stage.retry.Retry;
import io.lethe.stage.trace.Tracing;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Publishes change events to {@code lethe.changes} with an idempotent, acks=all producer and
 * returns only when Kafka has acknowledged every one of them, so capture never moves its offset
 * past a change Kafka does not hold. Failures are classified ({@link KafkaFailures}): a retriable
 * one sends the batch again after a jittered backoff, for as long as it takes (duplicates are
 * allowed downstream; the one {@link Retry} loop of every stage); a configuration error does the same with health DOWN; a change Kafka can
 * never take (larger than it accepts) is replaced by a namespace-wide reset of its table, which
 * certainly covers it, and dead-lettered.
 */
public final class ChangePublisher implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ChangePublisher.class);

    private final LetheConfig config;
    private final KafkaProducer<String, byte[]> producer;
    private final String topic;
    private final String dlqTopic;
    private final Clock clock;
    private final Misconfiguration misconfiguration;
    private final Runnable onRetry;
    private final Runnable onWidened;
    private final Tracing tracing;
    /** {@link LetheConfig#captures()} of this capture's configuration (a shard's view for a shard), for its watermarks. */
    private final byte[] captures;

    /**
     * @param onRetry   told of every failed attempt that will be retried
     * @param onWidened told of every change replaced by a reset of its table
     */
    public ChangePublisher(LetheConfig config, Clock clock, Misconfiguration misconfiguration, Runnable onRetry, Runnable onWidened) {
        this(config, clock, misconfiguration, onRetry, onWidened, Tracing.OFF);
    }

    /** As above; {@code tracing} samples changes and gives each sampled one a span and a {@code traceparent} header. */
    public ChangePublisher(LetheConfig config, Clock clock, Misconfiguration misconfiguration, Runnable onRetry, Runnable onWidened,
            Tracing tracing) {
        Map<String, Object> props = KafkaClients.common(config.kafka(), KafkaRole.CAPTURE, "lethe-capture");
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        props.put(ProducerConfig.LINGER_MS_CONFIG, 1);
        props.put(ProducerConfig.BATCH_SIZE_CONFIG, 64 * 1024);
        props.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 60_000);
        props.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, 15_000);
        this.config = config;
        this.producer = new KafkaProducer<>(props, new StringSerializer(), new ByteArraySerializer());
        this.topic = config.topics().changes();
        this.dlqTopic = config.topics().dlq();
        this.clock = clock;
        this.misconfiguration = misconfiguration;
        this.onRetry = onRetry;
        this.onWidened = onWidened;
        SigningKeys keys = config.streams().signingKeys();
        this.signature = keys == null ? null : keys.signer();
        this.watermarkKey = keys == null ? null : keys.signingKey();
        this.tracing = tracing;
        this.captures = config.captures().getBytes(StandardCharsets.UTF_8);
    }

    /**
     * Signs every change with {@code streams.watermark-key} ({@link RecordSignature}
     * over the record key and value, as streams signs invalidations), or null without one: streams
     * maps a change whose signature does not verify into deletes only ({@code untrusted-record}).
     * Never with {@code streams.previous-watermark-key}: that one is only accepted, during a rotation.
     */
    private final RecordSignature signature;

    /** {@code streams.watermark-key}, the key heartbeats' watermarks are signed with, or null. */
    private final byte[] watermarkKey;

    /**
     * Sends every event and waits until Kafka acknowledged all of them, retrying as long as needed.
     * Safe to call from several threads (capture's batches, and the source watch's resets).
     *
     * @return what was published: {@code events}, with any change Kafka refused for good replaced by its table's resets
     */
    public List<ChangeEvent> publishAll(List<ChangeEvent> events) throws InterruptedException {
        List<ChangeEvent> published = new ArrayList<>(events.size());
        List<ChangeEvent> pending = new ArrayList<>(events);
        retry("publishing " + events.size() + " changes to " + topic).run(() -> {
            while (!pending.isEmpty()) {
                List<ChangeEvent> sent = List.copyOf(pending);
                pending.clear();
                List<Failure> failures = sendAndAwait(sent);
                // only what Kafka did not acknowledge is sent again: with idempotence, a failed record
                // fails the later ones of its partition too, so their order is kept
                Failure retriable = null;
                for (int i = 0; i < sent.size(); i++) {
                    Failure f = failures.get(i);
                    if (f == null) {
                        published.add(sent.get(i));
                    } else if (f.isPoison()) {
                        pending.addAll(widen(sent.get(i), f));
                    } else {
                        pending.add(sent.get(i));
                        retriable = retriable == null ? f : retriable;
                    }
                }
                if (retriable != null) {
                    throw new KafkaRefused(retriable);
                }
            }
        });
        misconfiguration.clear();
        return published;
    }

    /**
     * Publishes a watermark to every partition of the changes topic, after every change before it
     * was acknowledged, and waits for Kafka's acknowledgement, retrying like changes.
     */
    public void publishWatermark(Watermark heartbeat) throws InterruptedException {
        // a shard's heartbeat covers only its own tables: its watermark says whose it is (streams keeps one channel per shard)
        Watermark watermark = heartbeat.ofShard(config.source().shard());
        retry("publishing a watermark to " + topic).run(() -> {
            try {
                List<Future<RecordMetadata>> acks = new ArrayList<>();
                for (var partition : producer.partitionsFor(topic)) {
                    ProducerRecord<String, byte[]> record = new ProducerRecord<>(topic, partition.partition(), Watermark.KEY, new byte[0]);
                    // signed with the key streams verifies it with (streams.watermark-key), when there is one
                    watermark.writeTo(record.headers(), watermarkKey);
                    // what this capture captures: streams forwards it only when its own configuration expects the same
                    record.headers().add(Watermark.CAPTURES, captures);
                    acks.add(producer.send(record));
                }
                producer.flush();
                for (Future<RecordMetadata> ack : acks) {
                    ack.get();
                }
            } catch (ExecutionException | KafkaException e) {
                throw new KafkaRefused(KafkaFailures.classify(e));
            }
        });
    }

    /** Span name of capture's publish of a sampled change (from handing it to the producer until Kafka acknowledged it). */
    public static final String SPAN = "lethe.capture.publish";
    static final AttributeKey<Long> LSN = AttributeKey.longKey("lethe.lsn");
    static final AttributeKey<List<String>> NAMESPACES = AttributeKey.stringArrayKey("lethe.namespaces");
    static final AttributeKey<Long> PARTITION = AttributeKey.longKey("messaging.destination.partition.id");

    /** One outcome per event, in order: null when Kafka acknowledged it. */
    private List<Failure> sendAndAwait(List<ChangeEvent> events) throws InterruptedException {
        List<Future<RecordMetadata>> acks = new ArrayList<>(events.size());
        List<Failure> failures = new ArrayList<>(events.size());
        // sampled here, once per change: the other stages follow its traceparent (unsampled: no span, no header)
        Span[] spans = tracing.on() ? new Span[events.size()] : null;
        for (int i = 0; i < events.size(); i++) {
            ChangeEvent event = events.get(i);
            byte[] value = EventJson.write(event);
            ProducerRecord<String, byte[]> record = new ProducerRecord<>(topic, event.recordKey(), value);
            record.headers().add(Headers.SCHEMA, ChangeEvent.SCHEMA_ID.getBytes(StandardCharsets.UTF_8));
            if (signature != null) {
                signature.addTo(record.headers(), event.recordKey(), value);
            }
            if (event.op() == Op.RESET) {
                // a reset names the namespaces this capture knows of its table: streams widens it to the ones it knows when
                // this capture's configuration is another than its own
                record.headers().add(Watermark.CAPTURES, captures);
            }
            if (spans != null && tracing.sample()) {
                spans[i] = startSpan(event);
                tracing.inject(spans[i], record.headers());
            }
            try {
                acks.add(producer.send(record));
            } catch (KafkaException e) {
                acks.add(CompletableFuture.failedFuture(e));
            }
        }
        producer.flush();
        for (int i = 0; i < acks.size(); i++) {
            Span span = spans == null ? null : spans[i];
            try {
                RecordMetadata meta = acks.get(i).get();
                failures.add(null);
                if (span != null) {
                    span.setAttribute(PARTITION, (long) meta.partition());
                    span.end();
                }
            } catch (ExecutionException e) {
                Failure f = KafkaFailures.classify(e);
                failures.add(f);
                if (span != null) {
                    span.setStatus(StatusCode.ERROR, f.reason());
                    span.end();
                }
            }
        }
        return failures;
    }

    /** A sampled change's span: its LSN and the namespaces of its table, never its key or values. */
    private Span startSpan(ChangeEvent event) {
        Span span = tracing.startRoot(SPAN, SpanKind.PRODUCER);
        span.setAttribute(LSN, event.lsn());
        span.setAttribute("lethe.op", event.op().name());
        span.setAttribute(NAMESPACES, event.namespace() != null
                ? List.of(event.namespace())
                : config.namespacesForTable(event.source().qualifiedName()).stream().map(NamespaceConfig::name).toList());
        span.setAttribute("messaging.destination.name", topic);
        return span;
    }

    /** The resets of a change Kafka refuses for good, which replace it; the change is dead-lettered. */
    private List<ChangeEvent> widen(ChangeEvent event, Failure f) throws InterruptedException {
        List<ChangeEvent> resets = Resets.forTables(config, List.of(event.source()), event.lsn(), clock.millis() * 1000);
        onWidened.run();
        byte[] bytes = EventJson.write(event);
        LOG.error("Kafka refuses change {} of {} for good ({}): its {} namespace(s) are reset instead", event.id(),
                event.source().qualifiedName(), f.message(), resets.size());
        deadLetter(DeadLetter.of("capture", f.dlqReason(),
                "Kafka refused the change (" + bytes.length + " bytes): " + f.message() + "; namespace(s) of "
                        + event.source().qualifiedName() + " reset instead")
                .original(event.recordKey(), bytes).source(topic, event.lsn()).exception(f.cause()).at(clock.millis()));
        return resets;
    }

    /**
     * Dead-letters something capture could not publish as it is, waiting for the acknowledgement
     * (capture moves on only once it is in Kafka), retrying like changes.
     */
    public void deadLetter(DeadLetter letter) throws InterruptedException {
        retry("dead-lettering to " + dlqTopic).run(() -> {
            try {
                producer.send(letter.toRecord(dlqTopic)).get();
            } catch (ExecutionException | KafkaException e) {
                Failure f = KafkaFailures.classify(e);
                if (f.isPoison()) {
                    LOG.error("the DLQ refuses a dead letter of capture for good ({}); it is only in this log: reason {}, key {}",
                            f.message(), letter.reason(), letter.key());
                    return;
                }
                throw new KafkaRefused(f);
            }
        });
    }

    /** Retries {@code what} for as long as it takes; each failure counts a retry and reports a configuration error (health DOWN). */
    private Retry<KafkaRefused> retry(String what) {
        return Retry.of(LOG, new Backoff(config.apply().retryBackoffMin(), config.apply().retryBackoffMax()), what).untilStopped()
                .onFailure(KafkaRefused.class, (e, attempt) -> {
                    onRetry.run();
                    if (e.failure().isFatal()) {
                        misconfiguration.report(e.failure());
                    }
                });
    }

    @Override
    public void close() {
        producer.close(Duration.ofSeconds(10));
    }
}
