package io.lethe.config;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** {@code lethe config --check new.yml --against running.yml}: what a change would move, said before the rollout. */
class ConfigChangesTest {
    private static final String HEAD = """
            source: { jdbc-url: "jdbc:postgresql://127.0.0.1:5432/shop", user: lethe, slot: lethe, publication: lethe }
            kafka: { bootstrap-servers: "127.0.0.1:9092" }
            """;

    private static LetheConfig parse(String yaml) {
        return ConfigLoader.parse("lethe.yml", HEAD + yaml, name -> null);
    }

    private static final String NAMESPACES = """
            namespaces:
              a: { table: public.a, keys: ["a:{id}"] }
              b: { table: public.b, keys: ["b:{id}"] }
            """;

    @Test
    void reorderingRegionsOrAddingOneMovesNobody() {
        LetheConfig running = parse("""
                regions:
                  us-east: { redis: "redis://127.0.0.1:6379", namespaces: [a] }
                  eu-west: { redis: "redis://127.0.0.1:6380", namespaces: [a] }
                """ + NAMESPACES);
        LetheConfig next = parse("""
                regions:
                  ap-south: { redis: "redis://127.0.0.1:6381", namespaces: [a] }
                  eu-west: { redis: "redis://127.0.0.1:6380", namespaces: [a] }
                  us-east: { redis: "redis://127.0.0.1:6379", namespaces: [a] }
                """ + NAMESPACES);
        ConfigChanges changes = ConfigChanges.between(running, next);
        assertFalse(changes.moves(), changes.lines().toString());
        assertTrue(changes.lines().contains("region us-east: unchanged (reads " + next.topics().invalidations("us-east") + ")"),
                changes.lines().toString());
        assertTrue(changes.lines().stream().anyMatch(l -> l.startsWith("region ap-south: new; reads ")), changes.lines().toString());
    }

    @Test
    void aSubscriptionChangeARemovedNamespaceAndChangedKeysAreSaid() {
        LetheConfig running = parse("""
                regions:
                  us-east: { redis: "redis://127.0.0.1:6379", namespaces: [a, b] }
                  eu-west: { redis: "redis://127.0.0.1:6380", namespaces: [a] }
                """ + NAMESPACES);
        LetheConfig next = parse("""
                regions:
                  us-east: { redis: "redis://127.0.0.1:6379", namespaces: [a] }
                namespaces:
                  a: { table: public.a, keys: ["a:{id}:v2"] }
                  c: { table: public.c, keys: ["c:{id}"] }
                """);
        ConfigChanges changes = ConfigChanges.between(running, next);
        assertTrue(changes.moves());
        String all = String.join("\n", changes.lines());
        assertTrue(all.contains("region us-east: moves from " + running.topics().invalidations("us-east") + " to "
                + next.topics().invalidations("us-east")), all);
        assertTrue(all.contains("invalidates [a, b] wholesale once"), "what it no longer receives goes too: " + all);
        assertTrue(all.contains("region eu-west: removed"), all);
        assertTrue(all.contains("namespace b: removed"), all);
        assertTrue(all.contains("namespace a: its keys change"), all);
        assertTrue(all.endsWith("roll out the readers first, then capture and streams, then the regions (a moved region waits for "
                + "streams to run the new configuration; streams holds capture's watermarks until capture runs it too)"), all);
    }

    @Test
    void anUpsertPayloadOrAVersionSourceChangeIsAMove() {
        String regions = """
                regions:
                  us-east: { redis: "redis://127.0.0.1:6379" }
                """;
        LetheConfig running = parse(regions + """
                namespaces:
                  a: { table: public.a, keys: ["a:{id}"], mode: upsert, payload-columns: [x] }
                  b: { table: public.b, keys: ["b:{id}"] }
                """);
        LetheConfig next = parse(regions + """
                namespaces:
                  a: { table: public.a, keys: ["a:{id}"], mode: upsert, payload-columns: [x, y] }
                  b: { table: public.b, keys: ["b:{id}"], version: column:ver }
                """);
        ConfigChanges changes = ConfigChanges.between(running, next);
        assertTrue(changes.moves(), changes.lines().toString());
        String all = String.join("\n", changes.lines());
        assertTrue(all.contains("namespace a: its keys change") && all.contains("payload:x,y"), all);
        assertTrue(all.contains("namespace b: its keys change") && all.contains("version:column:ver"), all);
    }

