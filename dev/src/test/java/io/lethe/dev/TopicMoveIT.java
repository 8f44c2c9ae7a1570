package io.lethe.dev;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lethe.config.KafkaRole;
import io.lethe.config.LetheConfig;
import io.lethe.config.invalidate.ManualInvalidations;
import io.lethe.embedded.LetheStack;
import io.lethe.embedded.junit.Await;
import io.lethe.embedded.junit.LetheStackExtension;
import io.lethe.embedded.junit.TestScope;
import io.lethe.pipeline.Pipeline;
import io.lethe.pipeline.PipelineFixture;
import io.lethe.pipeline.Roles;
import io.lethe.region.apply.RegionMeterNames;
import io.lethe.region.apply.TopicMove;
import io.lethe.schemas.redis.RedisLayout;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.api.sync.RedisCommands;
import io.lettuce.core.pubsub.RedisPubSubAdapter;
import io.lettuce.core.pubsub.StatefulRedisPubSubConnection;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A configuration change that moves a running region to another topic (issue 31: a region's topic
 * follows from the subscriptions, so adding a namespace moves a region subscribed to all of them
 * off the public topic). An invalidation left unapplied on the old topic must not leave its stale
 * entry behind when the region starts on the new one.
 */
@ExtendWith(LetheStackExtension.class)
class TopicMoveIT {
    private static final String REGION = "us-east";

    @Test
    void aRegionMovedToAnotherTopicLeavesNoStaleEntryBehind(LetheStack stack, TestScope scope) throws Exception {
        try (PipelineFixture f = new PipelineFixture(stack, scope)) {
            f.sql("CREATE TABLE products (id int PRIMARY KEY, price int)", "INSERT INTO products VALUES (1, 10), (2, 20)",
                    "CREATE TABLE others (id int PRIMARY KEY)");
            String p = scope.keyPrefix();
            String products = """
                    product:
                      table: public.products
                      keys: ["%sproduct:{id}"]
                    """.formatted(p);
            // before: us-east caches every namespace, so it reads the public topic
            LetheConfig before = f.config(f.yaml(List.of(REGION), products, ""));
            String publicTopic = before.topics().invalidations(REGION);
            assertEquals(before.topics().invalidations(), publicTopic);
            RedisCommands<String, String> redis = f.redis(REGION);
            try (Pipeline all = Pipeline.start(before, Roles.all(before), f.registry, Clock.systemUTC())) {
                f.sql("UPDATE products SET price = 11 WHERE id = 1");
                Await.until("the pipeline applies", Duration.ofSeconds(90),
                        () -> redis.exists(RedisLayout.fenceKey(p + "product:1")) == 1);
            }
            String stale = p + "product:2";
            redis.hset(stale, Map.of(RedisLayout.ENTRY_VERSION, "1", RedisLayout.ENTRY_DATA, "{\"price\":20}"));
            // the region is down while row 2 changes: its invalidation waits, unapplied, on the public topic
            try (Pipeline upstream = Pipeline.start(before, new Roles(true, true, List.of()), f.registry, Clock.systemUTC());
                    KafkaConsumer<String, String> watch = watcher(stack, publicTopic)) {
                f.sql("UPDATE products SET price = 21 WHERE id = 2");
                Await.until("row 2's invalidation on " + publicTopic, Duration.ofSeconds(90), () -> {
                    for (ConsumerRecord<String, String> r : watch.poll(Duration.ofMillis(200))) {
                        if (stale.equals(r.key())) {
                            return true;
                        }
                    }
                    return false;
                });
            }
            // after: a second namespace, which us-east does not cache: it moves to a topic of its own
            LetheConfig after = f.config(f.yaml(Map.of(REGION, "{ redis: " + stack.redisUri(REGION) + ", namespaces: [product] }"),
                    products + """
                            other:
                              table: public.others
                              keys: ["%sother:{id}"]
                            """.formatted(p), ""));
            String ownTopic = after.topics().invalidations(REGION);
            assertNotEquals(publicTopic, ownTopic, "the change moves us-east to another topic");
            try (Pipeline moved = Pipeline.start(after, Roles.all(after), f.registry, Clock.systemUTC())) {
                Await.until("the entry whose invalidation stayed on " + publicTopic + " is gone", Duration.ofSeconds(120),
                        () -> redis.exists(stale) == 0);
                // the move is counted once the wholesale invalidation is done, which may be just after the entry went
                Await.until("counted as a move", Duration.ofSeconds(30),
                        () -> f.registry.counter(RegionMeterNames.TOPIC_MOVES, "region", REGION).count() == 1.0);
                assertEquals(ownTopic, redis.hget(TopicMove.markerKey(scope.id() + "-region-" + REGION), "topic"),
                        "Redis records the topic it is fed from now");
                redis.hset(p + "product:1", Map.of(RedisLayout.ENTRY_VERSION, "1", RedisLayout.ENTRY_DATA, "{\"price\":11}"));
                f.sql("UPDATE products SET price = 12 WHERE id = 1");
                Await.until("changes flow on " + ownTopic, Duration.ofSeconds(90), () -> redis.exists(p + "product:1") == 0);
            }
        }
    }

