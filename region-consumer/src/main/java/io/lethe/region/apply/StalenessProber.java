package io.lethe.region.apply;

import io.lethe.config.ApplyConfig;
import io.lethe.config.KafkaRole;
import io.lethe.config.LetheConfig;
import io.lethe.config.RegionConfig;
import io.lethe.config.KafkaClients;
import io.lethe.region.redis.RegionRedis;
import io.lethe.schemas.InvalidationEvent;
import io.lethe.schemas.SigningKeys;
import io.lethe.schemas.SchemaViolationException;
import io.lethe.schemas.Watermark;
import io.lethe.schemas.redis.AppliedLsn;
import io.lethe.schemas.redis.RedisLayout;
import io.lethe.schemas.serde.EventJson;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteBufferDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Measures staleness instead of hoping: reads the region's invalidation topic on its own (its
 * own consumer group, so it keeps sampling even when the applier is stuck), samples 1 in N key
 * invalidations, and at each window after the commit (default 1 s, 10 s, 60 s) checks the
 * region's Redis: is an entry older than the event's version still there?
 *
 * <p>A check is <b>coherent</b> when the key is absent, or holds a versioned entry at least as
 * new as the event, or holds an entry of unknown version written after the invalidation was
 * applied there (the fence shows the event's version, or its counter moved since sampling: any
 * fill that survives that is fenced; once the fence has expired, an earlier check that saw it
 * applied, or the region's applied watermark past the event's commit, shows the same). Otherwise
 * it is <b>incoherent</b>. Exported as
 * {@code lethe.coherence.checks{region, window, result}} and the fraction coherent within each
 * window, {@code lethe.coherence.ratio{region, window}} (Polaris-style "nines within T").
 */
