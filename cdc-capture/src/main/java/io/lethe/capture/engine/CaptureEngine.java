package io.lethe.capture.engine;

import io.debezium.embedded.Connect;
import io.debezium.engine.DebeziumEngine;
import io.debezium.engine.RecordChangeEvent;
import io.debezium.engine.format.ChangeEventFormat;
import java.io.IOException;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.connect.source.SourceRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Debezium Embedded behind a small contract: start with a batch handler, know whether it is
 * streaming, learn why it stopped, stop it.
 */
public final class CaptureEngine implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(CaptureEngine.class);

    /** Receives each batch and must call {@code markProcessed} only after Kafka acknowledged it. */
    public interface BatchHandler extends DebeziumEngine.ChangeConsumer<RecordChangeEvent<SourceRecord>> {
    }

    /** Told when the engine starts and stops streaming. */
    public interface Listener {
        void streaming(boolean streaming);

        void stopped(Throwable failure);
    }

    private final DebeziumEngine<RecordChangeEvent<SourceRecord>> engine;
    private final ExecutorService executor = Executors.newSingleThreadExecutor(r -> new Thread(r, "lethe-capture-engine"));
    private final CountDownLatch done = new CountDownLatch(1);
    private final AtomicReference<Throwable> failure = new AtomicReference<>();
    private final AtomicBoolean closed = new AtomicBoolean();

    public CaptureEngine(Properties properties, BatchHandler handler, Listener listener) {
        this.engine = DebeziumEngine.create(ChangeEventFormat.of(Connect.class))
                .using(properties)
                .notifying(handler)
                .using(new DebeziumEngine.ConnectorCallback() {
                    @Override
                    public void pollingStarted() {
                        listener.streaming(true);
                    }

                    @Override
                    public void pollingStopped() {
                        listener.streaming(false);
                    }
                })
                .using((success, message, error) -> {
                    if (!success) {
                        Throwable why = error != null ? error : new IllegalStateException(message);
                        failure.set(why);
                        LOG.error("capture engine stopped: {}", message, error);
                    }
                    listener.streaming(false);
                    listener.stopped(failure.get());
                    done.countDown();
                })
                .build();
    }

    public void start() {
        executor.execute(engine);
    }

    /** Why the engine stopped, when it failed. */
    public Throwable failure() {
        return failure.get();
    }

    public boolean isDone() {
        return done.getCount() == 0;
    }

    public boolean awaitStop(long timeout, TimeUnit unit) throws InterruptedException {
        return done.await(timeout, unit);
    }

    /** Stops the engine; closing it again (capture stopped itself, then was closed) does nothing. */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        try {
            engine.close();
            if (!done.await(30, TimeUnit.SECONDS)) {
                LOG.warn("capture engine did not stop within 30 s");
            }
        } catch (IOException e) {
            LOG.warn("closing the capture engine failed: {}", e.toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            executor.shutdownNow();
        }
    }
}
