package io.lethe.schemas.redis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lethe.embedded.LetheStack;
import io.lethe.embedded.junit.LetheStackExtension;
import io.lethe.embedded.junit.TestScope;
import io.lethe.schemas.Versions;
import io.lettuce.core.RedisException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The semantics table of DESIGN.md for each script, against a real Redis. */
@ExtendWith(LetheStackExtension.class)
class LuaContractIT {
    private static final long FENCE_TTL = 60_000;
    private static final String BIG = "999999999999";
    private ScriptRunner redis;
    private TestScope scope;

    @BeforeEach
    void connect(LetheStack stack, TestScope scope) {
        this.redis = ScriptRunner.standalone(stack.redisUri("us-east"));
        this.scope = scope;
    }

    @AfterEach
    void close() {
        redis.close();
    }

    private String key(String name) {
        return scope.key(name);
    }

    /** A fence without {@code h}, the Redis time its version stands until (it differs between any two calls). */
    private static Map<String, String> withoutTime(Map<String, String> fence) {
        Map<String, String> out = new java.util.HashMap<>(fence);
        out.remove("h");
        return out;
    }

    private void versioned(String key, String version, String data) {
        redis.hashes.hset(key, Map.of("v", version, "d", data));
    }

    @Nested
    class Invalidate {
        @Test
        void absentKeyStillRecordsTheFence() {
            String k = key("p:1");
            assertEquals(InvalidateResult.ABSENT, redis.invalidate(k, "100", FENCE_TTL, 5000));
            assertEquals(Map.of("v", "100", "n", "5000", "m", "0"), withoutTime(redis.fence(k)), "the counter starts at the seed");
            assertTrue(Long.parseLong(redis.fence(k).get("h")) > System.currentTimeMillis(),
                    "v stands one fence TTL from now (Redis time)");
            long ttl = redis.keys.pttl(RedisLayout.fenceKey(k));
            assertTrue(ttl > 0 && ttl <= FENCE_TTL, "fence TTL " + ttl);
        }

        @Test
        void aShorterFenceTtlNeverShortensAFence() {
            // two namespaces whose keys overlap, fence TTLs 60 s and 1 s: the second must not cut the first's short
            String k = key("p:short");
            redis.invalidate(k, "100", 60_000, 1);
            redis.invalidate(k, "101", 1_000, 1);
            assertTrue(redis.keys.pttl(RedisLayout.fenceKey(k)) > 50_000, "fence TTL " + redis.keys.pttl(RedisLayout.fenceKey(k)));
        }

        @Test
        void deletesOlderAndEqualEntriesAndKeepsNewerOnes() {
            versioned(key("older"), "99", "old");
            versioned(key("equal"), "100", "same");
            versioned(key("newer"), "101", "new");
            assertEquals(InvalidateResult.DELETED, redis.invalidate(key("older"), "100", FENCE_TTL, 1));
            assertEquals(InvalidateResult.DELETED, redis.invalidate(key("equal"), "100", FENCE_TTL, 1));
            assertEquals(InvalidateResult.KEPT_NEWER, redis.invalidate(key("newer"), "100", FENCE_TTL, 1));
            assertEquals(0, redis.keys.exists(key("older"), key("equal")));
            assertEquals("new", redis.entry(key("newer")).get("d"));
        }

        @Test
        void legacyEntriesOfAnyTypeAreDeleted() {
            redis.strings.set(key("string"), "plain SET");
            redis.hashes.hset(key("hash"), Map.of("name", "no v field"));
            redis.lists.rpush(key("list"), "a", "b");
            for (String k : new String[] {key("string"), key("hash"), key("list")}) {
                assertEquals(InvalidateResult.DELETED, redis.invalidate(k, "1", FENCE_TTL, 1), k);
                assertEquals(0, redis.keys.exists(k));
            }
        }

