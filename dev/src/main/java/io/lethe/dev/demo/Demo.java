package io.lethe.dev.demo;

import io.lethe.cli.http.HttpEndpoint;
import io.lethe.pipeline.Pipeline;
import io.lethe.pipeline.Roles;
import io.lethe.config.LetheConfig;
import io.lethe.embedded.LetheStack;
import io.lethe.embedded.PostgresEndpoint;
import io.lethe.region.RegionConsumerService;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The demo on any stack: the shop schema, every stage in this JVM, a writer at a steady rate,
 * readers filling cache entries in every region, and a status page sampled once a second.
 */
public final class Demo implements AutoCloseable {
    /**
     * Names and rates of one demo run.
     *
     * @param database    database created on the stack's PostgreSQL
     * @param slot        slot and publication name
     * @param topicPrefix prefix of topics, groups and the streams application id
     * @param regions     regions (each has its own Redis on the stack)
     * @param rate        committed updates per second
     * @param readRate    cache reads per second per region
     */
    public record Settings(String database, String slot, String topicPrefix, List<String> regions, double rate, double readRate) {
        public Settings {
            regions = List.copyOf(regions);
        }
    }

    private final LetheStack stack;
    private final Settings settings;
    private final LetheConfig config;
    private final Pipeline pipeline;
    private final HttpEndpoint http;
    private final List<RegionView> views = new ArrayList<>();
    private final StatusPage status;
    private final ScheduledExecutorService sampler = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "demo-sampler");
        t.setDaemon(true);
        return t;
    });
    private final Map<String, RegionView.Sample> latest = new LinkedHashMap<>();
    private Connection writes;
    private Writer writer;
    private Thread writerThread;
    private Readers readers;

    private Demo(LetheStack stack, Settings settings, LetheConfig config, Pipeline pipeline, HttpEndpoint http,
            PrometheusMeterRegistry registry) {
        this.stack = stack;
        this.settings = settings;
        this.config = config;
        this.pipeline = pipeline;
        this.http = http;
        pipeline.regions().values().forEach(r -> views.add(new RegionView(r, registry)));
        this.status = new StatusPage(views.stream().map(RegionView::region).toList());
        http.page("/", "text/html; charset=utf-8", status::html);
        http.page("/status.json", "application/json", status::json);
    }

    /** Creates the schema, writes the config to {@code configFile}, starts every stage and the HTTP port. */
    public static Demo start(LetheStack stack, Settings settings, PrometheusMeterRegistry registry, String httpHost, int httpPort,
            Path configFile) throws Exception {
        DemoSetup.createSchema(stack, settings.database());
        LetheConfig config = DemoSetup.writeConfig(configFile, DemoSetup.yaml(stack, settings));
        Pipeline pipeline = Pipeline.start(config, Roles.all(config), registry, Clock.systemUTC());
        HttpEndpoint http;
        try {
            http = new HttpEndpoint(httpHost, httpPort, registry, pipeline::health, pipeline::stopped);
        } catch (RuntimeException e) {
            pipeline.close();
            throw e;
        }
        return new Demo(stack, settings, config, pipeline, http, registry);
    }

    /** Starts the writer, the readers and the once-a-second sampling. */
    public void startWorkload(PrometheusMeterRegistry registry) throws Exception {
        PostgresEndpoint pg = stack.postgres();
        Map<String, String> redisByRegion = new LinkedHashMap<>();
        config.regions().forEach((name, region) -> redisByRegion.put(name, region.redisUri()));
        readers = new Readers(redisByRegion, pg, settings.database(), settings.readRate(), registry);
        writes = DriverManager.getConnection(pg.jdbcUrl(settings.database()), pg.user(), pg.password());
        writer = new Writer(writes, settings.rate());
        writerThread = new Thread(writer, "demo-writer");
        writerThread.start();
        sampler.scheduleAtFixedRate(this::sample, 1, 1, TimeUnit.SECONDS);
    }

    private void sample() {
        for (RegionView view : views) {
            RegionView.Sample s = view.sample();
            status.record(view.region(), s);
            synchronized (latest) {
                latest.put(view.region(), s);
            }
        }
        status.totals(committed(), readers == null ? 0 : readers.reads(), shadowReads());
    }

    /** The readers' shadow reads so far: sampled reads checked against the database, and confirmed stale entries. */
    public Readers.ShadowFigure shadowReads() {
        return readers == null ? Readers.ShadowFigure.NONE : readers.shadowReads();
    }

    /** The newest sample of each region. */
    public Map<String, RegionView.Sample> latest() {
        synchronized (latest) {
            return new LinkedHashMap<>(latest);
        }
    }

    public List<RegionView> views() {
        return views;
    }

    public long committed() {
        return writer == null ? 0 : writer.committed();
    }

    public String url() {
        return http.url();
    }

    public LetheStack stack() {
        return stack;
    }

    public LetheConfig config() {
        return config;
    }

    public Pipeline pipeline() {
        return pipeline;
    }

    /** Stops writing and reading; the pipeline keeps running. */
    public void stopWorkload() throws InterruptedException {
        if (writer != null) {
            writer.stop();
            writerThread.join(10_000);
        }
        if (readers != null) {
            readers.close();
        }
    }

    /**
     * Commits one more change (the sentinel) after the workload stopped, and waits until every
     * region applied it: the sentinel is the only change with an LSN at or past the WAL position read
     * just before it. (Watching a planted Redis key instead was wrong: any earlier invalidation of
     * that key, still on its way, deleted it too.)
     */
    public Duration drain(Duration timeout) throws Exception {
        long t0 = System.nanoTime();
        Map<String, AtomicLong> appliedLsn = new LinkedHashMap<>();
        for (RegionConsumerService region : pipeline.regions().values()) {
            AtomicLong max = new AtomicLong();
            appliedLsn.put(region.region(), max);
            region.addListener(events -> events.forEach(e -> max.accumulateAndGet(e.lsn(), Math::max)));
        }
        long sentinelFrom;
        PostgresEndpoint pg = stack.postgres();
        try (Connection c = DriverManager.getConnection(pg.jdbcUrl(settings.database()), pg.user(), pg.password());
                Statement s = c.createStatement()) {
            try (ResultSet rs = s.executeQuery("SELECT (pg_current_wal_insert_lsn() - '0/0'::pg_lsn)::bigint")) {
                rs.next();
                sentinelFrom = rs.getLong(1);
            }
            s.execute("UPDATE products SET version = version + 1 WHERE id = 1");
        }
        long deadline = System.nanoTime() + timeout.toNanos();
        for (Map.Entry<String, AtomicLong> region : appliedLsn.entrySet()) {
            while (region.getValue().get() < sentinelFrom) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("the sentinel change did not reach " + region.getKey() + " within " + timeout);
                }
                Thread.sleep(20);
            }
        }
        return Duration.ofNanos(System.nanoTime() - t0);
    }

    @Override
    public void close() throws Exception {
        sampler.shutdownNow();
        stopWorkload();
        if (writes != null) {
            writes.close();
        }
        http.close();
        pipeline.close();
    }
}
