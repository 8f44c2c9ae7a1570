package io.lethe.embedded;

import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * The real servers Lethe runs against: a PostgreSQL primary with logical replication, a Kafka
 * broker and one Redis per region. {@link EmbeddedStack} starts them from Maven artifacts
 * without Docker (the default); {@code io.lethe.embedded.testcontainers.ContainerStack} runs
 * them in containers for users who have Docker.
 */
public interface LetheStack extends AutoCloseable {

    /** The PostgreSQL primary ({@code wal_level=logical}). */
    PostgresEndpoint postgres();

    /** Creates a database on the primary (owned by the superuser); a no-op if it exists. */
    void createDatabase(String name);

    /** Kafka bootstrap servers, {@code 127.0.0.1:port}. */
    String kafkaBootstrapServers();

    /**
     * A second listener of the same broker, with SASL/PLAIN and ACLs enforced for its one user,
     * who starts with no permissions: for tests of what Lethe does when Kafka refuses it.
     * (Clients of {@link #kafkaBootstrapServers()} are never refused.)
     */
    default KafkaSasl kafkaSasl() {
        throw new UnsupportedOperationException(getClass().getSimpleName() + " has no SASL listener with ACLs; "
                + "the tests of Kafka authorization need the embedded stack");
    }

    /**
     * A new SCRAM-SHA-256 user of the {@link #kafkaSasl()} listener (its password reset if it exists),
     * with no ACLs: one principal per Lethe role, for tests of least privilege.
     */
    default KafkaSasl kafkaScramUser(String user) {
        throw new UnsupportedOperationException(getClass().getSimpleName() + " has no SASL listener with ACLs; "
                + "the tests of Kafka authorization need the embedded stack");
    }

    /**
     * @param bootstrapServers {@code 127.0.0.1:port} of the SASL_PLAINTEXT listener
     * @param user             the user; grant it ACLs as needed through {@link #kafkaBootstrapServers()}
     * @param password         its password
     * @param mechanism        {@code PLAIN} (the listener's one fixed user) or {@code SCRAM-SHA-256}
     */
    record KafkaSasl(String bootstrapServers, String user, String password, String mechanism) {
        /** Client properties that authenticate as the user. */
        public Map<String, String> clientProperties() {
            String module = mechanism.equals("PLAIN")
                    ? "org.apache.kafka.common.security.plain.PlainLoginModule"
                    : "org.apache.kafka.common.security.scram.ScramLoginModule";
            return Map.of("security.protocol", "SASL_PLAINTEXT", "sasl.mechanism", mechanism, "sasl.jaas.config",
                    module + " required username=\"" + user + "\" password=\"" + password + "\";");
        }

        @Override
        public String toString() {
            return "KafkaSasl[" + bootstrapServers + ", user=" + user + ", password=****, mechanism=" + mechanism + "]";
        }
    }

    /** Region names, in the order they were configured. */
    List<String> regions();

    /** {@code redis://127.0.0.1:port} of the region's standalone Redis. */
    String redisUri(String region);

    /**
     * Makes the region's Redis stop answering (its process is paused; connections stay open
     * and commands time out) until {@link #resumeRedis(String)}.
     */
    void pauseRedis(String region);

    void resumeRedis(String region);

    /**
     * A Redis Cluster of three masters, started on first use. Returns the URI of one node;
     * the others are found through CLUSTER NODES.
     */
    String redisClusterUri();

    /**
     * A streaming read replica of the primary that applies WAL {@code applyDelay} late
     * ({@code recovery_min_apply_delay}), started on first use. Later calls return the same
     * replica whatever delay they ask for.
     */
    PostgresEndpoint replica(Duration applyDelay);

    /** How long each server took to start, by name, in start order. */
    Map<String, Duration> startTimes();

    /** Stops everything this stack started. */
    @Override
    void close();
}
