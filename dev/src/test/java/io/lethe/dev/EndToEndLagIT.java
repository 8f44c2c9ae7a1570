package io.lethe.dev;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lethe.capture.engine.CaptureMetrics;
import io.lethe.dev.demo.RegionView;
import io.lethe.cli.lag.LagReport;
import io.lethe.embedded.LetheStack;
import io.lethe.embedded.junit.Await;
import io.lethe.embedded.junit.LetheStackExtension;
import io.lethe.embedded.junit.TestScope;
import io.lethe.pipeline.Pipeline;
import io.lethe.pipeline.PipelineFixture;
import io.lethe.region.apply.RegionMetrics;
import io.lethe.streams.metrics.StreamsMetrics;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The end-to-end lag counts every stage: with invalidation-streams stopped while writes go on, a
 * region's lag rises past the pause within seconds although no invalidation reaches it, the
 * stages' watermark ages point at streams, and it falls back once streams runs again. `lethe lag`
 * and the demo's lines show the figures of /metrics.
 */
@ExtendWith(LetheStackExtension.class)
class EndToEndLagIT {
    private static final Duration PAUSE = Duration.ofSeconds(8);

    @Test
    void stoppingStreamsRaisesTheEndToEndLagAndTheBreakdownPointsAtStreams(LetheStack stack, TestScope scope) throws Exception {
        try (PipelineFixture f = new PipelineFixture(stack, scope)) {
            f.sql("CREATE TABLE items (id int PRIMARY KEY, n int)", "INSERT INTO items SELECT i, 0 FROM generate_series(1, 50) i");
            var config = f.config(
                    f.yaml(List.of("us-east"), "item: { table: public.items, keys: [\"" + scope.keyPrefix() + "item:{id}\"] }", ""));
            Pipeline pipeline = f.start(config);
            RegionMetrics metrics = pipeline.regions().get("us-east").metrics();
            RegionView view = new RegionView(pipeline.regions().get("us-east"), f.registry);
            Await.until("the end-to-end lag measured and low", Duration.ofSeconds(60),
                    () -> metrics.endToEndLagSeconds() < 3);

            AtomicBoolean writing = new AtomicBoolean(true);
            Thread writer = new Thread(() -> {
                var pg = stack.postgres();
                try (Connection c = DriverManager.getConnection(pg.jdbcUrl(scope.database()), pg.user(), pg.password());
                        Statement s = c.createStatement()) {
                    for (int i = 0; writing.get(); i++) {
                        s.execute("UPDATE items SET n = n + 1 WHERE id = " + (i % 50 + 1));
                        Thread.sleep(20);
                    }
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }, "e2e-writer");
            writer.start();
            try {
                pipeline.streams().close();
                long stopped = System.nanoTime();
                Await.until("the end-to-end lag past the pause", PAUSE.plusSeconds(10),
                        () -> metrics.endToEndLagSeconds() > PAUSE.toSeconds());
                assertTrue(System.nanoTime() - stopped < PAUSE.plusSeconds(5).toNanos(), "within seconds of the pause length");

                double capture = gauge(f, CaptureMetrics.WATERMARK_AGE);
                double streams = gauge(f, StreamsMetrics.WATERMARK_AGE);
                assertTrue(capture < 3, "capture keeps up: " + capture);
                assertTrue(streams > PAUSE.toSeconds() - 1, "streams' watermark stopped: " + streams);

                LagReport.Row row = new LagReport(config, Clock.systemUTC()).compute(List.of()).get(0);
                double e2e = metrics.endToEndLagSeconds();
                assertEquals("streams", row.backlogAt(), row.toString());
                assertEquals(e2e, row.endToEndSeconds(), 2.0, "lethe lag shows /metrics' end-to-end lag: " + row);
                assertEquals(capture, row.captureSeconds(), 2.0, "and capture's: " + row);
                RegionView.Sample line = view.sample();
                assertEquals(metrics.endToEndLagSeconds(), line.endToEndSeconds(), 0.5, "the demo's line shows /metrics' figure");
                assertEquals(gauge(f, StreamsMetrics.WATERMARK_AGE), line.streamsSeconds(), 0.5);

                pipeline.streams().start();
                Await.until("the end-to-end lag back to about 0", Duration.ofSeconds(90),
                        () -> metrics.endToEndLagSeconds() < 3);
            } finally {
                writing.set(false);
                writer.join();
            }
        }
    }

    private static double gauge(PipelineFixture f, String name) {
        return f.registry.get(name).gauge().value();
    }
}