    /**
     * An application (or {@code lethe invalidate}) still on the file from before the move purges a key
     * us-east caches: its file routes the purge to the public topic, which us-east no longer reads. The
     * purge must reach us-east all the same: publishers request it, and streams routes it with the
     * configuration the regions run.
     */
    @Test
    void aPurgeFromAPublisherStillOnTheOldFileReachesARegionMovedToAnotherTopic(LetheStack stack, TestScope scope) throws Exception {
        try (PipelineFixture f = new PipelineFixture(stack, scope)) {
            f.sql("CREATE TABLE products (id int PRIMARY KEY, price int)", "INSERT INTO products VALUES (1, 10)",
                    "CREATE TABLE others (id int PRIMARY KEY)");
            String p = scope.keyPrefix();
            String products = """
                    product:
                      table: public.products
                      keys: ["%sproduct:{id}"]
                    """.formatted(p);
            LetheConfig before = f.config(f.yaml(List.of(REGION), products, ""));
            LetheConfig after = f.config(f.yaml(Map.of(REGION, "{ redis: " + stack.redisUri(REGION) + ", namespaces: [product] }"),
                    products + """
                            other:
                              table: public.others
                              keys: ["%sother:{id}"]
                            """.formatted(p), ""));
            assertEquals(before.topics().invalidations(), before.topics().invalidations(REGION), "before: the public topic");
            assertNotEquals(before.topics().invalidations(REGION), after.topics().invalidations(REGION), "after: a topic of its own");
            String group = scope.id() + "-region-" + REGION;
            RedisCommands<String, String> redis = f.redis(REGION);
            String cached = p + "product:1";
            try (Pipeline moved = Pipeline.start(after, Roles.all(after), f.registry, Clock.systemUTC());
                    ManualInvalidations publisher = new ManualInvalidations(before, KafkaRole.APP)) {
                Await.until("us-east records what it is fed", Duration.ofSeconds(90),
                        () -> after.topics().invalidations(REGION).equals(redis.hget(TopicMove.markerKey(group), "topic")));
                redis.hset(cached, Map.of(RedisLayout.ENTRY_VERSION, "1", RedisLayout.ENTRY_DATA, "{\"price\":10}"));
                publisher.key("product", cached);
                Await.until("the purge published on the old file removes " + cached + " from us-east, which reads "
                        + after.topics().invalidations(REGION), Duration.ofSeconds(60), () -> redis.exists(cached) == 0);
            }
        }
    }