public final class StalenessProber implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(StalenessProber.class);
    /**
     * How long a poll waits for records: they end it at once and {@link #close} wakes it, so this only
     * sets how often an idle prober wakes (it was 200 ms).
     */
    private static final Duration POLL = Duration.ofSeconds(1);
    public static final String CHECKS = "lethe.coherence.checks";
    public static final String RATIO = "lethe.coherence.ratio";
    /** 1 once the prober reads from a known position on every partition it was given, else 0. */
    public static final String SAMPLING = "lethe.coherence.prober.sampling";

    private final LetheConfig config;
    private final RegionConfig region;
    private final ApplyConfig apply;
    private final Clock clock;
    private final MeterRegistry registry;
    private final ScheduledExecutorService checks;
    private final Map<String, Counter> counters = new ConcurrentHashMap<>();
    private final Map<Duration, AtomicLong[]> totals = new ConcurrentHashMap<>();
    private final Thread reader;
    private final AtomicLong seen = new AtomicLong();
    private volatile boolean running;
    private volatile boolean sampling;
    /**
     * Keys and values as views of the fetched bytes ({@link ByteBufferDeserializer} copies nothing):
     * the prober reads every record but parses one in {@code sample-every}, so only that one is copied.
     */
    private KafkaConsumer<ByteBuffer, ByteBuffer> consumer;
    private RegionRedis redis;

    /** The rules the region applies (a refused record is not sampled), and what they need: the watermark key and last LSN. */
    private final EventRules rules;
    /** Verifies watermarks and a sample's signature as the region does (an unsigned forged record is never a sample), or null. */
    private final SigningKeys keys;
    private long lastWatermarkLsn = -1;
    /** Whether a sample's key is coherent in the region's Redis now; set at start. */
    private CoherenceCheck coherence;

    public StalenessProber(LetheConfig config, String regionName, MeterRegistry registry, Clock clock) {
        this.config = config;
        this.rules = new EventRules(config.namespaces(), config.file(), config.apply().maxLsnLead());
        this.keys = EventRules.signingKeys(config);
        this.region = config.region(regionName);
        this.apply = config.apply();
        this.clock = clock;
        this.registry = registry;
        this.checks = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "lethe-prober-checks-" + regionName);
            t.setDaemon(true);
            return t;
        });
        this.reader = new Thread(this::read, "lethe-prober-" + regionName);
        for (Duration window : apply.proberWindows()) {
            AtomicLong[] t = {new AtomicLong(), new AtomicLong()};
            totals.put(window, t);
            String w = label(window);
            counter(w, "coherent");
            counter(w, "incoherent");
            Gauge.builder(RATIO, t, x -> x[1].get() == 0 ? Double.NaN : (double) x[0].get() / x[1].get())
                    .tag("region", regionName).tag("window", w).description("fraction of sampled keys coherent within the window")
                    .register(registry);
        }
        Gauge.builder(SAMPLING, this, p -> p.sampling ? 1 : 0).tag("region", regionName)
                .description("1 once the prober reads from a known position on each of its partitions").register(registry);
    }

    /** The group the prober reads with: apart from the applier's, so it samples even when that is stuck. */
    public static String groupId(LetheConfig config, String region) {
        return config.apply().groupPrefix() + region + "-prober";
    }

    /** The bytes, and the longest wait (Kafka's default), a prober's fetch asks the broker to gather before it answers. */
    static final int FETCH_MIN_BYTES = 1 << 20;
    static final Duration FETCH_MAX_WAIT = Duration.ofMillis(500);

    /**
     * The prober reads every record of the region's topic, like the applier, but needs none of them
     * soon: each sample is checked a window after its commit. So it asks the broker for large fetches
     * ({@link #FETCH_MIN_BYTES}, or what is there after at most half its shortest window and never
     * over {@link #FETCH_MAX_WAIT}, as often as an idle consumer fetches anyway), where a fetch
     * answered as soon as one record is there costs the broker a request per producer batch.
     * Settings given in {@code kafka.properties} win.
     */
    static void fewerFetches(Map<String, Object> props, List<Duration> windows) {
        long shortest = windows.stream().mapToLong(Duration::toMillis).min().orElse(FETCH_MAX_WAIT.toMillis() * 2);
        long wait = Math.max(1, Math.min(FETCH_MAX_WAIT.toMillis(), shortest / 2));
        props.putIfAbsent(ConsumerConfig.FETCH_MIN_BYTES_CONFIG, FETCH_MIN_BYTES);
        props.putIfAbsent(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, (int) wait);
    }

    public void start() {
        redis = new RegionRedis(region, 1, apply.commandTimeout());
        coherence = new CoherenceCheck(redis, AppliedLsn.key(config.apply().groupPrefix() + region.name()));
        Map<String, Object> props = KafkaClients.common(config.kafka(), KafkaRole.region(region.name()), "lethe-prober-" + region.name());
        props.put(ConsumerConfig.GROUP_ID_CONFIG, groupId(config, region.name()));
        props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "latest");
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, true);
        fewerFetches(props, apply.proberWindows());
        consumer = new KafkaConsumer<>(props, new ByteBufferDeserializer(), new ByteBufferDeserializer());
        running = true;
        reader.start();
    }

    private void read() {
        try {
            consumer.subscribe(List.of(config.topics().invalidations(region.name())), new ConsumerRebalanceListener() {
                @Override
                public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
                    sampling = false;
                }

                @Override
                public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
                    // "latest" is looked up here, not at the first fetch: an event sent once this
                    // gauge reads 1 is sampled, one sent before it may be skipped (the prober
                    // watches from now on, it does not replay)
                    partitions.forEach(consumer::position);
                    sampling = !consumer.assignment().isEmpty();
                }
            });
            boolean due = false;
            while (running) {
                for (ConsumerRecord<ByteBuffer, ByteBuffer> r : consumer.poll(POLL)) {
                    if (WATERMARK_KEY.equals(r.key())) {
                        if (EventRules.watermarkRefusal(r.headers(), keys).isEmpty()) {
                            lastWatermarkLsn = Math.max(lastWatermarkLsn, Watermark.read(r.headers()).orElseThrow().lsn());
                        }
                        continue;
                    }
                    // only the sampled record is parsed (one in proberSampleEvery): parsing every one cost
                    // as much CPU as applying them; a due sample that is a pattern passes to the next record
                    if (!due && seen.incrementAndGet() % apply.proberSampleEvery() != 0) {
                        continue;
                    }
                    due = true;
                    String key = r.key() == null ? null : StandardCharsets.UTF_8.decode(r.key().duplicate()).toString();
                    byte[] value = bytes(r.value());
                    InvalidationEvent event;
                    try {
                        event = EventJson.readInvalidation(value);
                    } catch (SchemaViolationException e) {
                        continue;
                    }
                    // a record the region refuses (EventRules, trust no topic) is not applied: never a sample,
                    // or a forged record would raise a false staleness alarm
                    if (event.scope().isPattern() || rules.refusal(event, lastWatermarkLsn).isPresent()
                            || EventRules.signatureRefusal(r.headers(), key, value, keys).isPresent()) {
                        continue;
                    }
                    due = false;
                    sample(event);
                }
            }
        } catch (WakeupException e) {
            // closing
        } catch (RuntimeException e) {
            LOG.warn("region {}: the staleness prober stopped: {}", region.name(), e.toString());
        } finally {
            consumer.close(Duration.ofSeconds(2));
        }
    }

    /** {@link Watermark#KEY} as a record key's bytes (only compared, never read through). */
    private static final ByteBuffer WATERMARK_KEY = ByteBuffer.wrap(Watermark.KEY.getBytes(StandardCharsets.UTF_8)).asReadOnlyBuffer();

    private static byte[] bytes(ByteBuffer buffer) {
        if (buffer == null) {
            return null;
        }
        byte[] out = new byte[buffer.remaining()];
        buffer.duplicate().get(out);
        return out;
    }

    private void sample(InvalidationEvent event) {
        String counter;
        try {
            counter = redis.hashCommands().hget(RedisLayout.fenceKey(event.key()), RedisLayout.FENCE_COUNTER);
        } catch (RuntimeException e) {
            counter = null;
        }
        CoherenceCheck.Sample sample = new CoherenceCheck.Sample(event, counter, new AtomicBoolean());
        long commitMillis = event.commitTs() / 1000;
        for (Duration window : apply.proberWindows()) {
            long delay = Math.max(0, commitMillis + window.toMillis() - clock.millis());
            checks.schedule(() -> check(sample, window), delay, TimeUnit.MILLISECONDS);
        }
    }

    private void check(CoherenceCheck.Sample sample, Duration window) {
        boolean coherent;
        try {
            coherent = coherence.coherent(sample);
        } catch (RuntimeException e) {
            coherent = false; // Redis unreachable: the region cannot be shown coherent
        }
        String w = label(window);
        counter(w, coherent ? "coherent" : "incoherent").increment();
        AtomicLong[] t = totals.get(window);
        if (coherent) {
            t[0].incrementAndGet();
        }
        t[1].incrementAndGet();
    }

    private Counter counter(String window, String result) {
        return counters.computeIfAbsent(window + '\0' + result, k -> Counter.builder(CHECKS).tag("region", region.name())
                .tag("window", window).tag("result", result).description("staleness checks of sampled keys").register(registry));
    }

    /** {@code 1s}, {@code 10s}, {@code 500ms}. */
    public static String label(Duration window) {
        return window.toMillis() % 1000 == 0 ? window.toSeconds() + "s" : window.toMillis() + "ms";
    }

    @Override
    public void close() {
        running = false;
        if (consumer != null) {
            consumer.wakeup();
        }
        try {
            reader.join(5000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        checks.shutdownNow();
        if (redis != null) {
            redis.close();
        }
    }
}
