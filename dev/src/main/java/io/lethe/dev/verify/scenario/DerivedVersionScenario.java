package io.lethe.dev.verify.scenario;

/**
 * A reader filled a derived key (several rows reach it) with a row's version, as the client
 * lets it pass any version through. Every later invalidation of that key carries version 0 and
 * so used to keep the entry as "newer", for ever. A derived key's invalidation deletes whatever
 * is there.
 */
final class DerivedVersionScenario implements Scenario {
    @Override
    public String name() {
        return "derived-version";
    }

    @Override
    public String summary() {
        return "a derived key filled with a row version; a row of its group changes";
    }

    @Override
    public void run(ScenarioRun run) throws Exception {
        Items.create(run, 4);
        run.start(run.config(Items.namespace(run, "")));
        run.secondJudge(); // lethe inspect over every region after the judge: a confirmed stale entry fails the scenario
        run.truth(Items.truth(run));
        Items.fillCurrent(run, "1", 1, 2, 3);
        String grp = run.p() + "grp:1:items";
        run.fillEverywhere(grp, "999999999999999", "v1.0,v2.0");
        run.done("filled %s with version 999999999999999 in every region", grp);
        run.sql("UPDATE items SET val = 'v1.1' WHERE id = 1");
        run.done("UPDATE items SET val = 'v1.1' WHERE id = 1 (group 1)");
        run.quiesce();
    }
}
