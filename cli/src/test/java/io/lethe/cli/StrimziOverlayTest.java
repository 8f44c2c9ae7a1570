package io.lethe.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.lethe.config.ConfigLoader;
import io.lethe.config.KafkaRole;
import io.lethe.config.LetheConfig;
import io.lethe.stage.kafka.KafkaAcls;
import io.lethe.stage.kafka.TopicSpec;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.resource.PatternType;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * deploy/kubernetes/overlays/strimzi: its strimzi.yaml is what {@code lethe topics --print strimzi}
 * prints for its lethe.yml (regenerate with -Dlethe.golden.update=true), and the overlay, rendered by
 * {@code kubectl kustomize}, carries a KafkaTopic per topic with Lethe's settings and a KafkaUser per
 * role with exactly its least-privilege ACLs, whose password is the one the role's pod reads.
 */
class StrimziOverlayTest {
    private static final Path OVERLAY = Path.of("..", "deploy", "kubernetes", "overlays", "strimzi");
    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

    private static String print(String format) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cli = new CommandLine(new TopicsCommand()).setOut(new PrintWriter(out)).setErr(new PrintWriter(err));
        int code = cli.execute("--config", OVERLAY.resolve("lethe.yml").toString(), "--print", format);
        assertEquals(0, code, err.toString());
        return out.toString();
    }

    private static LetheConfig config() {
        return ConfigLoader.load(OVERLAY.resolve("lethe.yml"), name -> "x");
    }

    @Test
    void theOverlayHoldsWhatTheCommandPrints() throws Exception {
        String printed = print("strimzi");
        Path golden = OVERLAY.resolve("strimzi.yaml");
        if (Boolean.getBoolean("lethe.golden.update")) {
            Files.writeString(golden, printed);
        }
        assertEquals(printed, Files.readString(golden),
                "overlays/strimzi/strimzi.yaml is stale: regenerate with -Dlethe.golden.update=true");
        // the docs keep the app principal's former Write until every application is upgraded; Strimzi's spec replaces ACLs
        assertTrue(printed.contains("# Until every application is upgraded, add to acls:"), "the app user says how to keep it");
    }

    @Test
    void kafkaCliCreatesEveryTopicAsLetheWould() {
        String printed = print("kafka-cli");
        LetheConfig config = config();
        for (TopicSpec spec : TopicSpec.all(config)) {
            assertTrue(printed.contains("--create --if-not-exists --topic " + spec.name() + " --partitions " + spec.partitions()
                    + " --replication-factor " + spec.replicationFactor()), printed);
        }
        assertTrue(printed.contains("--topic lethe.capture.offsets --partitions 1 --replication-factor 3 --config cleanup.policy=compact "
                + "--config min.insync.replicas=2\n"), printed);
        assertTrue(printed.contains("--topic lethe.dlq --partitions 6 --replication-factor 3 --config cleanup.policy=delete "
                + "--config min.insync.replicas=2 --config retention.ms=259200000\n"), printed);
    }

    @Test
    void theRenderedOverlayCarriesEveryTopicAndEachRolesUser() throws Exception {
        Process kubectl = new ProcessBuilder("kubectl", "kustomize", OVERLAY.toString()).redirectErrorStream(true).start();
        String out = new String(kubectl.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(kubectl.waitFor(60, TimeUnit.SECONDS) && kubectl.exitValue() == 0, "kubectl kustomize failed:\n" + out);
        List<JsonNode> resources = new ArrayList<>();
        try (var parser = YAML.getFactory().createParser(out)) {
            YAML.readValues(parser, JsonNode.class).forEachRemaining(resources::add);
        }
        JsonNode configMap = resources.stream()
                .filter(r -> r.path("kind").asText().equals("ConfigMap") && r.at("/data/lethe.yml").isTextual())
                .findFirst().orElseThrow();
        LetheConfig config = ConfigLoader.parse("lethe.yml", configMap.at("/data/lethe.yml").asText(), name -> "x");
        assertFalse(config.kafka().createTopics(), "the pods run with kafka.create-topics: false");

        Map<String, JsonNode> topics = new HashMap<>();
        resources.stream().filter(r -> r.path("kind").asText().equals("KafkaTopic"))
                .forEach(t -> topics.put(t.at("/spec/topicName").asText(), t));
        assertEquals(TopicSpec.all(config).stream().map(TopicSpec::name).collect(java.util.stream.Collectors.toSet()), topics.keySet());
        for (TopicSpec spec : TopicSpec.all(config)) {
            JsonNode t = topics.get(spec.name());
            assertEquals("kafka.strimzi.io/v1beta2", t.path("apiVersion").asText());
            assertEquals("lethe", t.at("/metadata/namespace").asText());
            assertEquals("kafka", t.at("/metadata/labels/strimzi.io~1cluster").asText());
            assertEquals((int) spec.partitions(), t.at("/spec/partitions").asInt(), spec.name());
            assertEquals((int) spec.replicationFactor(), t.at("/spec/replicas").asInt(), spec.name());
            Map<String, String> configs = new HashMap<>();
            t.at("/spec/config").fields().forEachRemaining(e -> configs.put(e.getKey(), e.getValue().asText()));
            assertEquals(spec.configs(), new java.util.TreeMap<>(configs), spec.name());
            assertEquals(List.of(), spec.problems(spec.partitions(), spec.replicationFactor(), configs),
                    spec.name() + " as created passes the check");
        }

        // the Secret each pod reads its Kafka password from, by role
        Map<String, String> podSecrets = new HashMap<>();
        for (JsonNode d : resources.stream().filter(r -> r.path("kind").asText().equals("Deployment")).toList()) {
            for (JsonNode env : d.at("/spec/template/spec/containers/0/env")) {
                if (env.get("name").asText().startsWith("LETHE_KAFKA_")) {
                    podSecrets.put(d.at("/metadata/name").asText(), env.at("/valueFrom/secretKeyRef/name").asText() + "/"
                            + env.at("/valueFrom/secretKeyRef/key").asText());
                }
            }
        }
        Map<String, JsonNode> users = new HashMap<>();
        resources.stream().filter(r -> r.path("kind").asText().equals("KafkaUser"))
                .forEach(u -> users.put(u.at("/metadata/name").asText(), u));
        assertEquals(KafkaAcls.roles(config).size(), users.size());
        for (KafkaRole role : KafkaAcls.roles(config)) {
            String user = KafkaAcls.principal(config, role).substring("User:".length());
            JsonNode u = users.get(user);
            assertTrue(u != null, "a KafkaUser for " + role + " named " + user);
            assertEquals("scram-sha-512", u.at("/spec/authentication/type").asText());
            String secret = u.at("/spec/authentication/password/valueFrom/secretKeyRef/name").asText() + "/"
                    + u.at("/spec/authentication/password/valueFrom/secretKeyRef/key").asText();
            if (role != KafkaRole.CLI && role != KafkaRole.APP) { // run by operators and applications, not by a pod of the overlay
                String deployment = role.region() == null ? "lethe-" + role.name() : "lethe-region-" + role.region();
                assertEquals(podSecrets.get(deployment), secret, role + ": the user's password is the one its pod logs in with");
            }
            assertFalse(podSecrets.values().stream().anyMatch(s -> s.startsWith(user + "/")),
                    user + " is not a pod's Secret (Strimzi writes one per user)");
            Set<String> rendered = new TreeSet<>();
            for (JsonNode acl : u.at("/spec/authorization/acls")) {
                for (JsonNode op : acl.get("operations")) {
                    rendered.add(acl.at("/resource/type").asText() + ":" + acl.at("/resource/name").asText() + ":"
                            + acl.at("/resource/patternType").asText() + ":" + op.asText());
                }
            }
            Set<String> wanted = new TreeSet<>();
            for (AclBinding b : KafkaAcls.bindings(config, role)) {
                String type = switch (b.pattern().resourceType()) {
                    case TOPIC -> "topic";
                    case GROUP -> "group";
                    case TRANSACTIONAL_ID -> "transactionalId";
                    default -> b.pattern().resourceType().name();
                };
                String op = java.util.Arrays.stream(b.entry().operation().name().split("_"))
                        .map(w -> w.charAt(0) + w.substring(1).toLowerCase(java.util.Locale.ROOT))
                        .collect(java.util.stream.Collectors.joining());
                wanted.add(type + ":" + b.pattern().name() + ":"
                        + (b.pattern().patternType() == PatternType.PREFIXED ? "prefix" : "literal") + ":" + op);
            }
            assertEquals(wanted, rendered, role + "'s ACLs");
            assertFalse(rendered.stream().anyMatch(a -> a.endsWith(":Create")), role + " creates no topic");
        }
    }
}