        @Test
        void anExistingFenceIsRenewedAndCountedAsHincrbyCounts() {
            String k = key("renew");
            String fence = RedisLayout.fenceKey(k);
            redis.invalidate(k, "1", 1_000, 41);
            assertEquals(InvalidateResult.ABSENT, redis.invalidate(k, "2", FENCE_TTL, 1));
            assertTrue(redis.keys.pttl(fence) > FENCE_TTL - 10_000, "the longer TTL renews an existing fence: " + redis.keys.pttl(fence));
            assertEquals(Map.of("v", "2", "n", "42", "m", "0"), withoutTime(redis.fence(k)));

            // a fence an earlier script wrote (no h, m), a counter beyond what Lua holds exactly, one without a counter
            redis.hashes.hset(fence, Map.of("v", "7", "n", "9007199254740993"));
            redis.invalidate(k, "3", FENCE_TTL, 1);
            assertEquals(Map.of("v", "7", "n", "9007199254740994", "m", "3"), withoutTime(redis.fence(k)));
            assertTrue(Long.parseLong(redis.fence(k).get("h")) > System.currentTimeMillis(), "v stands one fence TTL from now");
            redis.hashes.hdel(fence, "n");
            redis.invalidateWhatever(k, "4", FENCE_TTL, 1);
            assertEquals(Map.of("v", "7", "n", "1", "m", "4", "x", "1"), withoutTime(redis.fence(k)));

            // a counter that is not one is refused, as HINCRBY refuses it (the region consumer widens the key)
            for (String bad : new String[] {"abc", "007", "-"}) {
                redis.hashes.hset(fence, "n", bad);
                RedisException refused = org.junit.jupiter.api.Assertions.assertThrows(RedisException.class,
                        () -> redis.invalidate(k, "5", FENCE_TTL, 1), bad);
                assertTrue(refused.getMessage().contains("not an integer"), refused.getMessage());
            }
        }

        @Test
        void duplicatesCountButNeverResurrect() {
            String k = key("dup");
            versioned(k, "5", "old");
            assertEquals(InvalidateResult.DELETED, redis.invalidate(k, "10", FENCE_TTL, 700));
            assertEquals(InvalidateResult.ABSENT, redis.invalidate(k, "10", FENCE_TTL, 900));
            assertEquals(Map.of("v", "10", "n", "701", "m", "10"), withoutTime(redis.fence(k)),
                    "the seed is used only when the fence is created");
        }

        @Test
        void anOlderVersionAfterANewerOneKeepsTheFenceAndTheNewerEntry() {
            String k = key("reorder");
            redis.invalidate(k, "20", FENCE_TTL, 1);
            versioned(k, "20", "filled after 20");
            assertEquals(InvalidateResult.KEPT_NEWER, redis.invalidate(k, "15", FENCE_TTL, 1));
            assertEquals("20", redis.fence(k).get("v"));
            assertEquals("filled after 20", redis.entry(k).get("d"));
        }

        @Test
        void versionZeroOfDerivedKeysDeletesUnversionedEntries() {
            String k = key("derived");
            versioned(k, "0", "list of orders");
            assertEquals(InvalidateResult.DELETED, redis.invalidate(k, "0", FENCE_TTL, 1));
        }

        @Test
        void aDerivedKeysInvalidationDeletesAnEntryWhateverVersionAReaderGaveIt() {
            String k = key("derived:any");
            versioned(k, BIG, "a reader passed a row version for a derived key");
            assertEquals(InvalidateResult.DELETED, redis.invalidateWhatever(k, "0", FENCE_TTL, 1));
            assertEquals(0, redis.keys.exists(k));
            assertEquals("1", redis.fence(k).get(RedisLayout.FENCE_FORCED));
        }

        @Test
        void versionsBeyondTwoToTheFiftyThreeCompareExactly() {
            String k = key("big");
            versioned(k, "9007199254740993", "2^53 + 1");
            assertEquals(InvalidateResult.KEPT_NEWER, redis.invalidate(k, "9007199254740992", FENCE_TTL, 1));
            assertEquals(InvalidateResult.DELETED, redis.invalidate(k, "18446744073709551615", FENCE_TTL, 1));
        }
    }

    @Nested
    class Upsert {
        @Test
        void writesANewerValueWithItsTtl() {
            String k = key("u1");
            assertEquals(UpsertResult.UPSERTED, redis.upsert(k, "7", "{\"price\":7}", 30_000, FENCE_TTL, 1));
            assertEquals(Map.of("v", "7", "d", "{\"price\":7}"), redis.entry(k));
            long ttl = redis.keys.pttl(k);
            assertTrue(ttl > 0 && ttl <= 30_000);
            assertEquals("7", redis.fence(k).get("v"), "an upsert records its version like an invalidation");
        }