    @Test
    void aRegionThatStartsReceivingANamespaceOnTheSameTopicInvalidatesThatNamespace(LetheStack stack, TestScope scope) throws Exception {
        try (PipelineFixture f = new PipelineFixture(stack, scope)) {
            f.sql("CREATE TABLE products (id int PRIMARY KEY, price int)", "INSERT INTO products VALUES (1, 10), (2, 20)",
                    "CREATE TABLE others (id int PRIMARY KEY, v int)", "INSERT INTO others VALUES (1, 1)",
                    "CREATE TABLE thirds (id int PRIMARY KEY)");
            String p = scope.keyPrefix();
            String product = """
                    product:
                      table: public.products
                      keys: ["%sproduct:{id}"]
                    """.formatted(p);
            String third = """
                    third:
                      table: public.thirds
                      keys: ["%sthird:{id}"]
                    """.formatted(p);
            // other's keys overlap product's (product:{id}:other is also a product:* key): a region caching
            // product must receive other's invalidations once other is configured
            String other = """
                    other:
                      table: public.others
                      keys: ["%sproduct:{id}:other"]
                    """.formatted(p);
            String group = scope.id() + "-region-" + REGION;
            String usEast = "{ redis: " + stack.redisUri(REGION) + ", namespaces: [product] }";
            // before: other is not configured; us-east caches product only
            LetheConfig before = f.config(f.yaml(Map.of(REGION, usEast), product + third, ""));
            RedisCommands<String, String> redis = f.redis(REGION);
            String otherEntry = p + "product:1:other";
            String newer = p + "product:2";
            try (Pipeline all = Pipeline.start(before, Roles.all(before), f.registry, Clock.systemUTC())) {
                // planted once the region's first feed (a wholesale invalidation of what it receives) is done
                Await.until("us-east records what it is fed", Duration.ofSeconds(90),
                        () -> redis.exists(TopicMove.markerKey(group)) == 1);
                redis.hset(otherEntry, Map.of(RedisLayout.ENTRY_VERSION, "1", RedisLayout.ENTRY_DATA, "{\"v\":1}"));
                redis.hset(newer, Map.of(RedisLayout.ENTRY_VERSION, "999999999999999", RedisLayout.ENTRY_DATA, "{\"price\":20}"));
                f.sql("UPDATE others SET v = 2 WHERE id = 1");
                long after = f.currentLsn();
                Await.until("us-east applied past the change of others", Duration.ofSeconds(90),
                        () -> f.appliedLsn(REGION, group) >= after);
            }
            assertEquals("1", redis.hget(otherEntry, RedisLayout.ENTRY_VERSION), "not a namespace us-east received: its entry stayed");
            // after: other is configured; us-east's subscriptions, so its topic, stay the same, but it receives other now
            LetheConfig after = f.config(f.yaml(Map.of(REGION, usEast), product + other + third, ""));
            assertEquals(before.topics().invalidations(REGION), after.topics().invalidations(REGION), "the same topic");
            assertEquals(List.of("product", "other"), after.receives(after.region(REGION)));
            try (Pipeline running = Pipeline.start(after, Roles.all(after), f.registry, Clock.systemUTC())) {
                Await.until("the entry of the namespace us-east now receives is gone", Duration.ofSeconds(120),
                        () -> redis.exists(otherEntry) == 0);
                Await.until("counted as a move", Duration.ofSeconds(30),
                        () -> f.registry.counter(RegionMeterNames.TOPIC_MOVES, "region", REGION).count() == 1.0);
                assertEquals(1, redis.exists(newer), "only the namespaces whose routing changed are invalidated wholesale");
                assertEquals("other,product", redis.hget(TopicMove.markerKey(group), "receives"));
            }
        }
    }

    @Test
    void namespacesARegionNoLongerReceivesLeaveNoEntryBehindEvenOnceRemovedFromTheConfiguration(LetheStack stack, TestScope scope)
            throws Exception {
        try (PipelineFixture f = new PipelineFixture(stack, scope)) {
            f.sql("CREATE TABLE products (id int PRIMARY KEY)", "CREATE TABLE others (id int PRIMARY KEY)",
                    "CREATE TABLE thirds (id int PRIMARY KEY)");
            String p = scope.keyPrefix();
            String product = """
                    product:
                      table: public.products
                      keys: ["%sproduct:{id}"]
                    """.formatted(p);
            String other = """
                    other:
                      table: public.others
                      keys: ["%sother:{id}"]
                    """.formatted(p);
            String third = """
                    third:
                      table: public.thirds
                      keys: ["%sthird:{id}:x"]
                    """.formatted(p);
            // before: us-east caches all three namespaces (the public topic)
            LetheConfig before = f.config(f.yaml(List.of(REGION), product + other + third, ""));
            RedisCommands<String, String> redis = f.redis(REGION);
            try (Pipeline all = Pipeline.start(before, Roles.all(before), f.registry, Clock.systemUTC())) {
                Await.until("us-east records what it is fed", Duration.ofSeconds(90),
                        () -> redis.exists(TopicMove.markerKey(scope.id() + "-region-" + REGION)) == 1);
            }
            String otherEntry = p + "other:1";
            String thirdEntry = p + "third:7:x";
            redis.hset(otherEntry, Map.of(RedisLayout.ENTRY_VERSION, "1", RedisLayout.ENTRY_DATA, "{}"));
            redis.hset(thirdEntry, Map.of(RedisLayout.ENTRY_VERSION, "1", RedisLayout.ENTRY_DATA, "{}"));
            // after: third is gone from the configuration, and us-east no longer subscribes to other: no
            // invalidation of either will reach it again, so what it holds of them must go now
            LetheConfig after = f.config(f.yaml(Map.of(REGION, "{ redis: " + stack.redisUri(REGION) + ", namespaces: [product] }"),
                    product + other, ""));
            try (Pipeline moved = Pipeline.start(after, Roles.all(after), f.registry, Clock.systemUTC())) {
                Await.until("the entries of namespaces us-east no longer receives are gone", Duration.ofSeconds(120),
                        () -> redis.exists(otherEntry) == 0 && redis.exists(thirdEntry) == 0);
                // readers still on the old file, declared with those namespaces, must not fill them here again: no
                // invalidation of them reaches this Redis any more
                assertEquals(RedisLayout.NOT_RECEIVED, redis.get(RedisLayout.holdsKey("other")));
                assertEquals(RedisLayout.NOT_RECEIVED, redis.get(RedisLayout.holdsKey("third")));
                assertEquals(RedisLayout.holds(after.namespaces().get("product").readerHolds()),
                        redis.get(RedisLayout.holdsKey("product")));
            }
        }
    }

