package io.lethe.embedded;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A real PostgreSQL 17 from zonky's binaries, configured for logical replication, with its data,
 * sockets and temp files under one directory.
 */
final class EmbeddedPostgresServer implements AutoCloseable {
    static final String SUPERUSER = "postgres";
    /** Files a copy of a running data directory must leave out (as pg_basebackup does). */
    private static final Set<String> NOT_COPIED = Set.of("postmaster.pid", "postmaster.opts", "epg-lock",
            "standby.signal", "recovery.signal", "backup_label", "tablespace_map");
    private static final Set<String> EMPTY_DIRS = Set.of("pg_wal", "pg_replslot", "pg_stat_tmp", "pg_dynshmem",
            "pg_notify", "pg_serial", "pg_snapshots", "pg_subtrans");

    private final EmbeddedPostgres postgres;
    private final PostgresEndpoint endpoint;
    private final Path dataDir;

    private EmbeddedPostgresServer(EmbeddedPostgres postgres, Path dataDir) {
        this.postgres = postgres;
        this.dataDir = dataDir;
        this.endpoint = new PostgresEndpoint("127.0.0.1", postgres.getPort(), SUPERUSER, null);
    }

    /** Starts a primary: wal_level=logical, synchronous_commit=on, slots and senders for many readers. */
    static EmbeddedPostgresServer startPrimary(Path dir, Path binaries) {
        return start(dir, binaries, false, Map.of());
    }

    /** A primary with some settings overridden (e.g. {@code wal_level=replica} to test refusals). */
    static EmbeddedPostgresServer startWith(Path dir, Path binaries, Map<String, String> settings) {
        return start(dir, binaries, false, settings);
    }

    /**
     * Starts PostgreSQL, trying again on another port when the one probed as free was taken in
     * the meantime (another process may bind it between the probe and the server's start).
     */
    private static EmbeddedPostgresServer start(Path dir, Path binaries, boolean keepData, Map<String, String> settings) {
        UncheckedIOException last = null;
        for (int attempt = 1; attempt <= 3; attempt++) {
            try {
                if (attempt > 1 && !keepData) {
                    deleteRecursively(dir.resolve("data"));
                }
                return startOnce(dir, binaries, keepData, settings);
            } catch (UncheckedIOException e) {
                last = e;
                if (!e.getMessage().contains("ddress already in use") && !e.getMessage().contains("could not bind")) {
                    throw e;
                }
            }
        }
        throw last;
    }

    private static void deleteRecursively(Path path) {
        try (java.util.stream.Stream<Path> files = Files.walk(path)) {
            files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            // nothing to delete
        }
    }