        @Test
        void refusesOlderOrDuplicateValues() {
            String k = key("u2");
            redis.upsert(k, "9", "nine", 0, FENCE_TTL, 1);
            assertEquals(UpsertResult.REFUSED, redis.upsert(k, "8", "eight", 0, FENCE_TTL, 1));
            assertEquals(UpsertResult.REFUSED, redis.upsert(k, "9", "nine", 0, FENCE_TTL, 1), "a duplicate");
            assertEquals("nine", redis.entry(k).get("d"));
            assertEquals(-1, redis.keys.pttl(k), "ttl 0 means no expiry");
        }

        @Test
        void theSameVersionWithAnotherPayloadDeletesTheEntry() {
            // the row changed without its version column rising (a bulk UPDATE that skips @Version): which
            // payload is current is unknown, so neither stays (before: refused, the old payload kept)
            String k = key("u2b");
            redis.upsert(k, "9", "nine", 0, FENCE_TTL, 1);
            assertEquals(UpsertResult.DELETED, redis.upsert(k, "9", "nine changed", 0, FENCE_TTL, 1));
            assertEquals(0, redis.keys.exists(k));
        }

        @Test
        void anUpsertNeverShortensAFence() {
            String k = key("u2c");
            redis.invalidate(k, "5", 60_000, 1);
            redis.upsert(k, "6", "six", 0, 1_000, 1);
            assertTrue(redis.keys.pttl(RedisLayout.fenceKey(k)) > 50_000, "another namespace's longer fence stands");
        }

        @Test
        void refusesAValueTheFenceIsNewerThan() {
            String k = key("u3");
            redis.invalidate(k, "12", FENCE_TTL, 1);
            assertEquals(UpsertResult.ABSENT, redis.upsert(k, "11", "stale", 0, FENCE_TTL, 1), "refused by the fence");
            assertEquals(0, redis.keys.exists(k));
            assertEquals(UpsertResult.UPSERTED, redis.upsert(k, "13", "fresh", 0, FENCE_TTL, 1));
        }

        @Test
        void anUpsertTheFenceRefusesDeletesWhatAReaderFilledBehindIt() {
            String k = key("u:behind-max");
            // a namespace-wide invalidation of a column: namespace fences every key it reaches at 2^64 - 1 (marked x) ...
            redis.invalidateWhatever(k, Versions.MAX, FENCE_TTL, 1);
            // ... so a reader's refill is accepted by the counter: the row as it was at version 5
            assertEquals(FillResult.ACCEPTED, redis.fill(k, "5", redis.counter(k), "row at 5"));
            // the row changes; its upsert at 6 is below the fence
            UpsertResult r = redis.upsert(k, "6", "row at 6", 0, FENCE_TTL, 1);
            assertEquals(0, redis.keys.exists(k), "an upsert the fence refuses must delete the entry it could not replace (fail "
                    + "closed), but it returned " + r + " and left " + redis.entry(k));
            assertEquals(UpsertResult.DELETED, r);
            assertEquals(UpsertResult.ABSENT, redis.upsert(k, "7", "row at 7", 0, FENCE_TTL, 1));

            // an entry as new as the refused upsert, or newer, is kept (a redelivered upsert changes nothing)
            String n = key("u:behind-max:newer");
            redis.invalidateWhatever(n, Versions.MAX, FENCE_TTL, 1);
            redis.fill(n, "9", redis.counter(n), "row at 9");
            assertEquals(UpsertResult.REFUSED, redis.upsert(n, "9", "row at 9", 0, FENCE_TTL, 1));
            assertEquals("row at 9", redis.entry(n).get("d"));
        }

