package io.lethe.cache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.lethe.embedded.LetheStack;
import io.lethe.embedded.junit.LetheStackExtension;
import io.lethe.schemas.keys.KeyFormat;
import io.lethe.schemas.redis.AppliedLsn;
import io.lethe.schemas.redis.LuaScript;
import io.lethe.schemas.redis.RedisLayout;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.api.sync.RedisCommands;
import java.io.IOException;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The language-neutral conformance vectors ({@code conformance/*.json} at the repository's root)
 * run through the Java client, and the same vectors through the Python reference reader
 * ({@code readers/python}), both against the embedded stack's real Redis: two implementations of
 * the read protocol held to one set of answers. Each side gets a Redis database of its own, which
 * its runner flushes before every case.
 */
@ExtendWith(LetheStackExtension.class)
class ConformanceIT {
    private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();
    private static final Path VECTORS = ROOT.resolve("conformance");
    private static final String GROUP = "conformance";
    private static final int JAVA_DB = 1;
    private static final int PYTHON_DB = 2;
    private static final long FENCE_TTL_MS = 60_000;

    private final ObjectMapper json = new ObjectMapper();
    private LetheStack stack;
    private RedisClient client;
    private RedisCommands<String, String> redis;

    @BeforeEach
    void connect(LetheStack stack) {
        this.stack = stack;
        client = RedisClient.create();
        redis = client.connect(RedisURI.create(uri(JAVA_DB))).sync();
    }

    @AfterEach
    void close() {
        client.shutdown();
    }

    private String uri(int db) {
        return stack.redisUri("us-east").replaceAll("/\\d*$", "") + "/" + db;
    }

    @Test
    void theJavaClientRendersKeysAndFencesAsTheVectorsSay() throws IOException {
        JsonNode vectors = json.readTree(VECTORS.resolve("keys.json").toFile());
        List<String> failures = new ArrayList<>();
        for (JsonNode c : vectors.get("templates")) {
            String where = "template '" + c.get("template").asText() + "' row " + c.get("row");
            Map<String, Object> row = new LinkedHashMap<>();
            c.get("row").fields().forEachRemaining(e -> row.put(e.getKey(), typed(e.getValue())));
            String expected = c.hasNonNull("key") ? c.get("key").asText() : null;
            try {
                // Keys is the application's API; it refuses a NULL key column, for which the renderer gives no key
                String key = row.containsValue(null)
                        ? KeyFormat.parse(c.get("template").asText()).render(row).orElse(null)
                        : Keys.template(c.get("template").asText()).render(row);
                if (c.has("error")) {
                    failures.add(where + ": rendered '" + key + "', expected an error (" + c.get("error").asText() + ")");
                } else if (!java.util.Objects.equals(key, expected)) {
                    failures.add(where + ": rendered '" + key + "', expected '" + expected + "'");
                }
            } catch (IllegalArgumentException | KeyFormat.MissingColumnException e) {
                if (!c.has("error")) {
                    failures.add(where + ": refused (" + e.getMessage() + "), expected '" + expected + "'");
                }
            }
        }
        for (JsonNode c : vectors.get("globs")) {
            Map<String, Object> bound = new LinkedHashMap<>();
            c.get("bound").fields().forEachRemaining(e -> bound.put(e.getKey(), typed(e.getValue())));
            String glob = Keys.template(c.get("template").asText()).glob(bound);
            if (!glob.equals(c.get("glob").asText())) {
                failures.add("glob of template '" + c.get("template").asText() + "' bound " + c.get("bound") + ": '" + glob
                        + "', expected '" + c.get("glob").asText() + "'");
            }
        }
        for (JsonNode c : vectors.get("fences")) {
            String fence = RedisLayout.fenceKey(c.get("key").asText());
            if (!fence.equals(c.get("fence").asText())) {
                failures.add("fence of '" + c.get("key").asText() + "': '" + fence + "', expected '" + c.get("fence").asText() + "'");
            }
        }
        assertEquals(List.of(), failures);
    }

    @Test
    void theJavaClientReadsAsTheVectorsSay() throws Exception {
        JsonNode cases = json.readTree(VECTORS.resolve("reads.json").toFile()).get("cases");
        List<String> failures = new ArrayList<>();
        for (JsonNode c : cases) {
            redis.flushdb();
            for (JsonNode op : c.get("setup")) {
                apply(op);
            }
            String name = c.get("name").asText();
            Policy policy = Policy.eventual().withTtl(Duration.ofMillis(600_000), 0).withShadowReads(0)
                    .withFenceTtl(Duration.ofMillis(FENCE_TTL_MS));
            if (c.has("negative_ttl_ms")) {
                policy = policy.withNegativeTtl(Duration.ofMillis(c.get("negative_ttl_ms").asLong()));
            }
            AtomicInteger loads = new AtomicInteger();
            Loader<String> loader = key -> {
                loads.incrementAndGet();
                for (JsonNode op : c.get("during_load")) {
                    apply(op);
                }
                JsonNode load = c.get("load");
                if (load.path("not_found").asBoolean()) {
                    return Loaded.notFound();
                }
                return new Loaded<>(load.get("value").asText(), load.get("version").isNull() ? null : load.get("version").asText(), true);
            };
            String value;
            try (LetheCache cache = LetheCache.builder(uri(JAVA_DB)).readYourWrites(GROUP).build()) {
                List<String> holds = c.has("holds") ? strings(c.get("holds")) : null;
                CacheNamespace<String> ns = cache.namespace(c.get("namespace").asText(), Codecs.utf8(), policy, holds);
                JsonNode token = c.get("token");
                value = token == null
                        ? ns.get(c.get("key").asText(), loader)
                        : ns.get(c.get("key").asText(), loader, new ReadToken(token.get("lsn").asLong(), token.get("history").asText()));
            }
            JsonNode expect = c.get("expect");
            String returned = expect.get("returned").isNull() ? null : expect.get("returned").asText();
            if (!java.util.Objects.equals(value, returned)) {
                failures.add(name + ": returned '" + value + "', expected '" + returned + "'");
            }
            if (loads.get() != expect.get("loads").asInt()) {
                failures.add(name + ": " + loads.get() + " loads, expected " + expect.get("loads").asInt());
            }
            Map<String, Object> entry = entry(c.get("key").asText());
            Map<String, Object> expectedEntry = expect.get("entry").isNull() ? null : json.convertValue(expect.get("entry"), Map.class);
            if (!java.util.Objects.equals(entry, expectedEntry)) {
                failures.add(name + ": entry " + entry + ", expected " + expectedEntry);
            }
            if (expect.has("fence")) {
                String v = redis.hget(RedisLayout.fenceKey(c.get("key").asText()), RedisLayout.FENCE_VERSION);
                Map<String, Object> fence = v == null ? null : Map.of("v", v);
                Map<String, Object> expectedFence = expect.get("fence").isNull() ? null : json.convertValue(expect.get("fence"), Map.class);
                if (!java.util.Objects.equals(fence, expectedFence)) {
                    failures.add(name + ": fence " + fence + ", expected " + expectedFence);
                }
            }
            if (expect.has("ttl_above_ms") && redis.pttl(c.get("key").asText()) <= expect.get("ttl_above_ms").asLong()) {
                failures.add(name + ": entry TTL " + redis.pttl(c.get("key").asText()) + " ms, expected above "
                        + expect.get("ttl_above_ms").asLong() + " (the lease confirmed)");
            }
        }
        assertEquals(List.of(), failures, cases.size() + " cases");
    }

    /** The Python reference reader, run on the same vectors against another database of the same Redis. */
    @Test
    void thePythonReaderPassesTheSameVectors() throws Exception {
        String python = python();
        Process p = new ProcessBuilder(python, ROOT.resolve("readers/python/conformance.py").toString(), "--redis", uri(PYTHON_DB))
                .directory(ROOT.toFile()).redirectErrorStream(true).start();
        String output;
        try {
            if (!p.waitFor(2, TimeUnit.MINUTES)) {
                fail("the Python conformance run did not end within 2 minutes");
            }
        } finally {
            output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            p.destroyForcibly();
        }
        assertEquals(0, p.exitValue(), "the Python reader fails vectors:\n" + output);
        assertTrue(output.contains(", 0 failures"), output);
    }

    /**
     * The interpreter with redis-py: {@code $LETHE_PYTHON}, else Debian's ({@code python3-redis}),
     * else the first {@code python3} on the PATH. None that has it is a failure, not a skip.
     */
    private static String python() throws Exception {
        List<String> candidates = new ArrayList<>();
        if (System.getenv("LETHE_PYTHON") != null) {
            candidates.add(System.getenv("LETHE_PYTHON"));
        }
        candidates.add("/usr/bin/python3");
        candidates.add("python3");
        for (String candidate : candidates) {
            try {
                Process p = new ProcessBuilder(candidate, "-c", "import redis").redirectErrorStream(true).start();
                if (p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0) {
                    return candidate;
                }
                p.destroyForcibly();
            } catch (IOException notThere) {
                // next candidate
            }
        }
        throw new AssertionError("no Python 3 with redis-py among " + candidates
                + ": install Debian's python3-redis (.ci/run does) or set LETHE_PYTHON");
    }

    private void apply(JsonNode op) {
        String key = op.path("key").asText();
        switch (op.get("op").asText()) {
            case "entry" ->
                redis.hset(key, Map.of(RedisLayout.ENTRY_VERSION, op.get("v").asText(), RedisLayout.ENTRY_DATA, op.get("d").asText()));
            case "negative" -> redis.hset(key, Map.of(RedisLayout.ENTRY_VERSION, op.get("v").asText(), RedisLayout.ENTRY_DATA, "",
                    RedisLayout.ENTRY_NOT_FOUND, "1"));
            case "legacy" -> redis.set(key, op.get("value").asText());
            case "invalidate" -> redis.eval(LuaScript.INVALIDATE.source(), ScriptOutputType.INTEGER,
                    new String[] {key, RedisLayout.fenceKey(key)}, op.get("version").asText(), Long.toString(FENCE_TTL_MS), "1000");
            case "bump_epoch" -> redis.incr(RedisLayout.epochKey(op.get("namespace").asText()));
            case "drop_fence" -> redis.del(RedisLayout.fenceKey(key));
            case "holds" -> redis.set(RedisLayout.holdsKey(op.get("namespace").asText()),
                    RedisLayout.holds(strings(op.get("holds"))));
            case "watermark" -> {
                redis.del(AppliedLsn.key(GROUP));
                Map<String, String> fields = new HashMap<>();
                op.get("fields").fields().forEachRemaining(e -> fields.put(e.getKey(), e.getValue().asText()));
                redis.hset(AppliedLsn.key(GROUP), fields);
            }
            default -> throw new IllegalArgumentException("unknown op " + op);
        }
    }

    /** A vector's list of strings (a namespace's holds, as {@code NamespaceConfig.readerHolds()} renders them). */
    private static List<String> strings(JsonNode list) {
        List<String> out = new ArrayList<>();
        list.forEach(n -> out.add(n.asText()));
        return out;
    }

    /** The entry at {@code key} as the vectors write it ({@code v}, {@code d}, {@code nf: true}), or null when none. */
    private Map<String, Object> entry(String key) {
        if (!"hash".equals(redis.type(key))) {
            return null;
        }
        Map<String, String> fields = redis.hgetall(key);
        Map<String, Object> entry = new HashMap<>();
        entry.put("v", fields.get(RedisLayout.ENTRY_VERSION));
        entry.put("d", fields.get(RedisLayout.ENTRY_DATA));
        if ("1".equals(fields.get(RedisLayout.ENTRY_NOT_FOUND))) {
            entry.put("nf", true);
        }
        return entry;
    }

    /** A vector's typed value as the Java value the PostgreSQL JDBC driver returns for it. */
    private static Object typed(JsonNode value) {
        if (value == null || value.isNull()) {
            return null;
        }
        Map.Entry<String, JsonNode> e = value.fields().next();
        JsonNode v = e.getValue();
        return switch (e.getKey()) {
            case "text" -> v.asText();
            case "int" -> v.asLong();
            case "numeric" -> new BigDecimal(v.asText());
            case "bool" -> v.asBoolean();
            case "uuid" -> UUID.fromString(v.asText());
            case "date" -> LocalDate.parse(v.asText());
            case "timestamptz" -> OffsetDateTime.parse(v.asText());
            case "timestamp" -> LocalDateTime.parse(v.asText());
            case "bytea" -> HexFormat.of().parseHex(v.asText());
            default -> throw new IllegalArgumentException("unknown value kind " + e.getKey());
        };
    }
}
