package io.lethe.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.lethe.config.ConfigLoader;
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
        Process kubectl = new ProcessBuilder("kubectl", "kustomize", Path.of("..", "deploy", "kubernetes", "overlays", "example").toString())
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
            } else {
                assertEquals("RollingUpdate", d.at("/spec/strategy/type").asText(), name + " scales and rolls");
            }
            assertEquals("registry.example.com/lethe:0.1.0", container(d).get("image").asText(), name + " pins the overlay's image");
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
                assertEquals("lethe-secrets", env.at("/valueFrom/secretKeyRef/name").asText(), name);
            }
        }
    }

    @Test
    void everyRoleRunsWithTheConfigMapItMounts() {
        List<JsonNode> maps = kind("ConfigMap");
        assertEquals(1, maps.size());
        String configName = maps.get(0).at("/metadata/name").asText();
        LetheConfig config = ConfigLoader.parse("lethe.yml", maps.get(0).at("/data/lethe.yml").asText(), name -> "from-the-secret");
        assertEquals("0.0.0.0", config.http().host(), "probes and Prometheus reach the pod");
        for (JsonNode d : kind("Deployment")) {
            assertEquals(configName, d.at("/spec/template/spec/volumes/0/configMap/name").asText(), "mounts the generated ConfigMap");
            assertEquals(config.http().port(), container(d).at("/ports/0/containerPort").asInt());
            if (role(d).startsWith("region:")) {
                assertNotNull(config.regions().get(role(d).substring("region:".length())), role(d) + " is in lethe.yml");
            }
        }
    }

    @Test
    void monitoringMatchesTheAlertRules() throws Exception {
        JsonNode monitor = kind("ServiceMonitor").get(0);
        JsonNode service = kind("Service").get(0);
        monitor.at("/spec/selector/matchLabels").fields().forEachRemaining(e ->
                assertEquals(e.getValue().asText(), service.at("/metadata/labels").path(e.getKey()).asText(), "the ServiceMonitor selects the Service"));
        assertEquals("lethe", service.at("/metadata/labels").path(monitor.at("/spec/jobLabel").asText()).asText(),
                "targets are job=\"lethe\", as the alert rules expect");
        assertTrue(monitor.at("/spec/endpoints/0/relabelings").toString().contains("\"targetLabel\":\"role\""), "and carry role");
        JsonNode rules = YAML.readTree(Path.of("..", "docker", "prometheus", "rules.yml").toFile()).get("groups");
        assertEquals(rules, kind("PrometheusRule").get(0).at("/spec/groups"), "the PrometheusRule is docker/prometheus/rules.yml");
    }
}
