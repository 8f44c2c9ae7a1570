package io.lethe.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code lethe config --check new.yml --against running.yml}, from the command line. */
class ConfigCommandTest {
    private static final String YAML = """
            source: { jdbc-url: "jdbc:postgresql://127.0.0.1:1/shop", user: lethe, slot: lethe, publication: lethe }
            kafka: { bootstrap-servers: "127.0.0.1:1" }
            regions:
              us-east: { redis: "redis://127.0.0.1:1", namespaces: [product] }
            namespaces:
              product: { table: public.products, keys: ["product:{id}"] }
            streams:
              watermark-key: "${LETHE_TEST_WATERMARK_KEY:-a-default-watermark-key-of-32-chars}"
            """;

    /**
     * Both files take the key from the same variable: the check resolves both from its own shell, so
     * it cannot see a new secret value in the stages' environment. It says so, and how to rotate,
     * without failing (it cannot know) and without printing the value.
     */
    @Test
    void aKeyBothFilesTakeFromTheSameVariableIsSaidNotCompared(@TempDir Path dir) throws Exception {
        String running = Files.writeString(dir.resolve("running.yml"), YAML).toString();
        String next = Files.writeString(dir.resolve("next.yml"), YAML).toString();
        OpsIT.Result result = OpsIT.lethe("config", "--check", next, "--against", running);
        assertEquals(0, result.exit(), result.out() + result.err());
        assertTrue(result.out().contains("streams.watermark-key: not compared: both files take it from ${LETHE_TEST_WATERMARK_KEY}"),
                result.out());
        assertFalse(result.out().contains("a-default-watermark-key-of-32-chars"), "a key is printed: " + result.out());
        assertTrue(result.out().contains("a lossy step") && result.out().contains("rotate in three rollouts"), result.out());
        assertFalse(result.out().contains("streams.previous-watermark-key: not compared"), "it is not set: " + result.out());
    }
}
