package io.lethe.capture;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.lethe.config.ConfigLoader;
import io.lethe.embedded.EmbeddedStack;
import io.lethe.embedded.PostgresEndpoint;
import io.lethe.embedded.TestCertificates;
import io.lethe.embedded.junit.LetheStackExtension;
import io.lethe.embedded.junit.TestScope;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Clock;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The TLS parameters of {@code source.jdbc-url} reach Debezium's replication connection: against a
 * PostgreSQL with {@code ssl=on} and a certificate made here, the walsender serving capture's slot
 * uses TLS under {@code sslmode=verify-full}, and does not under {@code sslmode=disable} (the
 * driver's default, {@code prefer}, would use TLS: only a parameter that arrived can turn it off).
 */
@ExtendWith(LetheStackExtension.class)
class CaptureTlsIT {
    private static final String PRODUCTS = "product: { table: public.products, keys: [\"product:{id}\"] }";
    @TempDir
    static Path certs;
    private static Path certificate;
    private static PostgresEndpoint tls;

    @BeforeAll
    static void startPostgresWithTls(EmbeddedStack stack) throws Exception {
        TestCertificates made = TestCertificates.create(certs);
        certificate = made.certificate();
        tls = stack.startExtraPostgres("tls", Map.of("ssl", "on", "ssl_cert_file", made.certificate().toString(),
                "ssl_key_file", made.key().toString()));
        try (Connection c = DriverManager.getConnection(tls.jdbcUrl("postgres"), tls.user(), tls.password());
                Statement s = c.createStatement()) {
            s.execute("CREATE TABLE products (id int PRIMARY KEY, slug text)");
        }
    }

    @Test
    void verifyFullReachesTheReplicationConnection(EmbeddedStack stack, TestScope scope) throws Exception {
        assertEquals(true, walsenderUsesTls(stack, scope, "?sslmode=verify-full&sslrootcert=" + certificate));
    }

    @Test
    void disableReachesTheReplicationConnection(EmbeddedStack stack, TestScope scope) throws Exception {
        assertEquals(false, walsenderUsesTls(stack, scope, "?sslmode=disable"));
    }

    /** Starts capture on the TLS server with {@code parameters} on its jdbc-url; whether its slot's walsender uses TLS. */
    private static boolean walsenderUsesTls(EmbeddedStack stack, TestScope scope, String parameters) throws Exception {
        CaptureFixture f = new CaptureFixture(stack, scope);
        String yaml = f.yaml(PRODUCTS, tls.user()).replace(stack.postgres().jdbcUrl(scope.database()),
                tls.jdbcUrl("postgres") + parameters);
        try (CaptureService capture = new CaptureService(ConfigLoader.parse("t.yml", yaml, System::getenv), new SimpleMeterRegistry(),
                Clock.systemUTC())) {
            capture.start();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (System.nanoTime() < deadline) {
                Optional<Boolean> ssl = walsenderTls(scope.slot());
                if (ssl.isPresent()) {
                    return ssl.get();
                }
                Thread.sleep(100);
            }
            throw new AssertionError("no walsender streamed slot " + scope.slot() + " within 60 s");
        }
    }

    private static Optional<Boolean> walsenderTls(String slot) throws Exception {
        try (Connection c = DriverManager.getConnection(tls.jdbcUrl("postgres"), tls.user(), tls.password());
                PreparedStatement ps = c
                        .prepareStatement("SELECT s.ssl FROM pg_replication_slots r JOIN pg_stat_ssl s ON s.pid = r.active_pid "
                                + "WHERE r.slot_name = ?")) {
            ps.setString(1, slot);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.of(rs.getBoolean(1)) : Optional.empty();
            }
        }
    }
}
