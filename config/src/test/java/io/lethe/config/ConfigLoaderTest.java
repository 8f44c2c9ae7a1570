package io.lethe.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ConfigLoaderTest {
    private static final String VALID = """
            source:
              jdbc-url: jdbc:postgresql://127.0.0.1:5432/shop
              user: lethe
              password: ${LETHE_PG_PASSWORD}
              slot: lethe
              publication: lethe
            kafka:
              bootstrap-servers: 127.0.0.1:9092
              properties: { security.protocol: SASL_SSL, sasl.jaas.config: "secret-jaas" }
            regions:
              us-east: { redis: "redis://:hunter2@127.0.0.1:6379" }
              eu-west: { redis: redis://127.0.0.1:6380, namespaces: [product, profile],
                         replica: "jdbc:postgresql://eu-replica:5432/shop" }
            namespaces:
              product:
                table: public.products
                keys: ["product:{id}", "product:{id}:price", "product:slug:{slug}"]
                patterns: ["search:products:*"]
                version: lsn
                mode: delete
                fence-ttl: 60s
              profile:
                table: users
                keys: ["profile:{id}"]
                version: column:version
                mode: upsert
                payload-columns: [name, email]
            """;

    private static LetheConfig parse(String yaml) {
        return ConfigLoader.parse("lethe.yml", yaml, Map.of("LETHE_PG_PASSWORD", "s3cret")::get);
    }

    @Test
    void readsEverySectionOfTheDesignExample() {
        LetheConfig c = parse(VALID);
        assertEquals("shop", c.source().database());
        assertEquals("s3cret", c.source().password().reveal());
        assertEquals(List.of("us-east", "eu-west"), List.copyOf(c.regions().keySet()));
        assertEquals(List.of("product", "profile"), c.region("us-east").namespaces(), "a region without a list subscribes to all");
        assertTrue(c.region("eu-west").hasReplicaGate());
        NamespaceConfig product = c.namespaces().get("product");
        assertEquals(Duration.ofSeconds(60), product.fenceTtl());
        assertTrue(product.isRowScoped(product.keys().get(0)));
        assertFalse(product.isRowScoped(product.keys().get(2)), "slug is not in the primary key: derived");
        assertEquals(List.of("product:*", "search:products:*"), product.namespaceGlobs(), "product:* covers the other templates");
        NamespaceConfig profile = c.namespaces().get("profile");
        assertEquals("public.users", profile.table());
        assertEquals("version", profile.version().column());
        assertEquals(Mode.UPSERT, profile.mode());
        assertEquals("lethe.changes", c.topics().changes());
        assertNull(c.kafka().partitions(), "unset partitions means the broker's default");
    }

    @Test
    void aRegionReceivesTheNamespacesThatShareAPatternWithOneItCaches() {
        // explore seed 1 (profile ci): eu-west cached shared:list:* for n0 only, n1 declares it too,
        // and n1's changes never reached eu-west, so a list key outlived them
        LetheConfig c = parse("""
                source: { jdbc-url: "jdbc:postgresql://127.0.0.1:5432/shop", user: lethe, slot: lethe, publication: lethe }
                kafka: { bootstrap-servers: "127.0.0.1:9092" }
                regions:
                  us-east: { redis: "redis://127.0.0.1:6379" }
                  eu-west: { redis: "redis://127.0.0.1:6380", namespaces: [n0] }
                  ap-south: { redis: "redis://127.0.0.1:6381", namespaces: [n2] }
                namespaces:
                  n0: { table: public.t0, keys: ["n0:{id}"], patterns: ["shared:list:*"] }
                  n1: { table: public.t1, keys: ["n1:{id}"], patterns: ["n1:list:*", "shared:list:*"] }
                  n2: { table: public.t2, keys: ["n2:{id}"] }
                  n3: { table: public.t3, keys: ["n2:x:{id}"] }
                """);
        assertEquals(List.of("n0", "n1"), c.receives(c.region("eu-west")));
        assertEquals(List.of("n2", "n3"), c.receives(c.region("ap-south")), "a template whose glob overlaps another's keys");
        assertEquals(List.of("n0", "n1", "n2", "n3"), c.receives(c.region("us-east")));
        assertEquals("lethe.invalidations", c.topics().invalidations("us-east"));
        assertEquals(subs("n0"), c.topics().invalidations("eu-west"));
        assertEquals(subs("n2"), c.topics().invalidations("ap-south"), "topics are named by subscription");
    }

    /** The topic of a subscription set, computed here from its definition: SHA-256 of the sorted names, first 8 bytes in hex. */
    private static String subs(String... namespaces) {
        try {
            java.util.TreeSet<String> sorted = new java.util.TreeSet<>(List.of(namespaces));
            byte[] d = java.security.MessageDigest.getInstance("SHA-256")
                    .digest(("lethe.subscriptions/v1|" + String.join(",", sorted)).getBytes(java.nio.charset.StandardCharsets.UTF_8));
            StringBuilder hex = new StringBuilder();
            for (int i = 0; i < 8; i++) {
                hex.append(String.format("%02x", d[i]));
            }
            return "lethe.invalidations.subs-" + hex;
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void aRegionsTopicDependsOnItsOwnSubscriptionsAloneNotOnFileOrderOrOtherRegions() {
        String head = """
                source: { jdbc-url: "jdbc:postgresql://127.0.0.1:5432/shop", user: lethe, slot: lethe, publication: lethe }
                kafka: { bootstrap-servers: "127.0.0.1:9092" }
                regions:
                """;
        String tail = """
                namespaces:
                  n0: { table: public.t0, keys: ["n0:{id}"] }
                  n1: { table: public.t1, keys: ["n1:{id}"] }
                  n2: { table: public.t2, keys: ["n2:{id}"] }
                """;
        String a = "  eu-west: { redis: \"redis://127.0.0.1:6380\", namespaces: [n1, n0] }\n";
        String b = "  ap-south: { redis: \"redis://127.0.0.1:6381\", namespaces: [n0, n1] }\n";
        String c = "  sa-east: { redis: \"redis://127.0.0.1:6382\", namespaces: [n2] }\n";
        LetheConfig ab = parse(head + a + b + tail);
        LetheConfig ba = parse(head + b + a + tail);
        LetheConfig bOnly = parse(head + b + tail);
        LetheConfig abc = parse(head + c + a + b + tail);
        String topic = subs("n0", "n1");
        for (LetheConfig config : List.of(ab, ba, abc)) {
            assertEquals(topic, config.topics().invalidations("eu-west"), "same subscriptions, same topic, in any order");
            assertEquals(topic, config.topics().invalidations("ap-south"));
        }
        assertEquals(topic, bOnly.topics().invalidations("ap-south"), "removing eu-west does not move ap-south");
        assertEquals(subs("n2"), abc.topics().invalidations("sa-east"));
    }

    @Test
    void debeziumPropertiesPassThroughExceptTheOnesLetheSets() {
        LetheConfig ok = parse(VALID.replace("slot: lethe", "slot: lethe\n  debezium:\n    status.update.interval.ms: 5000"));
        assertEquals(Map.of("status.update.interval.ms", "5000"), ok.source().debezium());
        ConfigException e = assertThrows(ConfigException.class, () -> parse(VALID.replace("slot: lethe",
                "slot: lethe\n  debezium:\n    slot.name: other\n    transforms: unwrap\n    database.sslmode: disable")));
        Map<String, String> byPath = new java.util.HashMap<>();
        e.errors().forEach(err -> byPath.put(err.path(), err.problem()));
        assertEquals(java.util.Set.of("source.debezium.slot.name", "source.debezium.transforms", "source.debezium.database.sslmode"),
                byPath.keySet(), byPath.toString());
        assertTrue(byPath.get("source.debezium.database.sslmode").contains("TLS from jdbc-url"), byPath.toString());
    }

    @Test
    void aRedisCaFileIsForRedissAndMustBeReadable() {
        ConfigException e = assertThrows(ConfigException.class, () -> parse(VALID.replace(
                "us-east: { redis: \"redis://:hunter2@127.0.0.1:6379\" }",
                "us-east: { redis: \"redis://:hunter2@127.0.0.1:6379\", redis-ca-file: /etc/ca.pem }\n  ap-tokyo: { redis: \"rediss://r:6380\", "
                        + "redis-ca-file: /nonexistent/ca.pem }")));
        Map<String, String> byPath = new java.util.HashMap<>();
        e.errors().forEach(err -> byPath.put(err.path(), err.problem()));
        assertTrue(byPath.get("regions.us-east.redis-ca-file").contains("rediss:// (TLS) only"), byPath.toString());
        assertFalse(byPath.get("regions.us-east.redis-ca-file").contains("hunter2"), "the password in the URI is not repeated");
        assertTrue(byPath.get("regions.ap-tokyo.redis-ca-file").contains("readable PEM file"), byPath.toString());
    }

    @Test
    void secretsNeverAppearInToString() {
        LetheConfig c = parse(VALID);
        String text = c.toString();
        assertFalse(text.contains("s3cret"), text);
        assertFalse(text.contains("hunter2"), text);
        assertFalse(text.contains("secret-jaas"), text);
    }

    @Test
    void reportsEveryMistakeAtOnceWithFileAndPath() {
        String broken = VALID
                .replace("namespaces: [product, profile]", "namespaces: [product, profil]")
                .replace("fence-ttl: 60s", "fence-ttl: sixty")
                .replace("keys: [\"profile:{id}\"]", "keys: [\"profile:{id}:{email}\"]")
                .replace("slot: lethe", "slot: lethe\n  slto: typo");
        ConfigException e = assertThrows(ConfigException.class, () -> parse(broken));
        assertEquals("lethe.yml", e.file());
        Map<String, String> byPath = new java.util.HashMap<>();
        e.errors().forEach(err -> byPath.put(err.path(), err.problem()));
        assertTrue(byPath.get("regions.eu-west.namespaces[1]").contains("unknown namespace 'profil'"), byPath.toString());
        assertTrue(byPath.get("regions.eu-west.namespaces[1]").contains("product, profile"), "names what is expected");
        assertTrue(byPath.get("namespaces.product.fence-ttl").contains("expected a duration"), byPath.toString());
        assertTrue(byPath.get("namespaces.profile.keys[0]").contains("mode upsert needs row-scoped keys"), byPath.toString());
        assertTrue(byPath.get("source.slto").contains("unknown setting"), byPath.toString());
        assertEquals(4, e.errors().size(), e.getMessage());
        assertTrue(e.getMessage().startsWith("lethe.yml: 4 problems"), e.getMessage());
    }

    @Test
    void templatesThatWouldScanOtherNamespacesOrLethesOwnKeysAreRefusedUnlessAllowed() {
        String broken = VALID
                .replace("keys: [\"product:{id}\", \"product:{id}:price\", \"product:slug:{slug}\"]",
                        "keys: [\"{id}\", \"{id}:price\", \"lethe:fence:{id}\"]")
                .replace("patterns: [\"search:products:*\"]", "patterns: [\"lethe:*\"]");
        ConfigException e = assertThrows(ConfigException.class, () -> parse(broken));
        Map<String, String> byPath = new java.util.HashMap<>();
        e.errors().forEach(err -> byPath.put(err.path(), err.problem()));
        assertTrue(byPath.get("namespaces.product.keys[0]").contains("every key in Redis"), byPath.toString());
        assertTrue(byPath.get("namespaces.product.keys[0]").contains("allow-unprefixed-keys"), byPath.toString());
        assertTrue(byPath.get("namespaces.product.keys[1]").contains("other namespaces"), byPath.toString());
        assertTrue(byPath.get("namespaces.product.keys[2]").contains("keeps for its own keys"), byPath.toString());
        assertTrue(byPath.get("namespaces.product.patterns[0]").contains("keeps for its own keys"), byPath.toString());
        assertEquals(4, e.errors().size(), e.getMessage());

        LetheConfig allowed = parse(VALID.replace("keys: [\"product:{id}\", \"product:{id}:price\", \"product:slug:{slug}\"]",
                "keys: [\"{id}:product\"]\n    allow-unprefixed-keys: true"));
        assertEquals("*:product", allowed.namespaces().get("product").keys().get(0).glob());
    }

    @Test
    void aPatternEqualToATemplatesGlobIsRefusedAsTheRegionWouldRefuseItUnlessTheNamespaceAllowsIt() {
        // the region dead-letters such a pattern (namespace-wide-pattern) on every change: config --check must say so first
        String wide = VALID.replace("patterns: [\"search:products:*\"]", "patterns: [\"search:products:*\", \"product:*:price\"]");
        ConfigException e = assertThrows(ConfigException.class, () -> parse(wide),
                "a configured pattern equal to the glob of product:{id}:price must be refused at config check");
        assertEquals(1, e.errors().size(), e.getMessage());
        assertEquals("namespaces.product.patterns[1]", e.errors().get(0).path());
        assertTrue(e.errors().get(0).problem().contains("product:{id}:price"), e.getMessage());
        assertTrue(e.errors().get(0).problem().contains("allow-namespace-wide: true"), e.getMessage());
        assertTrue(e.getMessage().startsWith("lethe.yml"), e.getMessage());

        NamespaceConfig allowed = parse(wide.replace("fence-ttl: 60s", "fence-ttl: 60s\n    allow-namespace-wide: true"))
                .namespaces().get("product");
        assertTrue(allowed.isNamespaceWide("product:*:price"), "the region's rule and the config's are one");
        assertFalse(allowed.isNamespaceWide("search:products:*"));
    }

    @Test
    void credentialsInJdbcUrlsNeverAppearInToString() {
        LetheConfig c = parse(VALID.replace("jdbc-url: jdbc:postgresql://127.0.0.1:5432/shop",
                "jdbc-url: \"jdbc:postgresql://127.0.0.1:5432/shop?sslmode=require&password=pg-s3cret\"")
                .replace("replica: \"jdbc:postgresql://eu-replica:5432/shop\"",
                        "replica: \"jdbc:postgresql://eu-replica:5432/shop?password=rep-s3cret\""));
        String all = c.toString() + c.source() + c.regions();
        assertFalse(all.contains("pg-s3cret"), all);
        assertFalse(all.contains("rep-s3cret"), all);
        assertTrue(all.contains("sslmode=require"), "other parameters stay readable: " + all);
    }

    @Test
    void missingEnvironmentVariableIsNamed() {
        ConfigException e = assertThrows(ConfigException.class,
                () -> ConfigLoader.parse("lethe.yml", VALID, name -> null));
        assertEquals("source.password", e.errors().get(0).path());
        assertTrue(e.errors().get(0).problem().contains("LETHE_PG_PASSWORD is not set"));
    }

    @Test
    void environmentDefaultsApply() {
        LetheConfig c = ConfigLoader.parse("lethe.yml", VALID.replace("${LETHE_PG_PASSWORD}", "${NOPE:-fallback}"), n -> null);
        assertEquals("fallback", c.source().password().reveal());
    }

    @Test
    void requiredSectionsAndBadShapesAreReported() {
        ConfigException e = assertThrows(ConfigException.class, () -> parse("""
                source:
                  jdbc-url: mysql://x
                kafka: 12
                namespaces:
                  product:
                    table: "public.products;drop"
                    keys: ["product:{id"]
                    patterns: ["*"]
                """));
        List<String> paths = e.errors().stream().map(ConfigError::path).toList();
        assertTrue(paths.containsAll(List.of("source.jdbc-url", "source.user", "kafka", "regions",
                "namespaces.product.table", "namespaces.product.keys[0]", "namespaces.product.patterns[0]")), paths.toString());
    }

    @Test
    void missingFileIsNamed() {
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.load(Path.of("/nonexistent/lethe.yml")));
        assertEquals("/nonexistent/lethe.yml", e.file());
        assertTrue(e.getMessage().contains("file not found"));
    }

    @Test
    void invalidYamlNamesTheLine() {
        ConfigException e = assertThrows(ConfigException.class, () -> parse("source:\n  user: [unclosed\n"));
        assertTrue(e.errors().get(0).path().startsWith("line "), e.getMessage());
    }

    @Test
    void theSweepIsOnByDefaultAtAFewKeysASecondAndItsSettingsAreChecked() {
        ApplyConfig.Sweep sweep = parse(VALID).apply().sweep();
        assertEquals(new ApplyConfig.Sweep(true, 5, true, java.time.Duration.ofSeconds(60)), sweep);
        assertEquals(ApplyConfig.Sweep.DEFAULT, sweep);
        ApplyConfig.Sweep off = parse(VALID + "apply:\n  sweep: { enabled: false, keys-per-second: 50, heal: false, confirm-within: 5m }\n")
                .apply().sweep();
        assertEquals(new ApplyConfig.Sweep(false, 50, false, java.time.Duration.ofMinutes(5)), off);
        ConfigException e = assertThrows(ConfigException.class,
                () -> parse(VALID + "apply:\n  sweep: { keys-per-second: 0, rate: 3, confirm-within: 0s }\n"));
        Map<String, String> byPath = new java.util.HashMap<>();
        e.errors().forEach(err -> byPath.put(err.path(), err.problem()));
        assertTrue(byPath.keySet().containsAll(List.of("apply.sweep.keys-per-second", "apply.sweep.confirm-within", "apply.sweep.rate")),
                byPath.toString());
    }

    @Test
    void verifyValuesIsRefusedWithAPointerToLetheInspect() {
        ConfigException e = assertThrows(ConfigException.class, () -> parse(VALID + "apply:\n  prober:\n    verify-values: true\n"));
        Map<String, String> byPath = new java.util.HashMap<>();
        e.errors().forEach(err -> byPath.put(err.path(), err.problem()));
        assertTrue(byPath.containsKey("apply.prober.verify-values") && byPath.get("apply.prober.verify-values").contains("lethe inspect"),
                byPath.toString());
    }

    @Test
    void aNamespaceCanStayOffThePublicTopicOrSendItWithoutPayloads() {
        LetheConfig defaults = parse(VALID);
        assertTrue(defaults.namespaces().get("profile").publicTopic(), "on the public topic unless told otherwise");
        assertTrue(defaults.namespaces().get("profile").publicPayloads(), "kafka.public-payloads defaults to true");
        assertEquals("lethe.invalidations", defaults.topics().invalidations("us-east"),
                "the public topic carries everything in full: a region subscribed to everything reads it");

        LetheConfig off = parse(VALID.replace("payload-columns: [name, email]", "payload-columns: [name, email]\n    public-topic: false"));
        assertFalse(off.namespaces().get("profile").publicTopic());
        assertEquals(subs(off.region("us-east").namespaces().toArray(String[]::new)), off.topics().invalidations("us-east"),
                "the public topic no longer carries profile: us-east, subscribed to it, reads its own topic");

        LetheConfig stripped = parse(VALID.replace("properties: {", "public-payloads: false\n  properties: {"));
        assertFalse(stripped.namespaces().get("profile").publicPayloads(), "the global default applies");
        assertEquals(subs(stripped.region("us-east").namespaces().toArray(String[]::new)), stripped.topics().invalidations("us-east"),
                "the public topic carries profile's upserts as deletes: us-east needs the payloads, so reads its own topic");
        LetheConfig kept = parse(VALID.replace("properties: {", "public-payloads: false\n  properties: {")
                .replace("payload-columns: [name, email]", "payload-columns: [name, email]\n    public-payloads: true"));
        assertTrue(kept.namespaces().get("profile").publicPayloads(), "the namespace's own setting wins");
        assertEquals("lethe.invalidations", kept.topics().invalidations("us-east"));
        assertEquals("lethe.invalidations", parse(VALID.replace("properties: {", "public-payloads: false\n  properties: {")
                .replace("payload-columns: [name, email]", "payload-columns: [name, email]\n    mode: delete")
                .replace("    mode: upsert\n", "")
                .replace("    payload-columns: [name, email]\n", "")).topics().invalidations("us-east"),
                "without upsert namespaces there is nothing to strip: the public topic stays complete");
    }

    /**
     * Issue 34, replay: a region writes an upsert only while its commit is younger than fence-ttl
     * minus source.heartbeat-interval, apply.command-timeout and the clock allowance; a fence-ttl of
     * an upsert namespace that does not cover them would make every upsert a delete, so it is refused.
     */
    @Test
    void anUpsertNamespacesFenceTtlMustCoverTheHeartbeatIntervalTheCommandTimeoutAndTheClocks() {
        String upsertWith = VALID.replace("payload-columns: [name, email]", "payload-columns: [name, email]\n    fence-ttl: %s")
                .replace("publication: lethe", "publication: lethe\n  heartbeat-interval: 2s");
        LetheConfig ok = parse(upsertWith.formatted("9s"));
        assertEquals(Duration.ofSeconds(8), ok.upsertAgeMargin(), "heartbeat 2s + command timeout 5s + 1s for the clocks");
        assertEquals(Duration.ofSeconds(1), ok.upsertMaxAge(ok.namespaces().get("profile")));
        ConfigException e = assertThrows(ConfigException.class, () -> parse(upsertWith.formatted("8s")));
        assertEquals(1, e.errors().size(), e.getMessage());
        assertEquals("namespaces.profile.fence-ttl", e.errors().get(0).path());
        assertTrue(e.errors().get(0).problem().contains("mode upsert needs more than 8000ms (source.heartbeat-interval 2000ms + "
                + "apply.command-timeout 5000ms + 1000ms for the clocks)"), e.getMessage());
        LetheConfig deleteMode = parse(VALID.replace("fence-ttl: 60s", "fence-ttl: 2s"));
        assertEquals(Duration.ofSeconds(2), deleteMode.namespaces().get("product").fenceTtl(), "a delete namespace writes no upserts");
    }

    @Test
    void contradictoryPublicTopicSettingsAreRefusedWithTheirPaths() {
        ConfigException e = assertThrows(ConfigException.class, () -> parse(VALID
                .replace("fence-ttl: 60s", "fence-ttl: 60s\n    public-payloads: false")
                .replace("payload-columns: [name, email]",
                        "payload-columns: [name, email]\n    public-topic: false\n    public-payloads: true")));
        assertTrue(e.getMessage().contains("namespaces.product.public-payloads: is only used with mode: upsert"), e.getMessage());
        assertTrue(
                e.getMessage().contains("namespaces.profile.public-payloads: the namespace is off the public topic (public-topic: false)"),
                e.getMessage());
    }

    @Test
    void theDlqKeepsRecordsThreeDaysUnlessConfigured() {
        assertEquals(Duration.ofDays(3), parse(VALID).kafka().dlqRetention());
        assertEquals(Duration.ofHours(12),
                parse(VALID.replace("properties: {", "dlq-retention: 12h\n  properties: {")).kafka().dlqRetention());
        ConfigException e = assertThrows(ConfigException.class,
                () -> parse(VALID.replace("properties: {", "dlq-retention: 0s\n  properties: {")));
        assertTrue(e.getMessage().contains("kafka.dlq-retention: must be greater than zero"), e.getMessage());
    }

    @Test
    void tracingIsOffByDefaultAndItsSettingsAreChecked() {
        assertEquals(false, parse(VALID).tracing().enabled());
        LetheConfig on = parse(VALID + "tracing: { endpoint: \"http://127.0.0.1:4318/v1/traces\", sample-ratio: 0.25, "
                + "headers: { Authorization: \"Bearer s3cr3t\" } }\n");
        assertEquals(0.25, on.tracing().sampleRatio());
        assertTrue(on.tracing().enabled());
        assertTrue(!on.tracing().toString().contains("s3cr3t"), on.tracing().toString());
        ConfigException e = assertThrows(ConfigException.class, () -> parse(VALID
                + "tracing: { endpoint: \"collector:4318\", sample-ratio: 2, sampling: 1 }\n"));
        Map<String, String> byPath = new java.util.HashMap<>();
        e.errors().forEach(err -> byPath.put(err.path(), err.problem()));
        assertTrue(byPath.get("tracing.endpoint").contains("http(s)://host:4318/v1/traces"), byPath.toString());
        assertTrue(byPath.get("tracing.sample-ratio").contains("from 0 to 1"), byPath.toString());
        assertTrue(byPath.containsKey("tracing.sampling"), byPath.toString());
    }
}
