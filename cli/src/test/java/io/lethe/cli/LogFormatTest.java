package io.lethe.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/** LETHE_LOG_FORMAT=json makes every log line a JSON object; the default stays text. Each in a JVM of its own. */
class LogFormatTest {

    /** Logs one line the way the lethe command would, after choosing the format from the environment. */
    public static void main(String[] args) {
        LogFormat.apply(System.getenv());
        LoggerFactory.getLogger("io.lethe.region.ApplyLoop").warn("region {}: applying failed; retrying", "us-east");
    }

    private static String run(String format) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp",
                System.getProperty("java.class.path"), LogFormatTest.class.getName()).redirectErrorStream(true);
        pb.environment().put(LogFormat.VARIABLE, format);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0, out);
        return out;
    }

    @Test
    void jsonGivesOneObjectPerLine() throws Exception {
        List<String> lines = run("json").lines().filter(l -> l.startsWith("{")).toList();
        assertEquals(1, lines.size(), "one JSON line for one log call");
        JsonNode line = new ObjectMapper().readTree(lines.get(0));
        assertEquals("WARN", line.get("level").asText());
        assertEquals("io.lethe.region.ApplyLoop", line.get("loggerName").asText());
        assertEquals("region us-east: applying failed; retrying", line.get("formattedMessage").asText(), line.toString());
    }

    @Test
    void textIsTheDefault() throws Exception {
        String out = run("text");
        assertTrue(out.contains("[WARN] ApplyLoop - region us-east: applying failed; retrying"), out);
    }
}