    /**
     * A rotation of streams.watermark-key: each of the three rollouts docs/security.md gives is said
     * to be a step that loses nothing; changing the key in one rollout is said to be lossy (a region
     * refuses the other key's upserts while both run) and fails the check; no key is printed.
     */
    @Test
    void aRotationOfTheWatermarkKeyIsThreeLosslessStepsAndASwapIsLossy() {
        String regions = """
                regions:
                  us-east: { redis: "redis://127.0.0.1:6379", namespaces: [a] }
                """ + NAMESPACES;
        String oldKey = "the-old-watermark-key-of-32-chars";
        String newKey = "the-new-watermark-key-of-32-chars";
        LetheConfig before = parse("streams: { watermark-key: " + oldKey + " }\n" + regions);
        LetheConfig step1 = parse("streams: { watermark-key: " + oldKey + ", previous-watermark-key: " + newKey + " }\n" + regions);
        LetheConfig step2 = parse("streams: { watermark-key: " + newKey + ", previous-watermark-key: " + oldKey + " }\n" + regions);
        LetheConfig after = parse("streams: { watermark-key: " + newKey + " }\n" + regions);
        String[] steps = {"rotation step 1", "rotation step 2", "rotation step 3"};
        LetheConfig[] files = {before, step1, step2, after};
        for (int i = 0; i < steps.length; i++) {
            ConfigChanges step = ConfigChanges.between(files[i], files[i + 1]);
            assertFalse(step.moves(), step.lines().toString());
            String expected = steps[i];
            assertTrue(step.lines().stream().anyMatch(l -> l.contains(expected)), expected + ": " + step.lines());
            assertNoKey(step, oldKey, newKey);
        }
        String newId = io.lethe.schemas.SigningKeys.keyId(newKey.getBytes(java.nio.charset.StandardCharsets.UTF_8));
        String oldId = io.lethe.schemas.SigningKeys.keyId(oldKey.getBytes(java.nio.charset.StandardCharsets.UTF_8));
        assertTrue(String.join("\n", ConfigChanges.between(before, step1).lines()).contains("(rotation step 1, new key " + newId + ")"),
                "each step names the ids by which the stages show it done");
        assertTrue(String.join("\n", ConfigChanges.between(step1, step2).lines()).contains("(rotation step 2, signers move from key "
                + oldId + " to " + newId + "; done when lethe lag shows no signer on " + oldId + ")"));
        assertTrue(String.join("\n", ConfigChanges.between(step2, after).lines()).contains("(rotation step 3, key " + oldId
                + " no longer accepted)"));
        String secondStep = String.join("\n", ConfigChanges.between(step1, step2).lines());
        assertTrue(secondStep.contains("no loss in any order only if every stage already runs the running file (step 1)"),
                "the check sees two files, not which one each stage runs: " + secondStep);
        String thirdStep = String.join("\n", ConfigChanges.between(step2, after).lines());
        assertTrue(thirdStep.contains("applied watermark") && thirdStep.contains("mirrored regions included"),
                "a backlog at 0 is not enough where records are still being mirrored: " + thirdStep);
        ConfigChanges swap = ConfigChanges.between(before, after);
        assertTrue(swap.moves(), "a lossy step fails the check: " + swap.lines());
        assertTrue(swap.lines().stream().anyMatch(l -> l.contains("a lossy step") && l.contains("untrusted-record")),
                swap.lines().toString());
        assertNoKey(swap, oldKey, newKey);
        ConfigChanges skipped = ConfigChanges.between(before, step2);
        assertTrue(skipped.moves() && skipped.lines().stream().anyMatch(l -> l.contains("the running file does not accept")),
                "step 2 before step 1 reached every stage: " + skipped.lines());
        ConfigChanges unchanged = ConfigChanges.between(step1, step1);
        assertTrue(unchanged.lines().stream().noneMatch(l -> l.startsWith("streams.watermark-key")), unchanged.lines().toString());
        ConfigChanges introduced = ConfigChanges.between(parse(regions), before);
        assertTrue(introduced.moves() && introduced.lines().stream().anyMatch(l -> l.contains("introduced; roll out capture first")),
                introduced.lines().toString());
    }

    /**
     * Both files take a key from the same {@code ${VAR}}: resolved from one shell it always looks
     * unchanged, so it is said not compared (with the three rollouts), the check does not fail for
     * it, and neither the value nor a default written in the file is printed.
     */
    @Test
    void aKeyTakenFromTheSameVariableInBothFilesIsSaidNotCompared() {
        String regions = """
                regions:
                  us-east: { redis: "redis://127.0.0.1:6379", namespaces: [a] }
                """ + NAMESPACES;
        String both = "streams:\n  watermark-key: ${LETHE_WATERMARK_KEY}\n"
                + "  previous-watermark-key: \"${LETHE_NEXT_KEY:-a-default-key-of-32-characters}\"\n" + regions;
        String value = "the-watermark-key-of-32-characters";
        java.util.function.Function<String, String> env = name -> name.equals("LETHE_WATERMARK_KEY") ? value : null;
        LetheConfig running = ConfigLoader.parse("running.yml", HEAD + both, env);
        LetheConfig next = ConfigLoader.parse("next.yml", HEAD + both, env);
        ConfigChanges changes = ConfigChanges.between(running, next).withKeysFromEnvironment(HEAD + both, HEAD + both);
        assertFalse(changes.moves(), "it cannot know, so it does not fail: " + changes.lines());
        String all = String.join("\n", changes.lines());
        assertTrue(all.contains("streams.watermark-key: not compared: both files take it from ${LETHE_WATERMARK_KEY}, whose value "
                + "comes from the environment of each stage"), all);
        assertTrue(all.contains("streams.previous-watermark-key: not compared: both files take it from ${LETHE_NEXT_KEY}"), all);
        assertTrue(all.contains("a lossy step") && all.contains("rotate in three rollouts"), all);
        assertNoKey(changes, value, "a-default-key-of-32-characters");
        String other = "streams:\n  watermark-key: ${LETHE_OTHER_KEY}\n" + regions;
        ConfigChanges differs = ConfigChanges.between(running, running).withKeysFromEnvironment(HEAD + both, HEAD + other);
        assertTrue(differs.lines().stream().noneMatch(l -> l.contains("not compared")),
                "other variables are resolved and compared: " + differs.lines());
    }

    private static void assertNoKey(ConfigChanges changes, String... keys) {
        for (String line : changes.lines()) {
            for (String key : keys) {
                assertFalse(line.contains(key), "a key is printed: " + line);
            }
        }
    }
}
