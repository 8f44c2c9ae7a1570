package io.lethe.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code lethe inspect}'s bad input: exit 2 with what is wrong, before it connects to anything. */
class InspectCommandTest {
    private static final String YAML = """
            source: { jdbc-url: "jdbc:postgresql://127.0.0.1:1/shop", user: lethe, slot: lethe, publication: lethe }
            kafka: { bootstrap-servers: "127.0.0.1:1" }
            regions:
              us-east: { redis: "redis://127.0.0.1:1", namespaces: [product] }
            namespaces:
              product: { table: public.products, keys: ["product:{id}"] }
              other: { table: public.others, keys: ["other:{id}"] }
            """;

    @Test
    void badInputExitsTwoAndSaysWhy(@TempDir Path dir) throws Exception {
        String file = Files.writeString(dir.resolve("lethe.yml"), YAML).toString();
        OpsIT.Result region = OpsIT.lethe("inspect", "--config", file, "--region", "nowhere");
        assertEquals(2, region.exit());
        assertTrue(region.err().contains("no region 'nowhere'") && region.err().contains("us-east"), region.err());
        OpsIT.Result namespace = OpsIT.lethe("inspect", "--config", file, "--region", "us-east", "--namespace", "other");
        assertEquals(2, namespace.exit());
        assertTrue(namespace.err().contains("does not cache namespace 'other'"), namespace.err());
        OpsIT.Result rate = OpsIT.lethe("inspect", "--config", file, "--region", "us-east", "--rate", "0");
        assertEquals(2, rate.exit());
        assertTrue(rate.err().contains("--rate"), rate.err());
        OpsIT.Result repeat = OpsIT.lethe("inspect", "--config", file, "--region", "us-east", "--repeat", "PT0S");
        assertEquals(2, repeat.exit());
        assertTrue(repeat.err().contains("--repeat"), repeat.err());
    }
}