    /**
     * A namespace whose versions come from another source now ({@code lsn} to {@code column:ver}),
     * same topic, same keys: an entry a reader filled at an LSN (a number near 2^40 and above) is
     * never reached by an invalidation at the column's version (1, 2, ...), so it would outlive
     * every change of its row. The same holds for a namespace moved to another table. The region
     * invalidates such a namespace wholesale at its first start under the new configuration, and records
     * what its entries hold now ({@code lethe:holds:product}) before that invalidation, for readers.
     */
    @Test
    void aNamespaceWhoseVersionsComeFromAnotherSourceNowLeavesNoEntryItsInvalidationsCannotReach(LetheStack stack, TestScope scope)
            throws Exception {
        try (PipelineFixture f = new PipelineFixture(stack, scope)) {
            f.sql("CREATE TABLE products (id int PRIMARY KEY, price int, ver bigint NOT NULL)",
                    "INSERT INTO products VALUES (1, 10, 1), (2, 20, 1)");
            String p = scope.keyPrefix();
            String group = scope.id() + "-region-" + REGION;
            String byLsn = """
                    product:
                      table: public.products
                      keys: ["%sproduct:{id}"]
                    """.formatted(p);
            LetheConfig before = f.config(f.yaml(List.of(REGION), byLsn, ""));
            RedisCommands<String, String> redis = f.redis(REGION);
            String entry = p + "product:2";
            String holdsKey = RedisLayout.holdsKey("product");
            try (Pipeline all = Pipeline.start(before, Roles.all(before), f.registry, Clock.systemUTC())) {
                Await.until("us-east records what it is fed", Duration.ofSeconds(90), () -> redis.exists(TopicMove.markerKey(group)) == 1);
                assertEquals(RedisLayout.holds(before.namespaces().get("product").readerHolds()), redis.get(holdsKey),
                        "readers find what the namespace's entries hold beside the marker");
                // a reader fills row 2 at the LSN it read it at, as readers of an lsn namespace do
                redis.hset(entry,
                        Map.of(RedisLayout.ENTRY_VERSION, Long.toString(f.currentLsn()), RedisLayout.ENTRY_DATA, "{\"price\":20}"));
            }
            String byColumn = byLsn + "  version: column:ver\n";
            LetheConfig after = f.config(f.yaml(List.of(REGION), byColumn, ""));
            assertEquals(before.topics().invalidations(REGION), after.topics().invalidations(REGION), "the same topic");
            List<String> writes = new CopyOnWriteArrayList<>();
            redis.configSet("notify-keyspace-events", "K$g");
            RedisClient notifications = RedisClient.create(RedisURI.create(stack.redisUri(REGION)));
            try (StatefulRedisPubSubConnection<String, String> sub = notifications.connectPubSub()) {
                // the order Redis ran the holds record and the epoch increments in (keyspace events come in that order)
                sub.addListener(new RedisPubSubAdapter<String, String>() {
                    @Override
                    public void message(String pattern, String channel, String message) {
                        writes.add(channel.substring(channel.indexOf("__:") + 3) + " " + message);
                    }
                });
                sub.sync().psubscribe("__keyspace@*__:lethe:holds:product", "__keyspace@*__:lethe:epoch:product");
                try (Pipeline running = Pipeline.start(after, Roles.all(after), f.registry, Clock.systemUTC())) {
                    // the row changes under the new configuration: its invalidation carries ver = 2
                    f.sql("UPDATE products SET price = 21, ver = 2 WHERE id = 2");
                    long changed = f.currentLsn();
                    Await.until("us-east applied past the change of row 2", Duration.ofSeconds(120),
                            () -> f.appliedLsn(REGION, group) >= changed);
                    assertEquals(0, redis.exists(entry), "the entry filled at an LSN is gone: no column version would ever reach it");
                    assertEquals(RedisLayout.holds(after.namespaces().get("product").readerHolds()), redis.get(holdsKey),
                            "the new configuration's holds are recorded: readers still on version: lsn refuse their fills");
                    // the epoch is raised to Redis's clock (a SET) or incremented past it (an INCRBY): NamespaceMarks
                    Await.until("the wholesale invalidation's epoch raise is seen", Duration.ofSeconds(30),
                            () -> writes.stream().anyMatch(w -> w.startsWith("lethe:epoch:product ")));
                    assertEquals(List.of("lethe:holds:product set", "lethe:epoch:product"),
                            List.of(writes.get(0), writes.get(1).substring(0, writes.get(1).lastIndexOf(' '))),
                            "the holds are recorded before the wholesale invalidation moves the epoch (and scans); all: " + writes);
                }
            } finally {
                notifications.shutdown();
                redis.configSet("notify-keyspace-events", "");
            }
        }
    }