        @Test
        void aFenceAtTheMaximumRefusesUpsertsForOneFenceTtlNotForAsLongAsTheKeyKeepsChanging() throws InterruptedException {
            String k = key("u:hot");
            long fenceTtl = 400;
            redis.invalidateWhatever(k, Versions.MAX, fenceTtl, 1);
            long raised = System.nanoTime();
            long version = 100;
            UpsertResult last = null;
            // a hot key: it changes every 50 ms, far more often than its fence expires
            while (System.nanoTime() - raised < 20 * fenceTtl * 1_000_000L) {
                last = redis.upsert(k, Long.toString(++version), "row at " + version, 0, fenceTtl, 1);
                if (last == UpsertResult.UPSERTED) {
                    break;
                }
                assertEquals(1, redis.keys.exists(RedisLayout.fenceKey(k)), "every change keeps the hot key's fence alive");
                Thread.sleep(50);
            }
            long millis = (System.nanoTime() - raised) / 1_000_000L;
            assertEquals(UpsertResult.UPSERTED, last, "a hot key's upserts must flow again once the fence at 2^64 - 1 stood its "
                    + fenceTtl + " ms, but every upsert for " + millis + " ms was refused (each one renewed the fence)");
            assertTrue(millis >= fenceTtl, "not before the fence stood its TTL: " + millis + " ms");
            assertEquals(Long.toString(version), redis.fence(k).get("v"), "the fence now holds the upsert's version");
            // what the fence stood for is still refused: an older change, or a reader that loaded before the last one
            assertEquals(UpsertResult.REFUSED, redis.upsert(k, Long.toString(version - 1), "older", 0, fenceTtl, 1));
            assertEquals(FillResult.REFUSED_NEWER_ENTRY, redis.fill(k, Long.toString(version - 1), null, "older"));
        }

        @Test
        void aKnownVersionFillIsRefusedBelowEveryVersionRecordedWithinTheLastFenceTtl() throws InterruptedException {
            String k = key("u:lowered");
            long fenceTtl = 300;
            redis.invalidate(k, Versions.MAX, fenceTtl, 1); // a row delete whose version was unknown
            redis.invalidate(k, "50", fenceTtl, 1); // then the row's changes, hot
            long start = System.nanoTime();
            long version = 50;
            while ((System.nanoTime() - start) / 1_000_000L < 2 * fenceTtl) {
                Thread.sleep(40);
                redis.invalidate(k, Long.toString(++version), fenceTtl, 1);
            }
            assertNotEquals(Versions.MAX, redis.fence(k).get("v"), "the maximum stood one fence TTL, not for as long as the key changes");
            assertEquals(FillResult.REFUSED_FENCE_VERSION,
                    redis.fill(k, Long.toString(version - 1), null, "loaded before the last change"));
            assertEquals(FillResult.ACCEPTED, redis.fill(k, Long.toString(version), null, "loaded after it"));
        }
    }

    @Nested
    class Fill {
        @Test
        void aMissWithoutAnyInvalidationIsFilled() {
            String k = key("f1");
            assertEquals(FillResult.ACCEPTED, redis.fill(k, "0", redis.counter(k), "loaded"));
            assertEquals(Map.of("v", "0", "d", "loaded"), redis.entry(k));
        }

        @Test
        void anyInvalidationBetweenMissAndFillVoidsAnUnversionedFill() {
            String k = key("f2");
            redis.invalidate(k, "50", FENCE_TTL, 1000);
            String n0 = redis.counter(k);
            // an invalidation with an older version than the fence (a derived key's change
            // committed earlier but applied later) lands while the reader loads
            redis.invalidate(k, "0", FENCE_TTL, 1);
            assertEquals(FillResult.REFUSED_FENCE_MOVED, redis.fill(k, "0", n0, "loaded before the change"));
            assertEquals(0, redis.keys.exists(k));
            assertEquals(FillResult.ACCEPTED, redis.fill(k, "0", redis.counter(k), "loaded after"));
        }

        @Test
        void aFenceCreatedDuringTheLoadVoidsAFillThatSawNone() {
            String k = key("f3");
            String n0 = redis.counter(k);
            assertEquals(null, n0);
            redis.invalidate(k, "3", FENCE_TTL, 42);
            assertEquals(FillResult.REFUSED_FENCE_MOVED, redis.fill(k, "0", n0, "stale"));
        }

