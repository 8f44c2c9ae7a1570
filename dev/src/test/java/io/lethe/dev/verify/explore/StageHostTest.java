package io.lethe.dev.verify.explore;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.lethe.config.ConfigLoader;
import io.lethe.config.LetheConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A stage host that was closed starts nothing again: nothing would stop it. */
class StageHostTest {
    private static final LetheConfig CONFIG = ConfigLoader.parse("lethe.yml", """
            source: { jdbc-url: "jdbc:postgresql://127.0.0.1:5432/shop", user: lethe }
            kafka: { bootstrap-servers: "127.0.0.1:9092" }
            regions: { us-east: { redis: "redis://127.0.0.1:6379" } }
            namespaces:
              item: { table: public.items, keys: ["item:{id}"] }
            """, name -> null);

    @Test
    void aClosedHostRefusesEveryStart(@TempDir Path dir) throws Exception {
        StageHost processes = new StageHost.Processes(CONFIG, dir.resolve("lethe.yml"), dir);
        processes.close();
        assertThrows(IllegalStateException.class, () -> processes.start("capture"));
        assertThrows(IllegalStateException.class, () -> processes.restart("region:us-east"));
        assertThrows(IllegalStateException.class, processes::startAll);
        try (Stream<Path> files = Files.list(dir)) {
            assertEquals(List.of(), files.map(f -> f.getFileName().toString()).filter(f -> f.endsWith(".log")).toList(),
                    "no stage process was launched (each writes its log here)");
        }
        StageHost inProcess = new StageHost.InProcess(CONFIG);
        inProcess.close();
        assertThrows(IllegalStateException.class, () -> inProcess.start("capture"));
        assertThrows(IllegalStateException.class, inProcess::startAll);
    }
}
