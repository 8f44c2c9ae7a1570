package io.lethe.config;

import java.time.Duration;

/**
 * The PostgreSQL primary that cdc-capture reads.
 *
 * @param jdbcUrl           {@code jdbc:postgresql://host:port/database}
 * @param user              a role with REPLICATION (and CREATE on the database to manage the publication)
 * @param password          from the environment; never logged
 * @param slot              logical replication slot name
 * @param publication       publication name
 * @param createPublication create the publication (filtered to the configured tables) when missing
 * @param heartbeatInterval how often capture writes its heartbeat row so the slot advances when idle
 * @param heartbeatTable    the table the heartbeat writes (created when missing)
 * @param pollInterval      how long capture waits for more WAL when idle
 * @param maxBatchSize      most changes handed to the publisher at once
 * @param maxQueueSize      most changes buffered between WAL reader and publisher
 * @param region            the region this database lives in, carried as originRegion (optional)
 */
public record SourceConfig(String jdbcUrl, String user, Secret password, String slot, String publication,
                           boolean createPublication, Duration heartbeatInterval, String heartbeatTable,
                           Duration pollInterval, int maxBatchSize, int maxQueueSize, String region) {

    /** The database name at the end of the JDBC URL. */
    public String database() {
        return JdbcUrls.database(jdbcUrl);
    }

    /** Credentials in the JDBC URL's parameters are masked; the password is a {@link Secret}. */
    @Override
    public String toString() {
        return "SourceConfig[jdbcUrl=" + JdbcUrls.forDisplay(jdbcUrl) + ", user=" + user + ", password=" + password + ", slot=" + slot
                + ", publication=" + publication + ", createPublication=" + createPublication + ", heartbeatInterval="
                + heartbeatInterval + ", heartbeatTable=" + heartbeatTable + ", pollInterval=" + pollInterval + ", maxBatchSize="
                + maxBatchSize + ", maxQueueSize=" + maxQueueSize + ", region=" + region + "]";
    }
}
