package io.lethe.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Each role (capture, streams, each region, the CLI) may log in to Kafka as its own principal, and
 * PostgreSQL reads that need no capture privilege may use a reader role: issue 34, "one identity for
 * every role".
 */
class KafkaRolesTest {
    private static final String BASE = """
            source:
              jdbc-url: jdbc:postgresql://127.0.0.1:5432/shop
              user: lethe_capture
              password: ${PG_CAPTURE}
              reader-user: lethe_reader
              reader-password: ${PG_READER}
            kafka:
              bootstrap-servers: 127.0.0.1:9092
              properties: { security.protocol: SASL_SSL, sasl.mechanism: SCRAM-SHA-512, ssl.truststore.location: /etc/ca.p12 }
              roles:
                capture: { user: lethe-capture, password: "${K_CAPTURE}" }
                streams: { user: lethe-streams, password: "${K_STREAMS}" }
                cli: { properties: { sasl.mechanism: PLAIN, sasl.jaas.config: "${K_CLI_JAAS}" } }
            regions:
              us-east:
                redis: redis://127.0.0.1:6379
                kafka: { user: lethe-region-us-east, password: "${K_US}" }
              eu-west: { redis: redis://127.0.0.1:6380 }
            namespaces:
              product: { table: public.products, keys: ["product:{id}"] }
            """;
    private static final Map<String, String> ENV = Map.of("PG_CAPTURE", "pg-capture-secret", "PG_READER", "pg-reader-secret",
            "K_CAPTURE", "capture-secret", "K_STREAMS", "streams\"secret", "K_CLI_JAAS", "cli-jaas-secret", "K_US", "us-secret");

    private static LetheConfig parse(String yaml) {
        return ConfigLoader.parse("lethe.yml", yaml, ENV::get);
    }

    private static Map<String, String> errors(String yaml) {
        ConfigException e = assertThrows(ConfigException.class, () -> parse(yaml));
        Map<String, String> byPath = new HashMap<>();
        e.errors().forEach(err -> byPath.put(err.path(), err.problem()));
        return byPath;
    }

    @Test
    void eachRoleLogsInAsItsOwnPrincipalOverTheSharedProperties() {
        LetheConfig c = parse(BASE);
        Map<String, Object> capture = KafkaClients.common(c.kafka(), KafkaRole.CAPTURE, "x");
        assertEquals("org.apache.kafka.common.security.scram.ScramLoginModule required username=\"lethe-capture\" "
                + "password=\"capture-secret\";", capture.get("sasl.jaas.config"));
        assertEquals("SASL_SSL", capture.get("security.protocol"), "the shared properties stay");
        assertEquals("/etc/ca.p12", capture.get("ssl.truststore.location"));
        assertEquals("org.apache.kafka.common.security.scram.ScramLoginModule required username=\"lethe-streams\" "
                + "password=\"streams\\\"secret\";", c.kafka().properties(KafkaRole.STREAMS).get("sasl.jaas.config"),
                "a quote in a password is escaped, not the end of the option");
        assertEquals("cli-jaas-secret", c.kafka().properties(KafkaRole.CLI).get("sasl.jaas.config"));
        assertEquals("PLAIN", c.kafka().properties(KafkaRole.CLI).get("sasl.mechanism"), "a role's properties win over the shared ones");
        assertTrue(c.kafka().properties(KafkaRole.region("us-east")).get("sasl.jaas.config").contains("username=\"lethe-region-us-east\""));
        assertFalse(c.kafka().properties(KafkaRole.region("eu-west")).containsKey("sasl.jaas.config"),
                "a role without its own identity has the shared properties alone");
        assertEquals("lethe_reader", c.source().reader());
        assertEquals("pg-reader-secret", c.source().readerSecret().reveal());
        assertEquals("lethe_capture", c.source().user());
    }

    @Test
    void withoutRolesEveryClientHasTheSharedPropertiesAndTheReaderIsTheSourceUser() {
        LetheConfig c = parse(BASE.replaceAll("(?s)  roles:.*?\\n(regions:)", "$1")
                .replace("    kafka: { user: lethe-region-us-east, password: \"${K_US}\" }\n", "")
                .replace("  reader-user: lethe_reader\n  reader-password: ${PG_READER}\n", ""));
        for (KafkaRole role : new KafkaRole[] {KafkaRole.CAPTURE, KafkaRole.STREAMS, KafkaRole.CLI, KafkaRole.region("us-east")}) {
            assertEquals(c.kafka().properties(), c.kafka().properties(role), role.toString());
        }
        assertEquals("lethe_capture", c.source().reader());
        assertEquals("pg-capture-secret", c.source().readerSecret().reveal());
    }

    @Test
    void noSecretOfAnyRoleAppearsInToString() {
        LetheConfig c = parse(BASE);
        String text = c.toString() + c.kafka() + c.source() + c.regions();
        for (String secret : ENV.values()) {
            assertFalse(text.contains(secret), secret + " in " + text);
        }
        assertTrue(text.contains("lethe-capture") && text.contains("lethe_reader"), "users are not secrets: " + text);
    }

    @Test
    void badIdentitiesAreReportedWithTheirPaths() {
        Map<String, String> byPath = errors(BASE
                .replace("capture: { user: lethe-capture, password: \"${K_CAPTURE}\" }", "capture: { user: lethe-capture }")
                .replace("streams: { user: lethe-streams, password: \"${K_STREAMS}\" }",
                        "streams: { user: s, password: p, properties: { sasl.jaas.config: x, bootstrap.servers: \"h:1\" } }")
                .replace("cli: {", "clli: {")
                .replace("kafka: { user: lethe-region-us-east, password: \"${K_US}\" }", "kafka: { password: p, usr: u }")
                .replace("  reader-user: lethe_reader\n", ""));
        assertTrue(byPath.get("kafka.roles.capture.password").contains("required with user"), byPath.toString());
        assertTrue(byPath.get("kafka.roles.streams.properties.sasl.jaas.config").contains("conflicts with user and password"),
                byPath.toString());
        assertTrue(byPath.get("kafka.roles.streams.properties.bootstrap.servers").contains("set by Lethe"), byPath.toString());
        assertTrue(byPath.get("kafka.roles.clli").contains("expected one of: capture, streams, cli"), byPath.toString());
        assertTrue(byPath.get("regions.us-east.kafka.user").contains("required with password"), byPath.toString());
        assertTrue(byPath.get("regions.us-east.kafka.usr").contains("unknown setting"), byPath.toString());
        assertTrue(byPath.get("source.reader-user").contains("required with reader-password"), byPath.toString());
    }

    @Test
    void aUserNeedsAMechanismItCanLogInWith() {
        Map<String, String> byPath = errors(BASE.replace("sasl.mechanism: SCRAM-SHA-512, ", ""));
        assertTrue(byPath.get("kafka.roles.capture.user").contains("PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512, found GSSAPI"),
                byPath.toString());
    }
}
