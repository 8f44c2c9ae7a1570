package io.lethe.dev.verify.explore;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/** A few connections to the run's database, each set up with {@link Truth#SESSION}, shared by readers and the judge. */
final class ConnectionPool implements AutoCloseable {
    /** Opens a new connection. */
    interface Opener {
        Connection open() throws SQLException;
    }

    private final Opener opener;
    private final int max;
    private final LinkedBlockingQueue<Connection> idle = new LinkedBlockingQueue<>();
    private final List<Connection> all = new ArrayList<>();

    ConnectionPool(Opener opener, int max) {
        this.opener = opener;
        this.max = max;
    }

    /** A connection until the lease is closed. */
    Lease lease() throws SQLException {
        Connection c = idle.poll();
        if (c == null) {
            synchronized (this) {
                if (all.size() < max) {
                    c = opener.open();
                    try (Statement s = c.createStatement()) {
                        s.execute(Truth.SESSION);
                    }
                    all.add(c);
                }
            }
        }
        if (c == null) {
            try {
                c = idle.poll(60, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new SQLException("interrupted waiting for a connection", e);
            }
            if (c == null) {
                throw new SQLException("no connection free within 60 s");
            }
        }
        return new Lease(c);
    }

    /** A leased connection; closing it returns it (or drops it when it broke). */
    final class Lease implements AutoCloseable {
        private final Connection c;

        private Lease(Connection c) {
            this.c = c;
        }

        Connection get() {
            return c;
        }

        @Override
        public void close() {
            try {
                if (c.isClosed() || !c.getAutoCommit()) {
                    drop(c);
                    return;
                }
            } catch (SQLException e) {
                drop(c);
                return;
            }
            idle.add(c);
        }
    }

    private synchronized void drop(Connection c) {
        all.remove(c);
        try {
            c.close();
        } catch (SQLException ignored) {
            // already broken
        }
    }

    @Override
    public synchronized void close() {
        for (Connection c : all) {
            try {
                c.close();
            } catch (SQLException ignored) {
                // closing anyway
            }
        }
        all.clear();
        idle.clear();
    }
}
