package io.lethe.dev.demo;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Duration;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * Commits single-row UPDATEs at a steady rate: a new price (and version) for a random product,
 * and every 20th update a new slug, which moves the product's slug key. The rate ramps up from
 * a tenth over the first {@link #RAMP} while the freshly started JVM compiles the hot paths: at
 * full rate from the first second, a cold pipeline on two cores fell several seconds behind.
 */
public final class Writer implements Runnable {
    public static final Duration RAMP = Duration.ofSeconds(10);

    private final Connection connection;
    private final double ratePerSecond;
    private final AtomicLong committed = new AtomicLong();
    private volatile boolean running = true;
    private final SplittableRandom random = new SplittableRandom(42);

    public Writer(Connection connection, double ratePerSecond) {
        this.connection = connection;
        this.ratePerSecond = ratePerSecond;
    }

    @Override
    public void run() {
        long start = System.nanoTime();
        long next = start;
        try (PreparedStatement price = connection.prepareStatement(
                "UPDATE products SET price = ?, version = version + 1 WHERE id = ?");
                PreparedStatement slug = connection.prepareStatement(
                        "UPDATE products SET slug = 'p-' || id || '-' || ?, version = version + 1 WHERE id = ?")) {
            while (running) {
                int id = 1 + random.nextInt(DemoSetup.PRODUCTS);
                if (committed.get() % 20 == 19) {
                    slug.setLong(1, committed.get());
                    slug.setInt(2, id);
                    slug.executeUpdate();
                } else {
                    price.setInt(1, 100 + random.nextInt(900));
                    price.setInt(2, id);
                    price.executeUpdate();
                }
                committed.incrementAndGet();
                double ramp = Math.min(1.0, 0.1 + 0.9 * (System.nanoTime() - start) / (double) RAMP.toNanos());
                next += (long) (1_000_000_000L / (ratePerSecond * ramp));
                long wait = next - System.nanoTime();
                if (wait > 0) {
                    LockSupport.parkNanos(wait);
                } else if (wait < -1_000_000_000L) {
                    next = System.nanoTime(); // fell behind by more than a second: do not burst to catch up
                }
            }
        } catch (SQLException e) {
            if (running) {
                throw new IllegalStateException("demo writer failed: " + e.getMessage(), e);
            }
        }
    }

    public long committed() {
        return committed.get();
    }

    public void stop() {
        running = false;
    }
}
