package io.lethe.embedded;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import kafka.server.KafkaConfig;
import kafka.server.KafkaRaftServer;
import kafka.tools.StorageTool;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.utils.Time;

/**
 * A real single-node Kafka broker in KRaft mode (broker and controller in one), run in this JVM:
 * storage formatted with Kafka's storage tool, then {@link KafkaRaftServer}. Measured here at
 * ~4 s to start and ~170 MB of heap; a child JVM costs ~390 MB RSS for the same.
 */
final class EmbeddedKafkaBroker implements AutoCloseable {
    static final String SCRAM = "SCRAM-SHA-256";
    private final Path dir;
    private final Properties properties;
    private final String bootstrapServers;
    private final LetheStack.KafkaSasl sasl;
    private KafkaRaftServer server;

    private EmbeddedKafkaBroker(Path dir, Properties properties, String bootstrapServers, LetheStack.KafkaSasl sasl) {
        this.dir = dir;
        this.properties = properties;
        this.bootstrapServers = bootstrapServers;
        this.sasl = sasl;
    }

    static EmbeddedKafkaBroker start(Path dir, int defaultPartitions) {
        int brokerPort = FreePorts.next();
        int controllerPort = FreePorts.next();
        int saslPort = FreePorts.next();
        LetheStack.KafkaSasl sasl = new LetheStack.KafkaSasl("127.0.0.1:" + saslPort, "lethe_limited",
                "limited-" + Uuid.randomUuid(), "PLAIN");
        Properties p = new Properties();
        p.put("process.roles", "broker,controller");
        p.put("node.id", "1");
        p.put("controller.quorum.bootstrap.servers", "127.0.0.1:" + controllerPort);
        p.put("listeners", "PLAINTEXT://127.0.0.1:" + brokerPort + ",CONTROLLER://127.0.0.1:" + controllerPort
                + ",SASL_PLAINTEXT://127.0.0.1:" + saslPort);
        p.put("advertised.listeners", "PLAINTEXT://127.0.0.1:" + brokerPort + ",SASL_PLAINTEXT://127.0.0.1:" + saslPort);
        p.put("controller.listener.names", "CONTROLLER");
        p.put("inter.broker.listener.name", "PLAINTEXT");
        p.put("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT");
        // ACLs apply to the SASL listener's one user only: everyone on PLAINTEXT is ANONYMOUS, a super user
        p.put("authorizer.class.name", "org.apache.kafka.metadata.authorizer.StandardAuthorizer");
        p.put("super.users", "User:ANONYMOUS");
        // PLAIN for the one fixed user; SCRAM for users a test creates (one principal per Lethe role)
        p.put("sasl.enabled.mechanisms", "PLAIN," + SCRAM);
        p.put("listener.name.sasl_plaintext.plain.sasl.jaas.config", "org.apache.kafka.common.security.plain.PlainLoginModule "
                + "required user_" + sasl.user() + "=\"" + sasl.password() + "\";");
        p.put("listener.name.sasl_plaintext.scram-sha-256.sasl.jaas.config",
                "org.apache.kafka.common.security.scram.ScramLoginModule required;");
        p.put("log.dirs", dir.resolve("logs").toString());
        p.put("num.partitions", Integer.toString(defaultPartitions));
        p.put("default.replication.factor", "1");
        p.put("offsets.topic.replication.factor", "1");
        p.put("offsets.topic.num.partitions", "8");
        p.put("transaction.state.log.replication.factor", "1");
        p.put("transaction.state.log.min.isr", "1");
        p.put("transaction.state.log.num.partitions", "4");
        p.put("share.coordinator.state.topic.replication.factor", "1");
        p.put("share.coordinator.state.topic.min.isr", "1");
        p.put("group.initial.rebalance.delay.ms", "0");
        // Lethe creates its topics itself; a typo must not silently create a new one.
        p.put("auto.create.topics.enable", "false");
        p.put("log.segment.bytes", Integer.toString(64 * 1024 * 1024));
        p.put("log.retention.hours", "24");
        EmbeddedKafkaBroker broker = new EmbeddedKafkaBroker(dir, p, "127.0.0.1:" + brokerPort, sasl);
        broker.format();
        broker.startServer();
        return broker;
    }

    String bootstrapServers() {
        return bootstrapServers;
    }

    LetheStack.KafkaSasl sasl() {
        return sasl;
    }

    /**
     * Creates (or resets) a SCRAM-SHA-256 user of the SASL listener with a random password; it starts
     * with no ACLs.
     */
    LetheStack.KafkaSasl scramUser(String user) {
        String password = "scram-" + Uuid.randomUuid();
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers))) {
            admin.alterUserScramCredentials(java.util.List.of(new org.apache.kafka.clients.admin.UserScramCredentialUpsertion(user,
                    new org.apache.kafka.clients.admin.ScramCredentialInfo(org.apache.kafka.clients.admin.ScramMechanism.SCRAM_SHA_256,
                            4096),
                    password))).all().get(30, TimeUnit.SECONDS);
        } catch (Exception e) {
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            throw new IllegalStateException("cannot create SCRAM user " + user + ": " + e, e);
        }
        return new LetheStack.KafkaSasl(sasl.bootstrapServers(), user, password, SCRAM);
    }

    private void format() {
        try {
            Files.createDirectories(dir);
            Path file = dir.resolve("server.properties");
            try (OutputStream out = Files.newOutputStream(file)) {
                properties.store(out, "Lethe embedded broker");
            }
            ByteArrayOutputStream output = new ByteArrayOutputStream();
            int rc = StorageTool.execute(new String[] {"format", "--cluster-id", Uuid.randomUuid().toString(),
                    "--config", file.toString(), "--standalone", "--ignore-formatted"},
                    new PrintStream(output, true, StandardCharsets.UTF_8));
            if (rc != 0) {
                throw new IllegalStateException("kafka storage format failed (" + rc + "): " + output.toString(StandardCharsets.UTF_8));
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot prepare Kafka's storage in " + dir, e);
        }
    }

    /** Starts (or restarts, after {@link #stop()}) the broker on the same ports and data. */
    synchronized void startServer() {
        if (server != null) {
            return;
        }
        KafkaRaftServer s = new KafkaRaftServer(KafkaConfig.fromProps(properties, false), Time.SYSTEM);
        s.startup();
        server = s;
        awaitReady(Duration.ofSeconds(60));
    }

    /** Stops the broker, keeping its data, so {@link #startServer()} can bring it back. */
    synchronized void stop() {
        if (server == null) {
            return;
        }
        server.shutdown();
        server.awaitShutdown();
        server = null;
    }

    private void awaitReady(Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers,
                AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 5000, AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 10000))) {
            while (true) {
                try {
                    if (!admin.describeCluster().nodes().get(10, TimeUnit.SECONDS).isEmpty()) {
                        return;
                    }
                } catch (Exception e) {
                    if (e instanceof InterruptedException) {
                        Thread.currentThread().interrupt();
                        throw new IllegalStateException("interrupted while waiting for Kafka", e);
                    }
                    if (System.nanoTime() > deadline) {
                        throw new IllegalStateException("Kafka at " + bootstrapServers + " did not become ready in " + timeout, e);
                    }
                }
            }
        }
    }

    @Override
    public void close() {
        stop();
    }
}
