package io.lethe.bench.raw;

import io.debezium.embedded.Connect;
import io.debezium.engine.DebeziumEngine;
import io.debezium.engine.RecordChangeEvent;
import io.debezium.engine.format.ChangeEventFormat;
import io.lethe.embedded.PostgresEndpoint;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Properties;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.connect.source.SourceRecord;

/**
 * Debezium Embedded alone, with a consumer that only counts and marks records processed:
 * what capture could do if publishing cost nothing. Offsets in memory, its own slot.
 */
public final class DebeziumAlone {
    private final PostgresEndpoint pg;
    private final String database;
    private final String slot;
    private final String publication;
    private final String table;

    public DebeziumAlone(PostgresEndpoint pg, String database, String slot, String publication, String table) {
        this.pg = pg;
        this.database = database;
        this.slot = slot;
        this.publication = publication;
        this.table = table;
    }

    /** Creates the slot before the burst, so the engine reads the burst as a catch-up. */
    public void createSlot() throws SQLException {
        try (Connection c = DriverManager.getConnection(pg.jdbcUrl(database), pg.user(), pg.password());
                Statement s = c.createStatement()) {
            s.execute("SELECT pg_create_logical_replication_slot('" + slot + "', 'pgoutput')");
        }
    }

    public Rate read(long rows, Duration timeout) throws Exception {
        Properties p = new Properties();
        p.setProperty("name", "bench-debezium-alone");
        p.setProperty("connector.class", "io.debezium.connector.postgresql.PostgresConnector");
        p.setProperty("topic.prefix", slot);
        p.setProperty("database.hostname", pg.host());
        p.setProperty("database.port", Integer.toString(pg.port()));
        p.setProperty("database.dbname", database);
        p.setProperty("database.user", pg.user());
        if (pg.password() != null) {
            p.setProperty("database.password", pg.password());
        }
        p.setProperty("plugin.name", "pgoutput");
        p.setProperty("slot.name", slot);
        p.setProperty("publication.name", publication);
        p.setProperty("publication.autocreate.mode", "disabled");
        p.setProperty("snapshot.mode", "no_data");
        p.setProperty("table.include.list", table.replace(".", "\\."));
        p.setProperty("poll.interval.ms", "10");
        p.setProperty("max.batch.size", "2048");
        p.setProperty("max.queue.size", "8192");
        p.setProperty("offset.storage", "org.apache.kafka.connect.storage.MemoryOffsetBackingStore");
        p.setProperty("offset.flush.interval.ms", "60000");
        AtomicLong seen = new AtomicLong();
        AtomicLong started = new AtomicLong();
        DebeziumEngine<RecordChangeEvent<SourceRecord>> engine = DebeziumEngine.create(ChangeEventFormat.of(Connect.class))
                .using(p)
                .notifying((records, committer) -> {
                    started.compareAndSet(0, System.nanoTime());
                    for (RecordChangeEvent<SourceRecord> r : records) {
                        if (r.record().value() != null) {
                            seen.incrementAndGet();
                        }
                        committer.markProcessed(r);
                    }
                    committer.markBatchFinished();
                })
                .build();
        ExecutorService executor = Executors.newSingleThreadExecutor();
        long t0 = System.nanoTime();
        executor.execute(engine);
        try {
            long deadline = t0 + timeout.toNanos();
            while (seen.get() < rows) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("Debezium read only " + seen.get() + " of " + rows + " rows in " + timeout);
                }
                TimeUnit.MILLISECONDS.sleep(5);
            }
            // from the first batch on: the engine's own start-up (connector, slot check) is not decoding
            return Rate.since(seen.get(), started.get());
        } finally {
            engine.close();
            executor.shutdown();
            executor.awaitTermination(30, TimeUnit.SECONDS);
        }
    }

    /** Drops the slot once its walsender let go of it (it outlives the engine's close by a moment). */
    public void dropSlot() throws SQLException, InterruptedException {
        try (Connection c = DriverManager.getConnection(pg.jdbcUrl(database), pg.user(), pg.password());
                Statement s = c.createStatement()) {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (true) {
                try (java.sql.ResultSet rs = s.executeQuery("SELECT active FROM pg_replication_slots WHERE slot_name = '" + slot + "'")) {
                    if (!rs.next()) {
                        return;
                    }
                    if (!rs.getBoolean(1)) {
                        break;
                    }
                }
                if (System.nanoTime() > deadline) {
                    s.execute("SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE slot_name = '" + slot + "'");
                }
                Thread.sleep(100);
            }
            s.execute("SELECT pg_drop_replication_slot('" + slot + "')");
        }
    }
}