        @Test
        void anExpiredAndRecreatedFenceCannotHandAnOldCounterBack() {
            String k = key("f4");
            redis.invalidate(k, "3", FENCE_TTL, 1_000_000);
            String n0 = redis.counter(k);
            redis.keys.del(RedisLayout.fenceKey(k)); // the fence expired ...
            redis.invalidate(k, "4", FENCE_TTL, 987_654); // ... and a new one starts from another random value
            assertNotEquals(n0, redis.counter(k));
            assertEquals(FillResult.REFUSED_FENCE_MOVED, redis.fill(k, "0", n0, "stale"));
        }

        @Test
        void aKnownVersionBelowTheFenceIsRefusedAndEqualIsAccepted() {
            String k = key("f5");
            redis.invalidate(k, "8", FENCE_TTL, 1);
            assertEquals(FillResult.REFUSED_FENCE_VERSION, redis.fill(k, "7", null, "v7"));
            assertEquals(FillResult.ACCEPTED, redis.fill(k, "8", null, "v8"));
        }

        @Test
        void aNewerEntryIsNeverOverwritten() {
            String k = key("f6");
            versioned(k, "9", "nine");
            assertEquals(FillResult.REFUSED_NEWER_ENTRY, redis.fill(k, "8", null, "eight"));
            assertEquals(FillResult.REFUSED_NEWER_ENTRY, redis.fill(k, "0", null, "unknown"));
            assertEquals(FillResult.ACCEPTED, redis.fill(k, "10", null, "ten"));
        }

        @Test
        void revalidationReplacesAnUnversionedEntryOnlyWhileTheCounterStands() {
            String k = key("f7");
            redis.invalidate(k, "1", FENCE_TTL, 10);
            String n0 = redis.counter(k);
            redis.fill(k, "0", n0, "first");
            assertEquals(FillResult.REFUSED_NEWER_ENTRY, redis.fill(k, "0", n0, "second"), "a plain fill does not replace");
            assertEquals(FillResult.ACCEPTED, redis.fill(k, "0", n0, "refreshed", 0, "123", true, false));
            assertEquals("refreshed", redis.entry(k).get("d"));
            assertEquals("123", redis.entry(k).get("s"));
            redis.invalidate(k, "2", FENCE_TTL, 10);
            redis.fill(k, "0", redis.counter(k), "after the change");
            assertEquals(FillResult.REFUSED_FENCE_MOVED, redis.fill(k, "0", n0, "stale refresh", 0, "", true, false));
        }

        @Test
        void aFillWhoseFenceWentAwayDuringTheLoadIsRefusedWhateverItsVersion() {
            String k = key("f:expired");
            redis.invalidate(k, "5", FENCE_TTL, 1);
            String n0 = redis.counter(k);
            redis.keys.del(RedisLayout.fenceKey(k)); // expired during a long load, or evicted
            assertEquals(FillResult.REFUSED_FENCE_MOVED, redis.fill(k, "9", n0, "loaded at 9"));
            assertEquals(FillResult.REFUSED_FENCE_MOVED, redis.fill(k, "0", n0, "unversioned"));
            assertFalse(redis.keys.exists(k) == 1);
        }

        @Test
        void aKnownVersionCannotFillPastAForcedInvalidationThatLandedDuringTheLoad() {
            String k = key("f:derived");
            redis.invalidateWhatever(k, "0", FENCE_TTL, 1);
            String n0 = redis.counter(k);
            redis.invalidateWhatever(k, "0", FENCE_TTL, 1); // another order of the customer changed meanwhile
            assertEquals(FillResult.REFUSED_FENCE_MOVED, redis.fill(k, BIG, n0, "list loaded before the change"));
            assertEquals(FillResult.ACCEPTED, redis.fill(k, BIG, redis.counter(k), "list loaded after"));
        }

        @Test
        void negativeEntriesAreMarked() {
            String k = key("f8");
            assertEquals(FillResult.ACCEPTED, redis.fill(k, "0", null, "", 5_000, "", false, true));
            assertEquals("1", redis.entry(k).get(RedisLayout.ENTRY_NOT_FOUND));
            assertEquals(InvalidateResult.DELETED, redis.invalidate(k, "1", FENCE_TTL, 1), "an INSERT's invalidation removes it");
        }

