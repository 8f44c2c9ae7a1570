package io.lethe.bench.raw;

import io.lethe.embedded.PostgresEndpoint;
import java.nio.ByteBuffer;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.postgresql.PGConnection;
import org.postgresql.PGProperty;
import org.postgresql.replication.PGReplicationStream;

/**
 * PostgreSQL's own limit: decoding the burst through a bare pgoutput replication stream (the
 * JDBC driver's replication API), counting row messages and doing nothing else.
 */
public final class PgoutputDecode {
    private final PostgresEndpoint pg;
    private final String database;
    private final String slot;
    private final String publication;

    public PgoutputDecode(PostgresEndpoint pg, String database, String slot, String publication) {
        this.pg = pg;
        this.database = database;
        this.slot = slot;
        this.publication = publication;
    }

    /** Creates the slot: call before the burst, so the burst is waiting in it. */
    public void createSlot() throws SQLException {
        try (Connection c = DriverManager.getConnection(pg.jdbcUrl(database), pg.user(), pg.password());
                Statement s = c.createStatement()) {
            s.execute("SELECT pg_create_logical_replication_slot('" + slot + "', 'pgoutput')");
        }
    }

    /** Streams the slot until {@code rows} row messages (insert, update, delete) were decoded. */
    public Rate decode(long rows, Duration timeout) throws Exception {
        Properties props = new Properties();
        PGProperty.USER.set(props, pg.user());
        if (pg.password() != null) {
            PGProperty.PASSWORD.set(props, pg.password());
        }
        PGProperty.REPLICATION.set(props, "database");
        PGProperty.ASSUME_MIN_SERVER_VERSION.set(props, "10");
        PGProperty.PREFER_QUERY_MODE.set(props, "simple");
        try (Connection c = DriverManager.getConnection(pg.jdbcUrl(database), props)) {
            long t0 = System.nanoTime();
            PGReplicationStream stream = c.unwrap(PGConnection.class).getReplicationAPI().replicationStream().logical()
                    .withSlotName(slot).withSlotOption("proto_version", "1").withSlotOption("publication_names", publication)
                    .start();
            long seen = 0;
            long deadline = t0 + timeout.toNanos();
            while (seen < rows) {
                ByteBuffer message = stream.readPending();
                if (message == null) {
                    if (System.nanoTime() > deadline) {
                        throw new IllegalStateException("pgoutput decoded only " + seen + " of " + rows + " rows in " + timeout);
                    }
                    TimeUnit.MICROSECONDS.sleep(200);
                    continue;
                }
                byte type = message.get(message.position());
                if (type == 'I' || type == 'U' || type == 'D') {
                    seen++;
                }
            }
            Rate rate = Rate.since(seen, t0);
            stream.close();
            return rate;
        }
    }

    public void dropSlot() throws SQLException {
        try (Connection c = DriverManager.getConnection(pg.jdbcUrl(database), pg.user(), pg.password());
                Statement s = c.createStatement()) {
            s.execute("SELECT pg_drop_replication_slot('" + slot + "')");
        }
    }
}
