package io.lethe.dev.verify.scenario;

import io.lethe.config.LetheConfig;
import io.lethe.pipeline.Pipeline;
import io.lethe.pipeline.Roles;
import io.lethe.region.prewarm.Prewarm;
import io.lethe.schemas.redis.RedisLayout;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Pre-warming an emptied region from a sibling that is behind it. The source region caches every
 * item (versioned entries) and some slugs (legacy strings); its consumer stops, items 1-30 change
 * (the target applies their invalidations, the source does not: its entries of them are stale
 * now), and a writer keeps changing other items while {@code lethe prewarm} copies the source into
 * the empty target. A copy that trusted the source would put the 30 stale values into the target
 * for good; the rule copies only what the target's pipeline is certain to remove. The source's
 * consumer then starts again, and after quiescence no region may hold a stale entry.
 */
final class PrewarmScenario implements Scenario {
    private static final int ITEMS = 100;
    private static final int CHANGED = 30;
    private static final int SLUGS = 20;

    @Override
    public String name() {
        return "prewarm";
    }

    @Override
    public String summary() {
        return "prewarm an empty region from a sibling that is behind it";
    }

    @Override
    public void run(ScenarioRun run) throws Exception {
        Items.create(run, ITEMS);
        LetheConfig config = run.config(Items.namespace(run, ""));
        String source = run.regions().get(0);
        String target = run.regions().get(1);
        run.start(config, new Roles(true, true, run.regions().stream().filter(r -> !r.equals(source)).toList()));
        run.truth(Items.truth(run));
        Pipeline sourceConsumer = Pipeline.start(config, new Roles(false, false, List.of(source)), run.registry(), Clock.systemUTC());
        try {
            run.quiesce();
            run.awaitFed(config, source, target);
            for (int id = 1; id <= ITEMS; id++) {
                run.fill(source, run.p() + "item:" + id, "0", "v" + id + ".0");
            }
            for (int id = 1; id <= SLUGS; id++) {
                run.redis(source).set(run.p() + "slug:s" + id, "v" + id + ".0");
            }
        } finally {
            sourceConsumer.close();
        }
        run.done("%s caches %d items (versioned) and %d slugs (legacy strings); %s is empty; %s's consumer stopped",
                source, ITEMS, SLUGS, target, source);
        run.sql("UPDATE items SET val = 'u' || id WHERE id <= " + CHANGED);
        String lastChanged = run.p() + "item:" + CHANGED;
        ScenarioRun.await("the target to apply the changes", Duration.ofSeconds(60),
                () -> run.redis(target).exists(RedisLayout.fenceKey(lastChanged)) == 1);
        run.done("items 1-%d changed: %s applied their invalidations, %s still holds the old values", CHANGED, target, source);
        double before = presentShare(run, target);
        AtomicBoolean writing = new AtomicBoolean(true);
        AtomicInteger writes = new AtomicInteger();
        Thread writer = new Thread(() -> {
            try (var c = run.connect(); var update = c.prepareStatement("UPDATE items SET val = ? WHERE id = ?")) {
                while (writing.get()) {
                    int id = ThreadLocalRandom.current().nextInt(CHANGED + 1, ITEMS + 1);
                    update.setString(1, "w" + writes.incrementAndGet());
                    update.setInt(2, id);
                    update.executeUpdate();
                    Thread.sleep(20);
                }
            } catch (Exception e) {
                throw new IllegalStateException("the writer failed", e);
            }
        }, "prewarm-writer");
        writer.start();
        Prewarm.Summary summary;
        try (Prewarm prewarm = new Prewarm(config, source, target, new Prewarm.Options(List.of(), 0, 2000, 20), Clock.systemUTC())) {
            summary = prewarm.run((handled, candidates, sofar) -> {
            });
        } finally {
            writing.set(false);
            writer.join(10_000);
        }
        double after = presentShare(run, target);
        run.done("lethe prewarm %s -> %s while a writer changed other items (%d writes): %d candidates by %s, %d copied, "
                + "%d refused (fenced), %d present, %d not provably fresh, %d undone", source, target, writes.get(), summary.candidates(),
                summary.hotness(), summary.copied(), summary.fenced(), summary.present(), summary.unproven(), summary.undone());
        run.done("%s's hit rate over the items and slugs: %.0f %% before, %.0f %% after", target, 100 * before, 100 * after);
        run.expect(summary.copied() > 0, "prewarm copied entries");
        run.expect(after > before, "the target's hit rate rose");
        run.start(config, new Roles(false, false, List.of(source)));
        run.done("%s's consumer started again", source);
        run.quiesce();
    }

    /** The share of the items' and slugs' keys present in the region (what its readers would hit). */
    private static double presentShare(ScenarioRun run, String region) {
        int present = 0;
        for (int id = 1; id <= ITEMS; id++) {
            present += run.redis(region).exists(run.p() + "item:" + id).intValue();
        }
        for (int id = 1; id <= SLUGS; id++) {
            present += run.redis(region).exists(run.p() + "slug:s" + id).intValue();
        }
        return present / (double) (ITEMS + SLUGS);
    }
}
