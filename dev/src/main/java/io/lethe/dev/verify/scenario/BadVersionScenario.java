package io.lethe.dev.verify.scenario;

/**
 * {@code version: column:ver}, and a change whose version column cannot be read: NULL, or a
 * negative number. The row's keys used to be skipped altogether; they are deleted whatever
 * their version instead.
 */
final class BadVersionScenario implements Scenario {
    @Override
    public String name() {
        return "bad-version";
    }

    @Override
    public String summary() {
        return "version column NULL or negative in a change (version: column:ver)";
    }

    @Override
    public void run(ScenarioRun run) throws Exception {
        Items.create(run, 4);
        run.start(run.config(Items.namespace(run, "version: column:ver")));
        run.secondJudge(); // lethe inspect over every region after the judge: a confirmed stale entry fails the scenario
        run.truth(Items.truth(run));
        Items.fillCurrent(run, "1", 1, 2, 3, 4);
        run.done("filled items 1-4 (version 1) and their derived keys in every region");
        run.sql("UPDATE items SET val = 'v1.1', ver = NULL WHERE id = 1", "UPDATE items SET val = 'v3.1', ver = -1 WHERE id = 3");
        run.done("UPDATE item 1 with ver = NULL, item 3 with ver = -1");
        run.quiesce();
    }
}
