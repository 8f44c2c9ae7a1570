package io.lethe.capture.engine;

import io.lethe.capture.mapping.ColumnProjection;
import io.lethe.config.JdbcUrls;
import io.lethe.config.KafkaRole;
import io.lethe.config.LetheConfig;
import io.lethe.config.SourceConfig;
import io.lethe.schemas.ChangeEvent;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.Set;

/** Debezium Embedded settings derived from {@code lethe.yml}; each choice is explained where it is made. */
public final class EngineProperties {
    /** The engine name, part of every stored offset's key. */
    public static final String ENGINE_NAME = "lethe-capture";

    /** The driver's TLS parameters, which Debezium's PostgreSQL connector takes as {@code database.<name>}. */
    static final Set<String> DEBEZIUM_TLS = Set.of("sslmode", "sslrootcert", "sslcert", "sslkey", "sslpassword", "sslfactory");

    private EngineProperties() {
    }

    /** Debezium's {@code topic.prefix}, which names the offsets: the slot name. */
    public static String serverName(LetheConfig config) {
        return config.source().slot();
    }

    public static Properties of(LetheConfig config, ColumnProjection projection, String heartbeatQuery) {
        SourceConfig source = config.source();
        Properties p = new Properties();
        // source.debezium first: none of it is a property Lethe sets below (the config refuses those)
        source.debezium().forEach(p::setProperty);
        p.setProperty("name", ENGINE_NAME);
        p.setProperty("connector.class", "io.debezium.connector.postgresql.PostgresConnector");
        p.setProperty("topic.prefix", serverName(config));
        p.setProperty("database.hostname", JdbcUrls.host(source.jdbcUrl()));
        p.setProperty("database.port", Integer.toString(JdbcUrls.port(source.jdbcUrl())));
        p.setProperty("database.dbname", source.database());
        p.setProperty("database.user", source.user());
        if (source.password() != null) {
            p.setProperty("database.password", source.password().reveal());
        }
        p.setProperty("database.tcpKeepAlive", "true");
        // the jdbc-url's parameters reach Debezium's connections too, the replication one included:
        // its TLS settings under Debezium's own names, every other one as a driver property
        JdbcUrls.parameters(source.jdbcUrl()).forEach((name, value) -> {
            String lower = name.toLowerCase(Locale.ROOT);
            p.setProperty(DEBEZIUM_TLS.contains(lower) ? "database." + lower : "driver." + name, value);
        });
        p.setProperty("plugin.name", "pgoutput");
        p.setProperty("slot.name", source.slot());
        p.setProperty("slot.drop.on.stop", "false");
        // Lethe manages the publication itself (SourcePreparer): filtered, and checked when it may not create it.
        p.setProperty("publication.name", source.publication());
        p.setProperty("publication.autocreate.mode", "disabled");
        // Caches only need changes from now on; a snapshot would invalidate keys nobody cached.
        p.setProperty("snapshot.mode", "no_data");
        List<String> tables = new ArrayList<>(config.tables());
        tables.add(source.heartbeatTable());
        p.setProperty("table.include.list", String.join(",", tables.stream().map(EngineProperties::regex).toList()));
        List<String> columns = new ArrayList<>();
        for (Map.Entry<String, Set<String>> e : projection.byTable().entrySet()) {
            for (String column : e.getValue()) {
                columns.add(regex(e.getKey() + "." + column));
            }
        }
        columns.add(regex(source.heartbeatTable()) + "\\..*");
        p.setProperty("column.include.list", String.join(",", columns));
        // Key-template columns are rendered as PostgreSQL's text (ConnectText), which for some types
        // (char(n), inet, bit(1), numeric) needs the column's source type: Debezium adds it to their
        // schemas as parameters. It changes no value: the events' key/before/after keep Debezium's encoding.
        List<String> templateColumns = new ArrayList<>();
        for (Map.Entry<String, Set<String>> e : projection.templateColumnsByTable().entrySet()) {
            for (String column : e.getValue()) {
                templateColumns.add(regex(e.getKey() + "." + column));
            }
        }
        if (!templateColumns.isEmpty()) {
            p.setProperty("column.propagate.source.type", String.join(",", templateColumns));
        }
        // TRUNCATE is skipped by default; Lethe turns it into a namespace-wide invalidation.
        p.setProperty("skipped.operations", "none");
        p.setProperty("decimal.handling.mode", "string");
        p.setProperty("unavailable.value.placeholder", ChangeEvent.UNAVAILABLE_VALUE);
        // BEGIN and END records: END gives each transaction's commit LSN (TransactionBuffer)
        p.setProperty("provide.transaction.metadata", "true");
        p.setProperty("heartbeat.interval.ms", Long.toString(source.heartbeatInterval().toMillis()));
        p.setProperty("heartbeat.action.query", heartbeatQuery);
        // Debezium's default 500 ms applies twice when idle (see Defaults.POLL_INTERVAL).
        p.setProperty("poll.interval.ms", Long.toString(source.pollInterval().toMillis()));
        p.setProperty("max.batch.size", Integer.toString(source.maxBatchSize()));
        p.setProperty("max.queue.size", Integer.toString(source.maxQueueSize()));
        p.setProperty("errors.max.retries", "-1");
        // Offsets live in Kafka, next to the changes they describe; flushed every second so the
        // slot's confirmed_flush_lsn (and so the WAL it holds) follows closely.
        p.setProperty("offset.storage", LetheOffsetStore.class.getName());
        p.setProperty("offset.storage.topic", config.topics().captureOffsets());
        p.setProperty("offset.storage.partitions", "1");
        p.setProperty("offset.storage.replication.factor",
                config.kafka().replicationFactor() == null ? "-1" : config.kafka().replicationFactor().toString());
        p.setProperty("offset.flush.interval.ms", "1000");
        p.setProperty("offset.flush.timeout.ms", "10000");
        p.setProperty("bootstrap.servers", config.kafka().bootstrapServers());
        config.kafka().properties(KafkaRole.CAPTURE).forEach(p::setProperty);
        // Records are handed over in order, one batch at a time (ChangeConsumer).
        p.setProperty("record.processing.order", "ORDERED");
        return p;
    }

    private static String regex(String name) {
        return name.replace(".", "\\.").replace("$", "\\$");
    }
}
