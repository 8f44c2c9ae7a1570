package io.lethe.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.lethe.config.ConfigLoader;
import io.lethe.config.KafkaRole;
import io.lethe.config.LetheConfig;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * deploy/kubernetes, rendered by {@code kubectl kustomize} as a platform team would apply it (no
 * cluster needed), checked for what running Lethe depends on: one capture that lets go of its slot
 * before the next starts, probes on the two health endpoints, passwords from a Secret, a config
 * every role can run with, and monitoring that matches the alert rules.
 */
class KubernetesManifestsTest {
    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
    private static final List<JsonNode> RESOURCES = new ArrayList<>();

    @BeforeAll
    static void render() throws Exception {
        Process kubectl = new ProcessBuilder("kubectl", "kustomize",
                Path.of("..", "deploy", "kubernetes", "overlays", "example").toString())
                .redirectErrorStream(true).start();
        String out = new String(kubectl.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(kubectl.waitFor(60, TimeUnit.SECONDS) && kubectl.exitValue() == 0, "kubectl kustomize failed:\n" + out);
        try (var parser = YAML.getFactory().createParser(out)) {
            YAML.readValues(parser, JsonNode.class).forEachRemaining(RESOURCES::add);
        }
    }

    private static List<JsonNode> kind(String kind) {
        return RESOURCES.stream().filter(r -> r.path("kind").asText().equals(kind)).toList();
    }

    private static JsonNode container(JsonNode deployment) {
        return deployment.at("/spec/template/spec/containers/0");
    }

    private static String role(JsonNode deployment) {
        JsonNode args = container(deployment).get("args");
        return args.get(args.size() - 1).asText();
    }

    @Test
    void oneDeploymentPerRoleWithACaptureStandingBy() {
        List<JsonNode> deployments = kind("Deployment");
        List<String> roles = deployments.stream().map(KubernetesManifestsTest::role).sorted().toList();
        assertEquals(List.of("capture", "region:eu-west", "region:us-east", "streams"), roles);
        for (JsonNode d : deployments) {
            String name = d.at("/metadata/name").asText();
            assertEquals("lethe", d.at("/metadata/namespace").asText(), name);
            assertEquals("run", container(d).get("args").get(0).asText(), name + " runs a product command");
            if (role(d).equals("capture")) {
                assertEquals(2, d.at("/spec/replicas").asInt(), "one capture reads the slot, one stands by");
                assertEquals(0, d.at("/spec/strategy/rollingUpdate/maxSurge").asInt(), "no third capture during a roll");
                assertEquals(1, d.at("/spec/strategy/rollingUpdate/maxUnavailable").asInt(), "one capture replaced at a time");
            } else if (role(d).equals("streams")) {
                // an old release's instances assigned a source they lack by a new release's leader crash: none left running
                assertEquals("Recreate", d.at("/spec/strategy/type").asText(), name + " stops every old instance first");
            } else {
                assertEquals("RollingUpdate", d.at("/spec/strategy/type").asText(), name + " scales and rolls");
            }
            assertTrue(container(d).get("image").asText().matches("registry\\.example\\.com/lethe@sha256:[0-9a-f]{64}"),
                    name + " pins the overlay's image by digest, not by a tag that can move: " + container(d).get("image").asText());
            assertTrue(d.at("/spec/template/spec/securityContext/runAsNonRoot").asBoolean(), name + " runs as non-root");
        }
    }

    @Test
    void probesUseTheLivenessAndReadinessEndpointsAndPasswordsComeFromASecret() {
        for (JsonNode d : kind("Deployment")) {
            JsonNode c = container(d);
            String name = d.at("/metadata/name").asText();
            assertEquals("/health/live", c.at("/livenessProbe/httpGet/path").asText(), name);
            assertEquals("/health/ready", c.at("/readinessProbe/httpGet/path").asText(), name);
            for (JsonNode env : c.get("env")) {
                assertFalse(env.has("value"), name + ": " + env.get("name").asText() + " is a literal; passwords come from a Secret");
                assertEquals(name, env.at("/valueFrom/secretKeyRef/name").asText(), name + " reads its own role's Secret only");
            }
        }
    }

    @Test
    void everyRoleRunsWithTheConfigMapItMounts() {
        List<JsonNode> maps = kind("ConfigMap").stream().filter(m -> m.at("/data/lethe.yml").isTextual()).toList();
        assertEquals(1, maps.size());
        String configName = maps.get(0).at("/metadata/name").asText();
        LetheConfig config = config(name -> "from-the-secret");
        assertEquals("0.0.0.0", config.http().host(), "probes and Prometheus reach the pod");
        for (JsonNode d : kind("Deployment")) {
            assertEquals(configName, volume(d, "config").at("/configMap/name").asText(), "mounts the generated ConfigMap");
            assertEquals(config.http().port(), container(d).at("/ports/0/containerPort").asInt());
            if (role(d).startsWith("region:")) {
                assertNotNull(config.regions().get(role(d).substring("region:".length())), role(d) + " is in lethe.yml");
            }
        }
    }

    private static LetheConfig config(java.util.function.Function<String, String> env) {
        JsonNode map = kind("ConfigMap").stream().filter(m -> m.at("/data/lethe.yml").isTextual()).findFirst().orElseThrow();
        return ConfigLoader.parse("lethe.yml", map.at("/data/lethe.yml").asText(), env);
    }

    private static JsonNode volume(JsonNode deployment, String name) {
        for (JsonNode v : deployment.at("/spec/template/spec/volumes")) {
            if (v.get("name").asText().equals(name)) {
                return v;
            }
        }
        throw new AssertionError(deployment.at("/metadata/name").asText() + " has no volume " + name);
    }

    private static KafkaRole kafkaRole(JsonNode deployment) {
        String role = role(deployment);
        return role.startsWith("region:")
                ? KafkaRole.region(role.substring("region:".length()))
                : role.equals("capture") ? KafkaRole.CAPTURE : KafkaRole.STREAMS;
    }

    /**
     * Issue 34: each pod receives only the secrets its role uses. lethe.yml, read with only the pod's
     * environment, gives its own role's identity a password and every other role's none.
     */
    @Test
    void eachPodReceivesOnlyTheSecretsOfItsRole() {
        for (JsonNode d : kind("Deployment")) {
            String name = d.at("/metadata/name").asText();
            java.util.Set<String> env = new java.util.HashSet<>();
            container(d).get("env").forEach(e -> env.add(e.get("name").asText()));
            LetheConfig config = config(var -> env.contains(var) ? "secret-" + var : null);
            KafkaRole own = kafkaRole(d);
            config.kafka().identities().forEach((role, identity) -> assertEquals(role.equals(own),
                    !identity.password().reveal().isEmpty(), name + ": the Kafka password of " + role));
            assertTrue(config.kafka().identities().containsKey(own), name + " logs in to Kafka as its own principal");
            assertEquals(own == KafkaRole.CAPTURE, !config.source().password().reveal().isEmpty(), name + ": PostgreSQL's password");
            config.regions().values().forEach(r -> assertEquals(KafkaRole.region(r.name()).equals(own),
                    !r.redisPassword().reveal().isEmpty(), name + ": the Redis password of " + r.name()));
        }
    }

    @Test
    void kafkaIsAuthenticatedAndEncryptedAndEveryPodMountsTheCaTheConfigNames() {
        LetheConfig config = config(name -> "x");
        assertEquals("SASL_SSL", config.kafka().properties().get("security.protocol"));
        String truststore = config.kafka().properties().get("ssl.truststore.location");
        String rootcert = config.source().jdbcUrl().replaceAll(".*sslrootcert=([^&]+).*", "$1");
        java.util.Set<String> configMaps = new java.util.HashSet<>();
        kind("ConfigMap").forEach(m -> configMaps.add(m.at("/metadata/name").asText()));
        for (JsonNode d : kind("Deployment")) {
            String name = d.at("/metadata/name").asText();
            JsonNode mount = null;
            for (JsonNode m : container(d).get("volumeMounts")) {
                if (m.get("name").asText().equals("ca")) {
                    mount = m;
                }
            }
            assertNotNull(mount, name + " mounts the CA");
            String dir = mount.get("mountPath").asText() + "/";
            assertTrue(truststore.startsWith(dir) && rootcert.startsWith(dir),
                    name + ": " + truststore + " and " + rootcert + " under " + dir);
            assertTrue(configMaps.contains(volume(d, "ca").at("/configMap/name").asText()), name + ": the CA's ConfigMap is rendered");
        }
    }

    @Test
    void podsRunWithoutAServiceAccountTokenUnderRuntimeDefaultSeccompAndANetworkPolicy() {
        List<JsonNode> policies = kind("NetworkPolicy");
        for (JsonNode d : kind("Deployment")) {
            String name = d.at("/metadata/name").asText();
            JsonNode pod = d.at("/spec/template/spec");
            assertFalse(pod.get("automountServiceAccountToken").asBoolean(true), name);
            assertEquals("RuntimeDefault", pod.at("/securityContext/seccompProfile/type").asText(), name);
            JsonNode labels = d.at("/spec/template/metadata/labels");
            List<JsonNode> selecting = policies.stream().filter(p -> {
                boolean all = true;
                var it = p.at("/spec/podSelector/matchLabels").fields();
                while (it.hasNext()) {
                    var e = it.next();
                    all &= e.getValue().asText().equals(labels.path(e.getKey()).asText());
                }
                return all;
            }).toList();
            assertEquals(1, selecting.size(), name + " is selected by one NetworkPolicy");
            assertEquals("[\"Ingress\",\"Egress\"]", selecting.get(0).at("/spec/policyTypes").toString(), name);
        }
    }

    @Test
    void monitoringMatchesTheAlertRules() throws Exception {
        JsonNode monitor = kind("ServiceMonitor").get(0);
        JsonNode service = kind("Service").get(0);
        monitor.at("/spec/selector/matchLabels").fields().forEachRemaining(e -> assertEquals(e.getValue().asText(),
                service.at("/metadata/labels").path(e.getKey()).asText(), "the ServiceMonitor selects the Service"));
        assertEquals("lethe", service.at("/metadata/labels").path(monitor.at("/spec/jobLabel").asText()).asText(),
                "targets are job=\"lethe\", as the alert rules expect");
        assertTrue(monitor.at("/spec/endpoints/0/relabelings").toString().contains("\"targetLabel\":\"role\""), "and carry role");
        JsonNode rules = YAML.readTree(Path.of("..", "docker", "prometheus", "rules.yml").toFile()).get("groups");
        assertEquals(rules, kind("PrometheusRule").get(0).at("/spec/groups"), "the PrometheusRule is docker/prometheus/rules.yml");
    }
}
