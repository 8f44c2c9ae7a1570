package io.lethe.dev;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.lethe.cli.lag.LagReport;
import io.lethe.config.LetheConfig;
import io.lethe.embedded.EmbeddedStack;
import io.lethe.embedded.junit.Await;
import io.lethe.embedded.junit.LetheStackExtension;
import io.lethe.embedded.junit.TestScope;
import io.lethe.pipeline.Pipeline;
import io.lethe.pipeline.PipelineFixture;
import io.lethe.pipeline.Roles;
import io.lethe.region.apply.RegionMeterNames;
import io.lethe.schemas.SigningKeys;
import io.lethe.schemas.redis.AppliedLsn;
import io.lethe.schemas.redis.RedisLayout;
import io.lethe.stage.health.SigningKeyIds;
import io.lettuce.core.api.sync.RedisCommands;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A rotation of {@code streams.watermark-key} in the middle of its second rollout
 * (docs/security.md, "Rotating the watermark key"): the stages run on two files, {@code
 * watermark-key: OLD, previous-watermark-key: NEW} (step 1) and {@code watermark-key: NEW,
 * previous-watermark-key: OLD} (step 2). Whichever runs where, the region's watermarks move (its
 * first feed and its applied LSN) and a real change's upsert is applied, never refused as
 * {@code untrusted-record}. Mid-rotation the stages' key ids ({@code lethe.signing.key}) and {@code
 * lethe lag} name which key each signer uses.
 */
@ExtendWith(LetheStackExtension.class)
class WatermarkKeyRotationIT {
    private static final String REGION = "us-east";
    private static final String OLD = "the-old-watermark-key-of-32-chars";
    private static final String NEW = "the-new-watermark-key-of-32-chars";

    @Test
    void captureAndStreamsOnOneStepAndTheRegionOnTheOtherLoseNothing(EmbeddedStack stack, TestScope scope) throws Exception {
        try (PipelineFixture f = new PipelineFixture(stack, scope)) {
            f.sql("CREATE TABLE prices (id int PRIMARY KEY, price int)", "INSERT INTO prices VALUES (1, 10)");
            String p = scope.keyPrefix();
            String namespaces = """
                    price:
                      table: public.prices
                      keys: ["%sprice:{id}"]
                      mode: upsert
                      payload-columns: [price]
                    """.formatted(p);
            LetheConfig step1 = f.config(f.yaml(List.of(REGION), namespaces, """
                    streams:
                      watermark-key: %s
                      previous-watermark-key: %s
                    """.formatted(OLD, NEW)));
            LetheConfig step2 = f.config(f.yaml(List.of(REGION), namespaces, """
                    streams:
                      watermark-key: %s
                      previous-watermark-key: %s
                    """.formatted(NEW, OLD)));
            String key = p + "price:1";
            String group = scope.id() + "-region-" + REGION;
            RedisCommands<String, String> redis = f.redis(REGION);

            // capture and streams still sign with OLD; the region already signs (nothing) and verifies with NEW first
            try (Pipeline upstream = Pipeline.start(step1, new Roles(true, true, List.of()), f.registry, Clock.systemUTC());
                    Pipeline region = Pipeline.start(step2, new Roles(false, false, List.of(REGION)), f.registry, Clock.systemUTC())) {
                PipelineFixture.awaitFirstFeeds(region); // OLD-signed watermarks prove streams writes the region's topic
                f.sql("UPDATE prices SET price = 11 WHERE id = 1");
                Await.until("the upsert signed with the previous key applied", Duration.ofSeconds(90),
                        () -> "{\"price\":11}".equals(redis.hget(key, RedisLayout.ENTRY_DATA)));
                awaitAppliedPast(f, redis, group, "OLD-signed watermarks raise the region's applied LSN");
                // what an operator sees mid-rotation: each stage's key ids, and lethe lag naming the key of each signer
                assertEquals(Map.of("capture", Map.of("signs", List.of(id(OLD))),
                        "streams", Map.of("signs", List.of(id(OLD)), "accepts", sorted(OLD, NEW)),
                        "region:" + REGION, Map.of("accepts", sorted(OLD, NEW))), SigningKeyIds.byStage(f.registry));
                Await.until("lethe lag names OLD as the key capture and streams sign with", Duration.ofSeconds(30),
                        () -> signers(step2).equals(Map.of("capture on " + step2.topics().changes(), Set.of(id(OLD)),
                                "streams on " + step2.topics().invalidations(REGION), Set.of(id(OLD)))));
            }
            // the other way round: streams and capture restarted on NEW first, the region still on step 1's file
            try (Pipeline upstream = Pipeline.start(step2, new Roles(true, true, List.of()), f.registry, Clock.systemUTC());
                    Pipeline region = Pipeline.start(step1, new Roles(false, false, List.of(REGION)), f.registry, Clock.systemUTC())) {
                // the restarted region's partitions need a watermark (its replay floor) before an upsert counts as one
                awaitAppliedPast(f, redis, group, "NEW-signed watermarks raise the step-1 region's applied LSN");
                f.sql("UPDATE prices SET price = 12 WHERE id = 1");
                Await.until("the upsert signed with the new key applied by a region on step 1's file", Duration.ofSeconds(90),
                        () -> "{\"price\":12}".equals(redis.hget(key, RedisLayout.ENTRY_DATA)));
                Await.until("lethe lag names NEW as the key every signer's newest watermarks carry", Duration.ofSeconds(30),
                        () -> {
                            var signers = signers(step1);
                            return !signers.isEmpty() && signers.values().stream().allMatch(Set.of(id(NEW))::equals);
                        });
            }
            assertEquals(0.0, dlq(f, "untrusted-record"), "no upsert refused");
            assertEquals(0.0, dlq(f, "untrusted-watermark"), "no watermark refused");
            assertEquals(0.0, dlq(f, "version-out-of-range"), "the ceiling kept moving");
        }
    }

    private static void awaitAppliedPast(PipelineFixture f, RedisCommands<String, String> redis, String group, String what)
            throws Exception {
        long now = currentLsn(f);
        Await.until(what, Duration.ofSeconds(90), () -> {
            OptionalLong applied = AppliedLsn.of(redis.hgetall(AppliedLsn.key(group)));
            return applied.isPresent() && applied.getAsLong() >= now;
        });
    }

    private static String id(String key) {
        return SigningKeys.keyId(key.getBytes(StandardCharsets.UTF_8));
    }

    private static List<String> sorted(String... keys) {
        return java.util.Arrays.stream(keys).map(WatermarkKeyRotationIT::id).sorted().toList();
    }

    /** What lethe lag reports: the key ids of each signer's newest watermarks. */
    private static Map<String, Set<String>> signers(LetheConfig config) {
        return new LagReport(config, Clock.systemUTC()).readSigning().signers();
    }

    private static double dlq(PipelineFixture f, String reason) {
        return f.registry.counter(RegionMeterNames.DLQ, "reason", reason, "stage", "region:" + REGION).count();
    }

    private static long currentLsn(PipelineFixture f) throws Exception {
        io.lethe.embedded.PostgresEndpoint pg = f.stack.postgres();
        try (java.sql.Connection c = java.sql.DriverManager.getConnection(pg.jdbcUrl(f.scope.database()), pg.user(), pg.password());
                java.sql.ResultSet rs = c.createStatement()
                        .executeQuery("SELECT pg_wal_lsn_diff(pg_current_wal_insert_lsn(), '0/0')::bigint")) {
            rs.next();
            return rs.getLong(1);
        }
    }
}