        @Test
        void legacyValuesAreReplacedByAFill() {
            String k = key("f9");
            redis.strings.set(k, "legacy");
            assertEquals(FillResult.ACCEPTED, redis.fill(k, "0", null, "versioned"));
            assertFalse(redis.entry(k).isEmpty());
        }
    }

    @Nested
    class InvalidateBatch {
        /** The same entries against two copies of the same keys: one call each alone, one invalidate-batch call. */
        @Test
        void doesExactlyWhatInvalidateDoesAloneAndReportsFailedEntriesWithoutStoppingTheOthers() {
            List<ScriptRunner.Entry> alone = entries("alone:");
            List<ScriptRunner.Entry> batched = entries("batched:");
            List<Long> expected = new ArrayList<>();
            for (ScriptRunner.Entry e : alone) {
                try {
                    expected.add(redis.callAlone(e));
                } catch (RedisException failed) {
                    expected.add(-1L);
                }
            }
            assertEquals(expected, redis.invalidateBatch(batched));
            assertTrue(expected.contains(-1L) && expected.contains(1L) && expected.contains(2L) && expected.contains(0L),
                    "the entries cover every outcome: " + expected);
            for (int i = 0; i < alone.size(); i++) {
                String a = alone.get(i).key();
                String b = batched.get(i).key();
                assertEquals(redis.keys.type(a), redis.keys.type(b), "type of " + b);
                if ("hash".equals(redis.keys.type(a))) {
                    assertEquals(redis.entry(a), redis.entry(b), "entry " + b);
                }
                if ("hash".equals(redis.keys.type(RedisLayout.fenceKey(a)))) {
                    assertEquals(withoutTime(redis.fence(a)), withoutTime(redis.fence(b)), "fence of " + b);
                }
            }
        }

        /** Keys in every state the scripts distinguish, and one entry of each kind of failure. */
        private List<ScriptRunner.Entry> entries(String prefix) {
            String ttl = Long.toString(FENCE_TTL);
            versioned(key(prefix + "older"), "99", "old");
            versioned(key(prefix + "newer"), "101", "new");
            redis.strings.set(key(prefix + "legacy"), "plain SET");
            versioned(key(prefix + "forced"), "500", "a reader's");
            redis.strings.set(RedisLayout.fenceKey(key(prefix + "foreign-fence")), "not a hash");
            return List.of(
                    new ScriptRunner.Entry(key(prefix + "older"), "100", ttl, "7", "0"),
                    new ScriptRunner.Entry(key(prefix + "newer"), "100", ttl, "7", "0"),
                    new ScriptRunner.Entry(key(prefix + "foreign-fence"), "100", ttl, "7", "0"),
                    new ScriptRunner.Entry(key(prefix + "legacy"), "1", ttl, "7", "0"),
                    new ScriptRunner.Entry(key(prefix + "absent"), "3", ttl, "7", "0"),
                    new ScriptRunner.Entry(key(prefix + "bad-version"), "-3", ttl, "7", "0"),
                    new ScriptRunner.Entry(key(prefix + "forced"), "0", ttl, "7", "1"),
                    new ScriptRunner.Entry(key(prefix + "older"), "100", ttl, "7", "0"));
        }
    }

    @Test
    void keysAndFencesShareASlotInARealCluster(LetheStack stack) {
        try (ScriptRunner cluster = ScriptRunner.cluster(stack.redisClusterUri())) {
            for (String k : new String[] {key("plain:1"), key("customer:{7}:orders"), key("odd}key"), key("{}x}")}) {
                assertEquals(cluster.keyslot(k), RedisLayout.slot(k), "slot of " + k);
                assertEquals(cluster.keyslot(k), cluster.keyslot(RedisLayout.fenceKey(k)), "fence slot of " + k);
                cluster.hashes.hset(k, Map.of("v", "1", "d", "x"));
                // a CROSSSLOT error would be thrown here if the fence lived in another slot
                assertEquals(InvalidateResult.DELETED, cluster.invalidate(k, "2", FENCE_TTL, 1), k);
                assertEquals(FillResult.ACCEPTED, cluster.fill(k, "3", cluster.counter(k), "y"), k);
                assertEquals(UpsertResult.UPSERTED, cluster.upsert(k, "4", "z", 0, FENCE_TTL, 1), k);
            }
        }
    }
}
