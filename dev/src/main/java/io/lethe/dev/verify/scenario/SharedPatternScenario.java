package io.lethe.dev.verify.scenario;

import io.lethe.cache.CacheNamespace;
import io.lethe.cache.Codecs;
import io.lethe.cache.LetheCache;
import io.lethe.cache.Loaded;
import io.lethe.cache.Policy;
import io.lethe.config.LetheConfig;
import io.lethe.pipeline.Pipeline;
import io.lethe.pipeline.Roles;
import io.lethe.region.RegionConsumerService;
import io.lethe.region.prewarm.Prewarm;
import io.lethe.schemas.redis.AppliedLsn;
import io.lethe.schemas.redis.RedisLayout;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * A pattern two namespaces share. {@code item} and {@code tag} both list {@code search:*}: a
 * search result reads both tables, and the application caches it under namespace {@code tag}. A
 * change to {@code items} scans the pattern as namespace {@code item}, so it must also stop what
 * readers and {@code lethe prewarm} do under {@code tag}:
 *
 * <ol>
 *   <li>a reader of {@code tag} misses a search key, loads it before the change and fills after
 *       the scan passed; its fill must be undone (the epoch of {@code tag} must move, not only
 *       that of {@code item});</li>
 *   <li>{@code lethe prewarm --namespace tag} copies a search result from a region that has not
 *       applied the change into one whose scan has passed; the copy must be refused (the scan
 *       watermark of {@code tag} must rise, and prewarm must check every namespace whose keys
 *       the copy could be).</li>
 * </ol>
 */
final class SharedPatternScenario implements Scenario {
    @Override
    public String name() {
        return "shared-pattern";
    }

    @Override
    public String summary() {
        return "a pattern two namespaces share: readers and prewarm of the other namespace";
    }

    @Override
    public void run(ScenarioRun run) throws Exception {
        Items.create(run, 4);
        run.sql("CREATE TABLE tags (id int PRIMARY KEY, name text)", "ALTER TABLE tags REPLICA IDENTITY FULL",
                "INSERT INTO tags VALUES (1, 'red'), (2, 'blue')");
        String p = run.p();
        String search = p + "search:*";
        LetheConfig config = run.config("""
                tag: { table: public.tags, keys: ["%stag:{id}"], patterns: ["%s"] }
                """.formatted(p, search) + Items.namespace(run, "patterns: [\"" + search + "\"]"));
        String source = run.regions().get(0);
        String target = run.regions().get(1);
        String readerRegion = target;
        run.start(config, new Roles(true, true, run.regions().stream().filter(r -> !r.equals(source)).toList()));
        Pipeline sourceConsumer = Pipeline.start(config, new Roles(false, false, List.of(source)), run.registry(), Clock.systemUTC());
        run.truth(key -> key.startsWith(p + "search:") ? searchResult(run) : Items.truth(run).apply(key));
        run.done("namespaces tag (tags) and item (items) both list the pattern %s; search results are cached as tag", search);

        // 1. a reader of tag whose load straddles a change to items
        String readerKey = p + "search:reader";
        LetheCache cache = run.own(LetheCache.builder(run.stack().redisUri(readerRegion)).shadowReadsHeal(false).build());
        CacheNamespace<String> tags = cache.namespace("tag", Codecs.utf8(), Policy.eventual());
        CountDownLatch loaded = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        CompletableFuture<String> reader = tags.getAsync(readerKey, k -> {
            Optional<String> value = searchResult(run);
            loaded.countDown();
            if (!release.await(120, TimeUnit.SECONDS)) {
                throw new IllegalStateException("never released");
            }
            return Loaded.of(value.orElseThrow());
        });
        if (!loaded.await(30, TimeUnit.SECONDS)) {
            throw new IllegalStateException("the reader did not load");
        }
        run.sql("UPDATE items SET val = 'v1.1' WHERE id = 1");
        run.quiesce();
        release.countDown();
        reader.get(30, TimeUnit.SECONDS);
        String kept = run.redis(readerRegion).hget(readerKey, RedisLayout.ENTRY_DATA);
        run.done("a reader of tag in %s loaded %s, UPDATE items (scanned as item everywhere), then it filled: %s", readerRegion,
                readerKey, kept == null ? "the fill was undone" : "the fill stayed");
        // judged now: the next change's scan would delete it before the end
        run.expect(kept == null || kept.equals(searchResult(run).orElse(null)), "the reader's fill of " + readerKey + " holds '" + kept
                + "', loaded before the change, after the scan of " + search + " passed (database: '" + searchResult(run).orElse(null)
                + "')");

        // 2. prewarm of tag from a region that has not applied a change to items
        String copied = p + "search:all";
        String watermark = AppliedLsn.key(RegionConsumerService.groupId(config, source));
        ScenarioRun.await(source + "'s applied watermark", Duration.ofSeconds(60),
                () -> AppliedLsn.of(run.redis(source).hgetall(watermark)).isPresent());
        run.awaitFed(config, source, target);
        sourceConsumer.close();
        run.fill(source, copied, "0", searchResult(run).orElseThrow());
        String epoch = run.redis(target).get(RedisLayout.epochKey("item"));
        run.sql("UPDATE items SET val = 'v2.1' WHERE id = 2");
        ScenarioRun.await("the scan of " + search + " in " + target, Duration.ofSeconds(60),
                () -> !Objects.equals(epoch, run.redis(target).get(RedisLayout.epochKey("item"))));
        if (!run.committedAllItHeld(config, target, Duration.ofSeconds(60))) {
            throw new IllegalStateException(target + " did not apply the change to items");
        }
        run.done("%s's consumer stopped, %s cached there, UPDATE items applied in %s (not in %s)", source, copied, target, source);
        Prewarm.Summary summary;
        try (Prewarm prewarm = new Prewarm(config, source, target, new Prewarm.Options(List.of("tag"), 0, 2000, 20), Clock.systemUTC())) {
            summary = prewarm.run((handled, candidates, sofar) -> {
            });
        }
        run.done("lethe prewarm --namespace tag %s -> %s: %d candidates, %d copied, %d refused (fenced), %d not provably "
                + "fresh, %d undone", source, target, summary.candidates(), summary.copied(), summary.fenced(), summary.unproven(),
                summary.undone());
        run.start(config, new Roles(false, false, List.of(source)));
        run.quiesce();
        run.done("%s's consumer started again; quiesced", source);
    }

    /** What a search result holds: every item's val, in id order (it reads tags too, which do not change here). */
    private static Optional<String> searchResult(ScenarioRun run) {
        try {
            return Optional.ofNullable(run.query("SELECT string_agg(val, ',' ORDER BY id) FROM items"));
        } catch (SQLException e) {
            throw new IllegalStateException("reading the search result", e);
        }
    }
}
