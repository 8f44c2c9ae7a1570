package io.lethe.region;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lethe.config.LeastPrivilege;
import io.lethe.config.LetheConfig;
import io.lethe.embedded.LetheStack;
import io.lethe.embedded.junit.LetheStackExtension;
import io.lethe.embedded.junit.TestScope;
import io.lethe.schemas.Action;
import io.lethe.schemas.Headers;
import io.lethe.schemas.InvalidationEvent;
import io.lethe.schemas.Op;
import io.lethe.schemas.Scope;
import io.lethe.schemas.Versions;
import io.lethe.schemas.redis.RedisLayout;
import io.lethe.stage.health.Misconfiguration;
import io.lettuce.core.AclSetuserArgs;
import io.lettuce.core.api.sync.RedisCommands;
import io.lettuce.core.codec.StringCodec;
import io.lettuce.core.output.StatusOutput;
import io.lettuce.core.protocol.CommandArgs;
import io.lettuce.core.protocol.CommandType;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The region's error classes on real servers: poison keys (a foreign key of another type at a
 * fence, an upsert into a Redis full under noeviction) are widened and dead-lettered while the
 * rest of the batch is applied and committed; a configuration error (an ACL denying the scripts)
 * turns health DOWN and raises {@link Misconfiguration#METRIC}, and the region applies by itself
 * once the ACL is fixed. (Retriable errors: {@link RedisOutageIT}.)
 */
@ExtendWith(LetheStackExtension.class)
class RegionErrorClassesIT {

    @Test
    void poisonKeysAreWidenedAndDeadLetteredAndTheRestOfTheBatchIsApplied(LetheStack stack, TestScope scope) throws Exception {
        try (RegionFixture f = new RegionFixture(stack, scope)) {
            String p = scope.keyPrefix();
            LetheConfig config = f.config(f.yaml(Map.of("us-east", "{ redis: \"" + stack.redisUri("us-east") + "\" }"),
                    "product: { table: public.products, keys: [\"" + p + "product:{id}\"] }\n"
                            + "hot: { table: public.hot, keys: [\"" + p + "hot:{id}\"], mode: upsert, payload-columns: [name] }",
                    ""));
            RedisCommands<String, String> redis = f.redis("us-east");
            List<String> normal = RegionFixture.keys(p + "product:", 20);
            normal.forEach(k -> redis.hset(k, Map.of("v", "1", "d", "old")));
            String foreign = p + "product:foreign";
            redis.hset(foreign, Map.of("v", "1", "d", "old"));
            redis.set(RedisLayout.fenceKey(foreign), "written by someone else");
            String hot = p + "hot:1";
            redis.hset(hot, Map.of("v", "1", "d", "old"));
            String hot2 = p + "hot:2";
            redis.hset(hot2, Map.of("v", "1", "d", "old"));
            String topic = config.topics().invalidations("us-east");
            // Redis 6 gets and sets one parameter at a time
            String maxmemory = redis.configGet("maxmemory").get("maxmemory");
            String policy = redis.configGet("maxmemory-policy").get("maxmemory-policy");
            try (RegionConsumerService region = new RegionConsumerService(config, "us-east", new SimpleMeterRegistry(),
                    Clock.systemUTC())) {
                region.start();
                // heartbeats first: an upsert read before its partition has a replay floor would be a delete, never reaching Redis
                f.sendHeartbeats(topic, 1);
                RegionFixture.awaitHeartbeatsApplied(redis, RegionConsumerService.groupId(config, "us-east"), 1);
                // full, and nothing may be evicted: upserts are refused, invalidations must still apply
                redis.configSet("maxmemory-policy", "noeviction");
                redis.configSet("maxmemory", "1");
                long sent = System.nanoTime();
                f.sendUpsert(topic, config, upsert("hot", hot, "5"));
                f.send(topic, RegionFixture.key("product", foreign, "5"));
                normal.forEach(k -> f.send(topic, RegionFixture.key("product", k, "5")));
                f.send(topic, RegionFixture.pattern("hot", Scope.NAMESPACE, p + "hot:*", "6", Op.TRUNCATE));
                f.flush();

                List<Map<String, String>> dead = f.deadLetters(config.topics().dlq(), 2, Duration.ofSeconds(10));
                assertTrue(System.nanoTime() - sent < Duration.ofSeconds(10).toNanos(), "dead-lettered within 10 s");
                assertEquals(Set.of("redis-oom", "redis-wrongtype"), dead.stream().map(h -> h.get(Headers.DLQ_REASON))
                        .collect(Collectors.toSet()), dead.toString());
                dead.forEach(h -> assertEquals("region:us-east", h.get(Headers.DLQ_STAGE)));
                RegionFixture.await("the batch committed", Duration.ofSeconds(30),
                        () -> uncheck(() -> f.committed(RegionConsumerService.groupId(config, "us-east"), topic)) == normal.size() + 3 + 9);

                assertTrue(normal.stream().allMatch(k -> redis.exists(k) == 0), "every normal key applied in a full Redis");
                assertEquals(0, redis.exists(hot), "the upsert Redis could not store became a delete");
                assertTrue(Long.parseLong(redis.hget(RedisLayout.fenceKey(hot), "v")) >= 5, "fenced at least at its version");
                assertEquals(0, redis.exists(hot2), "a namespace-wide invalidation applies in a full Redis too");
                assertEquals(0, redis.exists(foreign), "the entry behind the foreign fence key is gone");
                assertEquals(Versions.MAX, redis.hget(RedisLayout.fenceKey(foreign), "v"), "and the key is fenced at the highest version");
                assertTrue(region.isRunning());
            } finally {
                redis.configSet("maxmemory", maxmemory);
                redis.configSet("maxmemory-policy", policy);
            }
        }
    }

    /**
     * Issue 34: under a least-privilege Redis user whose key patterns leave out a key the region
     * receives, that key is poison (dead-lettered as redis-key-denied, alone), not a configuration
     * error that stops the region: the records after it are applied and committed.
     */
    @Test
    void aKeyOutsideTheAclUsersKeyPatternsIsDeadLetteredAloneAndTheRegionGoesOn(LetheStack stack, TestScope scope) throws Exception {
        try (RegionFixture f = new RegionFixture(stack, scope)) {
            RedisCommands<String, String> admin = f.redis("us-east");
            String user = scope.id() + "-narrow";
            String password = "pw-" + UUID.randomUUID();
            String p = scope.keyPrefix();
            try {
                LetheConfig config = f.config(f.yaml(Map.of("us-east", "{ redis: \"" + stack.redisUri("us-east") + "\", redis-user: " + user
                        + ", redis-password: \"${LETHE_IT_REDIS_PASSWORD}\" }"),
                        "product: { table: public.products, keys: [\"" + p + "product:{id}\", \"" + p + "price:{id}\"] }", ""),
                        name -> name.equals("LETHE_IT_REDIS_PASSWORD") ? password : null);
                // the runbook's user for this region, with the price template's glob left out of its keys
                List<String> args = new ArrayList<>(LeastPrivilege.redisRegionUserArgs(config,
                        config.region("us-east"), user, password));
                assertTrue(args.remove("~" + p + "price:*"), args.toString());
                assertEquals("OK", admin.dispatch(CommandType.ACL,
                        new StatusOutput<>(StringCodec.UTF8),
                        new CommandArgs<>(StringCodec.UTF8).add("SETUSER").addValues(args)));
                String stray = p + "price:1";
                String before = p + "product:1";
                String after = p + "product:2";
                for (String k : List.of(stray, before, after)) {
                    admin.hset(k, Map.of("v", "1", "d", "old"));
                }
                String topic = config.topics().invalidations("us-east");
                SimpleMeterRegistry registry = new SimpleMeterRegistry();
                try (RegionConsumerService region = new RegionConsumerService(config, "us-east", registry, Clock.systemUTC())) {
                    region.start();
                    f.send(topic, 0, System.currentTimeMillis(), RegionFixture.key("product", before, "5"));
                    f.send(topic, 0, System.currentTimeMillis(), RegionFixture.key("product", stray, "5"));
                    f.send(topic, 0, System.currentTimeMillis(), RegionFixture.key("product", after, "5"));
                    f.flush();
                    List<Map<String, String>> dead = f.deadLetters(config.topics().dlq(), 1, Duration.ofSeconds(30));
                    assertEquals(1, dead.size(), "one dead letter, found " + dead + "; the region's configuration error: "
                            + region.misconfigured());
                    assertEquals("redis-key-denied", dead.get(0).get(Headers.DLQ_REASON), dead.toString());
                    assertTrue(dead.get(0).get(Headers.DLQ_ERROR).contains(stray), dead.toString());
                    RegionFixture.await("the records around the stray key committed", Duration.ofSeconds(30),
                            () -> uncheck(() -> f.committed(RegionConsumerService.groupId(config, "us-east"), topic)) == 3);
                    assertEquals(0, admin.exists(before), "applied before the stray key");
                    assertEquals(0, admin.exists(after), "applied after the stray key");
                    assertEquals(1, admin.exists(stray), "out of the user's reach: left as it was");
                    assertTrue(region.misconfigured().isEmpty(), "not a configuration error");
                    assertTrue(region.isRunning() && !region.isRetrying(), "the region goes on");
                }
            } finally {
                admin.aclDeluser(user);
            }
        }
    }

    @Test
    void anAclDenialTurnsHealthDownUntilItIsFixed(LetheStack stack, TestScope scope) throws Exception {
        try (RegionFixture f = new RegionFixture(stack, scope)) {
            RedisCommands<String, String> admin = f.redis("us-east");
            String user = scope.id() + "-denied";
            String password = "pw-" + UUID.randomUUID();
            String p = scope.keyPrefix();
            // may connect and load scripts, may not run them
            admin.aclSetuser(user, AclSetuserArgs.Builder.on().addPassword(password).allKeys().allChannels().allCommands()
                    .removeCommand(CommandType.EVALSHA));
            try {
                LetheConfig config = f.config(f.yaml(Map.of("us-east", "{ redis: \"" + stack.redisUri("us-east") + "\", redis-user: " + user
                        + ", redis-password: \"${LETHE_IT_REDIS_PASSWORD}\" }"),
                        "product: { table: public.products, keys: [\"" + p + "product:{id}\"] }", ""),
                        name -> name.equals("LETHE_IT_REDIS_PASSWORD") ? password : null);
                String key = p + "product:1";
                admin.hset(key, Map.of("v", "1", "d", "old"));
                SimpleMeterRegistry registry = new SimpleMeterRegistry();
                try (RegionConsumerService region = new RegionConsumerService(config, "us-east", registry, Clock.systemUTC())) {
                    region.start();
                    f.send(config.topics().invalidations("us-east"), RegionFixture.key("product", key, "5"));
                    f.flush();
                    RegionFixture.await("the configuration error reported", Duration.ofSeconds(30),
                            () -> region.misconfigured().isPresent());
                    assertEquals("authorization", region.misconfigured().get().reason());
                    assertTrue(region.misconfigured().get().fix().contains("docs/runbook.md"), region.misconfigured().get().fix());
                    assertTrue(region.isRetrying(), "health is DOWN");
                    assertEquals(1.0, registry.get(Misconfiguration.METRIC).tag("stage", "region:us-east").gauge().value());
                    assertEquals(1, admin.exists(key), "nothing applied, nothing skipped");

                    admin.aclSetuser(user, AclSetuserArgs.Builder.allCommands());
                    RegionFixture.await("applied once the ACL is fixed", Duration.ofSeconds(30), () -> admin.exists(key) == 0);
                    RegionFixture.await("health back", Duration.ofSeconds(10),
                            () -> region.misconfigured().isEmpty() && !region.isRetrying());
                    assertEquals(0.0, registry.get(Misconfiguration.METRIC).tag("stage", "region:us-east").gauge().value());
                }
            } finally {
                admin.aclDeluser(user);
            }
        }
    }

    private static InvalidationEvent upsert(String namespace, String key, String version) {
        long now = RegionFixture.now();
        return new InvalidationEvent(InvalidationEvent.SCHEMA_ID, UUID.randomUUID().toString(), namespace, Scope.ROW, key, null,
                Action.UPSERT, "{\"name\":\"" + "x".repeat(4096) + "\"}", version, Long.parseLong(version), 1L, now, now, now, null,
                Op.UPDATE, null, null);
    }

    private interface ThrowingLong {
        long get() throws Exception;
    }

    private static long uncheck(ThrowingLong s) {
        try {
            return s.get();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
