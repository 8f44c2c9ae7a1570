package io.lethe.dev.verify.scenario;

import io.lethe.config.ConfigException;
import io.lethe.schemas.redis.RedisLayout;
import java.util.Optional;

/**
 * Key templates and patterns whose namespace-wide glob reaches beyond the namespace. A template
 * that starts with a column ({@code {id}} renders to the glob {@code *}) must be refused at
 * start-up unless allowed explicitly; and where it is allowed, a scan must never touch Lethe's
 * own keys (fences, epochs, a reader's fill lock): deleting a fence as if it were a legacy entry
 * would let a reader that loaded before the change fill its old value, and deleting a fill lock
 * lets every reader of a hot key load it at once.
 */
final class MatchAllScenario implements Scenario {
    @Override
    public String name() {
        return "match-all";
    }

    @Override
    public String summary() {
        return "templates and patterns whose glob reaches other namespaces and Lethe's own keys";
    }

    @Override
    public void run(ScenarioRun run) throws Exception {
        run.sql("CREATE TABLE w (id int PRIMARY KEY, val text)", "INSERT INTO w VALUES (1, 'a'), (2, 'b')");
        String refused = null;
        try {
            run.config("bad: { table: public.w, keys: [\"{id}\"] }");
        } catch (ConfigException e) {
            refused = e.getMessage();
        }
        run.expect(refused != null && refused.contains("allow-unprefixed-keys"),
                "a template rendering to the glob * must be refused at start-up, was " + (refused == null ? "accepted" : refused));
        run.done("config with keys: [\"{id}\"] -> %s", refused == null ? "accepted" : "refused");

        String suffix = ":" + run.id() + "w";
        // a pattern that is not the template's own glob but matches every key of it too (and Lethe's own keys
        // that end the same way): namespace-wide, judged by what it matches, so it needs allow-namespace-wide
        String pattern = "*" + run.id() + "w";
        run.start(run.config("""
                wide:
                  table: public.w
                  keys: ["{id}%s"]
                  patterns: ["%s"]
                  allow-unprefixed-keys: true
                  allow-namespace-wide: true
                """.formatted(suffix, pattern)));
        run.done("namespace with allow-unprefixed-keys: keys [\"{id}%s\"], pattern [\"%s\"] (every change scans it)", suffix, pattern);
        String key = "1" + suffix;
        String region = run.regions().get(0);
        run.sql("UPDATE w SET val = 'a1' WHERE id = 1");
        ScenarioRun.await("the fence of " + key, java.time.Duration.ofSeconds(60),
                () -> run.redis(region).exists(RedisLayout.fenceKey(key)) == 1);
        String counter = run.redis(region).hget(RedisLayout.fenceKey(key), RedisLayout.FENCE_COUNTER);
        // a reader holding the fill lock of key 1, as the cache client writes it
        String lock = "lethe:lock:" + RedisLayout.fenceKey(key).substring(RedisLayout.FENCE_PREFIX.length());
        run.redis(region).set(lock, "reader-token", io.lettuce.core.SetArgs.Builder.px(120_000));
        run.sql("UPDATE w SET val = 'b1' WHERE id = 2");
        run.done(
                "UPDATE row 1 (its fence is written), a reader takes key 1's fill lock, then UPDATE row 2 (its pattern's scan matches both)");
        run.quiesce();
        run.done("after quiescence, Lethe's keys matching the pattern: %s", ScenarioRun.keys(run.redis(region), "lethe:" + pattern));
        run.expect(counter.equals(run.redis(region).hget(RedisLayout.fenceKey(key), RedisLayout.FENCE_COUNTER)),
                "a pattern's scan must not touch the fence " + RedisLayout.fenceKey(key));
        run.expect(run.redis(region).exists(lock) == 1, "a pattern's scan must not delete the fill lock " + lock);
        run.truth(k -> k.endsWith(suffix) ? Optional.empty() : null);
    }
}
