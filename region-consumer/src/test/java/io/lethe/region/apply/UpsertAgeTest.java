package io.lethe.region.apply;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lethe.config.ConfigLoader;
import io.lethe.config.LetheConfig;
import io.lethe.schemas.Action;
import io.lethe.schemas.InvalidationEvent;
import io.lethe.schemas.Op;
import io.lethe.schemas.Scope;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import org.junit.jupiter.api.Test;

/**
 * Issue 34, replay: an upsert is written only while its commit is younger than its namespace's
 * fence-ttl minus the margin (heartbeat interval + command timeout + clock allowance), the time
 * for which the fence of any later change of its row certainly lives; an older one is a delete.
 */
class UpsertAgeTest {
    private static final Instant NOW = Instant.parse("2026-12-07T08:00:00Z");
    private static final long NOW_MICROS = NOW.getEpochSecond() * 1_000_000L;

    private static final LetheConfig CONFIG = ConfigLoader.parse("unit.yml", """
            source: { jdbc-url: "jdbc:postgresql://127.0.0.1:5432/unused", user: lethe, heartbeat-interval: 2s }
            kafka: { bootstrap-servers: "127.0.0.1:9" }
            apply: { command-timeout: 3s }
            regions:
              us-east: { redis: "redis://127.0.0.1:6379" }
            namespaces:
              price: { table: public.prices, keys: ["price:{id}"], mode: upsert, payload-columns: [price], fence-ttl: 30s }
              stock: { table: public.stock, keys: ["stock:{id}"], mode: upsert, payload-columns: [n] }
            """, name -> null);

    private static InvalidationEvent upsert(String namespace, long commitTs) {
        return new InvalidationEvent(InvalidationEvent.SCHEMA_ID, "c1", namespace, Scope.ROW, namespace + ":1", null, Action.UPSERT,
                "{}", "100", 100, 7L, commitTs, commitTs, commitTs, null, Op.UPDATE, "c1", null, 101L);
    }

    @Test
    void anUpsertOlderThanFenceTtlMinusTheMarginIsTooOldAndAYoungerOneIsNot() {
        UpsertAge age = new UpsertAge(CONFIG, Clock.fixed(NOW, ZoneOffset.UTC));
        long maxAge = 30_000_000L - 6_000_000L; // fence-ttl 30s - (2s heartbeat + 3s command timeout + 1s for the clocks)
        assertFalse(age.tooOld(upsert("price", NOW_MICROS - maxAge)), "at the limit: the later change's fence still lives");
        assertTrue(age.tooOld(upsert("price", NOW_MICROS - maxAge - 1)), "past it: that fence may be gone");
        assertFalse(age.tooOld(upsert("price", NOW_MICROS + 500_000)), "a commit clock slightly ahead: young");
        assertFalse(age.tooOld(upsert("stock", NOW_MICROS - 53_000_000L)), "the default fence-ttl 60s: 54s at most");
        assertTrue(age.tooOld(upsert("stock", NOW_MICROS - 54_000_001L)));
        assertFalse(age.tooOld(upsert("price", 0).asDelete()), "a delete is applied as it is, however old");
        assertTrue(age.tooOld(upsert("price", 0)), "an unknown commit time (0) is as old as can be: a delete");
        assertTrue(age.tooOld(upsert("gone", NOW_MICROS)), "a namespace no longer configured writes nothing");
    }

    @Test
    void theSameUpsertAgesAsTheClockMovesSoARetriedBatchIsJudgedAgain() {
        long committed = NOW_MICROS - 1_000_000L;
        assertFalse(new UpsertAge(CONFIG, Clock.fixed(NOW, ZoneOffset.UTC)).tooOld(upsert("price", committed)));
        assertTrue(new UpsertAge(CONFIG, Clock.fixed(NOW.plusSeconds(24), ZoneOffset.UTC)).tooOld(upsert("price", committed)),
                "the same record applied 24s later (Redis was down meanwhile): 25s old, past 24s");
    }
}
