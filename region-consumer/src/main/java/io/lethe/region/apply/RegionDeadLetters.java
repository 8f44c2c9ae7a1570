package io.lethe.region.apply;

import io.lethe.schemas.DlqReason;
import io.lethe.schemas.Headers;
import io.lethe.schemas.InvalidationEvent;
import io.lethe.stage.dlq.DeadLetter;
import io.lethe.stage.failure.Failure;
import io.lethe.stage.failure.KafkaFailures;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The region's dead letters, written without stopping the poll loop: {@link #send} hands the
 * record to the producer and returns; a write that fails is sent again from {@link #settled()},
 * which the loop calls before every commit and which says whether every dead letter is
 * acknowledged. Offsets are committed only then (see the offset ledger), so a crash before an
 * acknowledgement re-delivers the record and it is dead-lettered again.
 */
final class RegionDeadLetters {
    private static final Logger LOG = LoggerFactory.getLogger(RegionDeadLetters.class);
    private static final Duration RESEND_PAUSE = Duration.ofSeconds(1);

    private final Producer<String, byte[]> producer;
    private final String topic;
    private final String stage;
    private final RegionMetrics metrics;
    private final Clock clock;
    private final AtomicInteger unacknowledged = new AtomicInteger();
    private final ConcurrentLinkedQueue<ProducerRecord<String, byte[]>> failed = new ConcurrentLinkedQueue<>();
    private long resendAfter;

    public RegionDeadLetters(Producer<String, byte[]> producer, String topic, String region, RegionMetrics metrics, Clock clock) {
        this.producer = producer;
        this.topic = topic;
        this.stage = "region:" + region;
        this.metrics = metrics;
        this.clock = clock;
    }

    /** Dead-letters {@code record} for {@code reason}; returns without waiting for Kafka. */
    public void send(ConsumerRecord<String, byte[]> record, DlqReason reason, String error, Throwable cause) {
        ProducerRecord<String, byte[]> out = DeadLetter.of(stage, reason, error).original(record.key(), record.value())
                .source(record.topic(), record.partition(), record.offset()).exception(cause).at(clock.millis()).toRecord(topic);
        metrics.deadLettered(reason.code());
        LOG.warn("{}: dead-lettered {}-{}@{} ({}): {}", stage, record.topic(), record.partition(), record.offset(), reason.code(), error);
        write(out);
    }

    /** One dead letter per poisoned record (a pattern's matches share one), with the typed reason. */
    public void sendPoisoned(List<Poisoned> poisoned, Map<InvalidationEvent, ConsumerRecord<String, byte[]>> origins) {
        Map<InvalidationEvent, Boolean> sent = new IdentityHashMap<>();
        for (Poisoned p : poisoned) {
            metrics.poisoned(p.failure().reason(), p.widened(), 1);
            if (!p.widened()) {
                LOG.error("{}: Redis refuses key {} even after unlinking it ({}); it may hold a stale entry", stage, p.key(),
                        p.failure().message());
            }
            ConsumerRecord<String, byte[]> origin = origins.get(p.event());
            if (origin != null && sent.put(p.event(), Boolean.TRUE) == null) {
                DlqReason reason = p.failure().dlqReason();
                String instead = !p.widened()
                        ? " (not widened: Redis refused that too)"
                        : reason == DlqReason.REDIS_OOM
                                ? " (deleted at its version instead)"
                                : " (deleted and fenced at the highest version instead)";
                send(origin, reason, "key " + p.key() + ": " + p.failure().message() + instead, p.failure().cause());
            }
        }
    }

    private void write(ProducerRecord<String, byte[]> out) {
        unacknowledged.incrementAndGet();
        try {
            producer.send(out, (meta, error) -> {
                if (error != null) {
                    written(out, error);
                } else {
                    unacknowledged.decrementAndGet();
                }
            });
        } catch (KafkaException e) {
            written(out, e);
        }
    }

    private void written(ProducerRecord<String, byte[]> out, Exception error) {
        Failure f = KafkaFailures.classify(error);
        metrics.retry("dlq");
        if (f.isPoison()) {
            // cannot happen with DeadLetter's cut values; were it to, the record is named in the log
            LOG.error("{}: the DLQ refuses the dead letter of {} for good ({}); it is only in this log", stage,
                    out.headers().lastHeader(Headers.DLQ_SOURCE_OFFSET), f.message());
            unacknowledged.decrementAndGet();
            return;
        }
        LOG.warn("{}: writing a dead letter failed ({}); sending it again", stage, f.message());
        failed.add(out);
    }

    /** True when every dead letter is acknowledged; first sends failed ones again (at most once a second). */
    public boolean settled() {
        if (!failed.isEmpty() && System.nanoTime() >= resendAfter) {
            resendAfter = System.nanoTime() + RESEND_PAUSE.toNanos();
            List<ProducerRecord<String, byte[]>> again = new ArrayList<>();
            for (ProducerRecord<String, byte[]> r; (r = failed.poll()) != null;) {
                again.add(r);
            }
            unacknowledged.addAndGet(-again.size());
            again.forEach(this::write);
        }
        return unacknowledged.get() == 0;
    }

    /** Dead letters sent but not acknowledged. */
    public int unacknowledged() {
        return unacknowledged.get();
    }

    /** Waits up to {@code timeout} for every dead letter to be acknowledged (on closing). */
    public boolean flush(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        producer.flush();
        while (!settled()) {
            if (System.nanoTime() > deadline) {
                return false;
            }
            Thread.sleep(50);
        }
        return true;
    }
}
