package io.lethe.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.networknt.schema.Error;
import com.networknt.schema.Schema;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SpecificationVersion;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** docs/lethe.schema.json is the generated schema, and every example lethe.yml of the repository is valid against it. */
class ConfigSchemaTest {
    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
    private static final Path REPO = Path.of("..");
    private static final Schema SCHEMA = SchemaRegistry.withDefaultDialect(SpecificationVersion.DRAFT_2020_12)
            .getSchema(ConfigSchema.json());

    @Test
    void docsSchemaIsTheGeneratedSchema() throws Exception {
        Path doc = REPO.resolve("docs/lethe.schema.json");
        if (Boolean.getBoolean("lethe.golden.update")) {
            Files.writeString(doc, ConfigSchema.json());
        }
        assertEquals(Files.readString(doc), ConfigSchema.json(),
                "docs/lethe.schema.json is stale: regenerate with -Dlethe.golden.update=true");
    }

    @Test
    void everySettingOfTheReferenceHasOneType() {
        List<String> paths = ConfigReference.settings().stream().map(ConfigReference.Setting::path).toList();
        assertEquals(paths, List.copyOf(SettingTypes.TYPES.keySet()), "SettingTypes.TYPES names the reference's settings, in its order");
    }

    /** Every example lethe.yml of the repository: the files, and the complete ones in README.md's and the runbook's YAML blocks. */
    static Stream<org.junit.jupiter.params.provider.Arguments> examples() throws IOException {
        List<org.junit.jupiter.params.provider.Arguments> all = new java.util.ArrayList<>();
        try (Stream<Path> files = Stream.concat(Stream.of(REPO.resolve("docker/lethe/lethe.yml")),
                Files.walk(REPO.resolve("deploy")).filter(p -> p.getFileName().toString().equals("lethe.yml")))) {
            for (Path file : files.toList()) {
                all.add(org.junit.jupiter.params.provider.Arguments.of(file.toString(), Files.readString(file)));
            }
        }
        java.util.regex.Pattern block = java.util.regex.Pattern.compile("```yaml\n(source:\n.*?)```", java.util.regex.Pattern.DOTALL);
        for (String doc : List.of("README.md", "docs/runbook.md")) {
            java.util.regex.Matcher m = block.matcher(Files.readString(REPO.resolve(doc)));
            for (int i = 1; m.find(); i++) {
                all.add(org.junit.jupiter.params.provider.Arguments.of(doc + " block " + i, m.group(1)));
            }
        }
        assertTrue(all.size() >= 6, "found the example configurations: " + all.size());
        return all.stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("examples")
    void everyExampleConfigurationIsValid(String where, String yaml) throws IOException {
        List<Error> errors = SCHEMA.validate(YAML.readTree(yaml));
        assertTrue(errors.isEmpty(), () -> where + " against docs/lethe.schema.json: " + errors);
    }

    @Test
    void theSchemaRefusesWhatTheLoaderRefuses() throws IOException {
        String valid = """
                source: { jdbc-url: "jdbc:postgresql://db:5432/shop", user: lethe, password: "${PG_PASSWORD}" }
                kafka: { bootstrap-servers: "kafka:9092", partitions: "${PARTITIONS}" }
                regions: { eu: { redis: "redis://redis:6379", namespaces: products } }
                namespaces: { products: { table: public.products, keys: [ "product:{id}" ], fence-ttl: 30s } }
                tracing: { endpoint: "http://collector:4318/v1/traces", sample-ratio: 0.05 }
                """;
        assertEquals(List.of(), SCHEMA.validate(YAML.readTree(valid)));
        for (String[] wrong : new String[][] {
                {"heartbeat-intervall", "source: { jdbc-url: x, user: u, heartbeat-intervall: 1s }"},
                {"fence-ttl", "namespaces: { p: { table: t, keys: k, fence-ttl: thirty } }"},
                {"keys", "namespaces: { p: { table: t } }"},
                {"port", "http: { port: high }"},
                {"mode", "namespaces: { p: { table: t, keys: k, mode: replace } }"},
                {"sample-ratio", "tracing: { sample-ratio: often }"}}) {
            // the wrong section replaces the valid one of the same name
            JsonNode merged = YAML.readTree(valid);
            YAML.readerForUpdating(merged).readValue(YAML.readTree(wrong[1]).toString());
            List<Error> errors = SCHEMA.validate(merged);
            assertFalse(errors.isEmpty(), () -> wrong[1] + " passed");
            assertTrue(errors.stream().map(Error::toString).collect(Collectors.joining("; ")).contains(wrong[0]),
                    () -> wrong[1] + ": " + errors);
        }
    }
}