    /**
     * A streams instance still on the old file after the region moved an upsert namespace from {@code lsn}
     * to {@code column:ver} (a rolling restart, a rebalance that hands it a task back): its upsert of a
     * change carries the change's LSN as its version. Written as it is, the entry would sit at a number
     * near 2^40 and above, which no later change of the row (ver 3, 4, ...) reaches. The region applies it
     * as the delete at its version instead ({@code foreign-holds}: its {@code lethe.holds} stamp is the
     * old file's), and dead-letters it.
     */
    @Test
    void anUpsertOfAStreamsStillOnTheOldFileLeavesNoEntryAtAnLsn(LetheStack stack, TestScope scope) throws Exception {
        try (PipelineFixture f = new PipelineFixture(stack, scope)) {
            f.sql("CREATE TABLE products (id int PRIMARY KEY, price int, ver bigint NOT NULL)",
                    "INSERT INTO products VALUES (1, 10, 1), (2, 20, 1)");
            String p = scope.keyPrefix();
            String group = scope.id() + "-region-" + REGION;
            String byLsn = """
                    product:
                      table: public.products
                      keys: ["%sproduct:{id}"]
                      mode: upsert
                      payload-columns: [price]
                    """.formatted(p);
            LetheConfig before = f.config(f.yaml(List.of(REGION), byLsn, ""));
            LetheConfig after = f.config(f.yaml(List.of(REGION), byLsn + "  version: column:ver\n", ""));
            RedisCommands<String, String> redis = f.redis(REGION);
            // the region runs the new file: its first feed (a wholesale invalidation) done under it
            try (Pipeline all = Pipeline.start(after, Roles.all(after), f.registry, Clock.systemUTC())) {
                Await.until("us-east records what it is fed", Duration.ofSeconds(90), () -> redis.exists(TopicMove.markerKey(group)) == 1);
            }
            String entry = p + "product:2";
            // capture and the region on the new file; the streams instance that gets the tasks runs the old one
            try (Pipeline newer = Pipeline.start(after, new Roles(true, false, List.of(REGION)), f.registry, Clock.systemUTC());
                    Pipeline older = Pipeline.start(before, new Roles(false, true, List.of()), f.registry, Clock.systemUTC())) {
                // every partition has a replay floor (heartbeats through): an upsert after it is written as an upsert
                long started = f.currentLsn();
                Await.until("us-east applied past the heartbeats after the start", Duration.ofSeconds(120),
                        () -> f.appliedLsn(REGION, group) >= started);
                f.sql("UPDATE products SET price = 21, ver = 2 WHERE id = 2");
                long changed = f.currentLsn();
                Await.until("us-east applied past the change of row 2", Duration.ofSeconds(120),
                        () -> f.appliedLsn(REGION, group) >= changed);
                assertEquals(0, redis.exists(entry), "the old file's upsert wrote " + redis.hgetall(entry)
                        + ": an entry at an LSN in a column:ver namespace, which no later version reaches");
                assertTrue(f.registry.counter(RegionMeterNames.DLQ, "reason", "foreign-holds", "stage", "region:" + REGION).count() >= 1,
                        "dead-lettered as foreign-holds");
            }
        }
    }

    private static KafkaConsumer<String, String> watcher(LetheStack stack, String topic) {
        Properties props = new Properties();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, stack.kafkaBootstrapServers());
        KafkaConsumer<String, String> c = new KafkaConsumer<>(props, new StringDeserializer(), new StringDeserializer());
        List<TopicPartition> partitions = c.partitionsFor(topic).stream().map(i -> new TopicPartition(topic, i.partition())).toList();
        c.assign(partitions);
        c.seekToEnd(partitions);
        partitions.forEach(c::position);
        return c;
    }
}