    private static EmbeddedPostgresServer startOnce(Path dir, Path binaries, boolean keepData, Map<String, String> settings) {
        try {
            Path data = dir.resolve("data");
            Files.createDirectories(dir);
            Files.createDirectories(binaries);
            // zonky keeps a parent directory for data directories it creates itself; keep it ours.
            System.setProperty("ot.epg.working-dir", Files.createDirectories(dir.resolve("zonky")).toString());
            EmbeddedPostgres.Builder builder = EmbeddedPostgres.builder()
                    .setOverrideWorkingDirectory(binaries.toFile())
                    .setDataDirectory(data)
                    .setCleanDataDirectory(!keepData)
                    .setPort(FreePorts.next())
                    .setPGStartupWait(Duration.ofSeconds(30))
                    .setServerConfig("listen_addresses", "127.0.0.1")
                    // TCP only: a socket under a deep work directory exceeds the 107-byte path limit,
                    // and the default would put one in /tmp
                    .setServerConfig("unix_socket_directories", "''")
                    .setServerConfig("wal_level", "logical")
                    .setServerConfig("max_replication_slots", "64")
                    .setServerConfig("max_wal_senders", "64")
                    .setServerConfig("wal_keep_size", "512MB")
                    .setServerConfig("wal_sender_timeout", "30s")
                    // zonky's default is off: the WAL sender only ships flushed WAL and the WAL
                    // writer flushes every 200 ms, which adds ~200 ms to every commit's latency.
                    .setServerConfig("synchronous_commit", "on")
                    .setServerConfig("max_connections", "300")
                    .setServerConfig("hot_standby", "on")
                    .setServerConfig("hot_standby_feedback", "on")
                    .setOutputRedirector(ProcessBuilder.Redirect.appendTo(dir.resolve("postgres.log").toFile()))
                    .setErrorRedirector(ProcessBuilder.Redirect.appendTo(dir.resolve("postgres.log").toFile()));
            settings.forEach(builder::setServerConfig);
            EmbeddedPostgres pg = builder.start();
            return new EmbeddedPostgresServer(pg, data);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start PostgreSQL in " + dir + "; postgres.log ends with:\n"
                    + tail(dir.resolve("postgres.log"), 20), e);
        }
    }

    private static String tail(Path log, int lines) {
        try {
            List<String> all = Files.readAllLines(log);
            return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
        } catch (IOException e) {
            return "(cannot read " + log + ": " + e + ")";
        }
    }

    PostgresEndpoint endpoint() {
        return endpoint;
    }

    Connection connect(String database) throws SQLException {
        return DriverManager.getConnection(endpoint.jdbcUrl(database), SUPERUSER, "");
    }

    void createDatabase(String name) {
        try (Connection c = connect("postgres"); Statement s = c.createStatement()) {
            try (ResultSet rs = s.executeQuery("SELECT 1 FROM pg_database WHERE datname = '" + name.replace("'", "''") + "'")) {
                if (rs.next()) {
                    return;
                }
            }
            s.execute("CREATE DATABASE \"" + name.replace("\"", "\"\"") + "\"");
        } catch (SQLException e) {
            throw new IllegalStateException("cannot create database " + name + ": " + e.getMessage(), e);
        }
    }

    /**
     * Starts a streaming replica of this primary that applies WAL {@code applyDelay} late: a
     * non-exclusive base backup (pg_backup_start, copy, pg_backup_stop), then a standby on it.
     */
    EmbeddedPostgresServer startReplica(Path dir, Path binaries, Duration applyDelay) {
        Path data = dir.resolve("data");
        try (Connection c = connect("postgres"); Statement s = c.createStatement()) {
            s.execute("SELECT pg_backup_start('lethe-replica', true)");
            copyDataDirectory(dataDir, data);
            String label;
            String spcmap;
            try (ResultSet rs = s.executeQuery("SELECT labelfile, spcmapfile FROM pg_backup_stop(false)")) {
                rs.next();
                label = rs.getString(1);
                spcmap = rs.getString(2);
            }
            Files.writeString(data.resolve("backup_label"), label);
            if (spcmap != null && !spcmap.isEmpty()) {
                Files.writeString(data.resolve("tablespace_map"), spcmap);
            }
            Files.setPosixFilePermissions(data, java.nio.file.attribute.PosixFilePermissions.fromString("rwx------"));
            Files.writeString(data.resolve("standby.signal"), "");
            Files.writeString(data.resolve("postgresql.auto.conf"),
                    "primary_conninfo = 'host=127.0.0.1 port=" + endpoint.port() + " user=" + SUPERUSER
                            + " application_name=lethe_replica'\n"
                            + "recovery_min_apply_delay = '" + applyDelay.toMillis() + "ms'\n",
                    java.nio.file.StandardOpenOption.APPEND);
        } catch (SQLException e) {
            throw new IllegalStateException("cannot take a base backup for the replica: " + e.getMessage(), e);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot copy the primary's data directory for the replica", e);
        }
        return start(dir, binaries, true, Map.of());
    }

    private static void copyDataDirectory(Path from, Path to) throws IOException {
        Files.walkFileTree(from, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) throws IOException {
                Path relative = from.relativize(dir);
                Files.createDirectories(to.resolve(relative.toString()));
                if (relative.getNameCount() == 1 && EMPTY_DIRS.contains(relative.toString())) {
                    return FileVisitResult.SKIP_SUBTREE;
                }
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                Path relative = from.relativize(file);
                if (relative.getNameCount() == 1 && NOT_COPIED.contains(relative.toString())) {
                    return FileVisitResult.CONTINUE;
                }
                try {
                    Files.copy(file, to.resolve(relative.toString()));
                } catch (java.nio.file.NoSuchFileException vanished) {
                    // removed by the running server during the copy; the WAL replay recreates what is needed
                }
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFileFailed(Path file, IOException exc) {
                return FileVisitResult.CONTINUE;
            }
        });
        for (String empty : EMPTY_DIRS) {
            Files.createDirectories(to.resolve(empty));
        }
        Files.createDirectories(to.resolve("pg_wal").resolve("archive_status"));
    }

    @Override
    public void close() {
        try {
            postgres.close();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot stop PostgreSQL", e);
        }
    }
}
