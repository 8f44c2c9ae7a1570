package io.lethe.dev.verify.scenario;

/**
 * A partition of a published partitioned table is set UNLOGGED, written, and set LOGGED again
 * (a bulk-load habit). PostgreSQL allows it although the root is in capture's own publication,
 * and writes nothing of those changes to the WAL: no change reaches capture. Capture must see the
 * partition rewritten and invalidate the table's namespaces.
 */
final class UnloggedPartitionScenario implements Scenario {
    @Override
    public String name() {
        return "unlogged";
    }

    @Override
    public String summary() {
        return "a partition set UNLOGGED, written, and set LOGGED again";
    }

    @Override
    public void run(ScenarioRun run) throws Exception {
        Items.createPartitioned(run, 6);
        run.start(run.config(Items.namespace(run, "")));
        run.truth(Items.truth(run));
        run.done("items PARTITION BY RANGE (id), partition items_p0 (ids 1-100); pipeline started");
        Items.fillCurrent(run, "1", 1, 2, 3);
        run.done("filled items 1, 2, 3 and their groups' and slugs' keys in every region");
        run.sql("ALTER TABLE items_p0 SET UNLOGGED", "UPDATE items SET val = 'v1.1' WHERE id = 1",
                "UPDATE items SET grp = 9 WHERE id = 2", "DELETE FROM items WHERE id = 3", "ALTER TABLE items_p0 SET LOGGED");
        run.done("items_p0 SET UNLOGGED; UPDATE item 1, move item 2 to group 9, DELETE item 3; items_p0 SET LOGGED");
        run.quiesce();
        run.expect(SourceDrift.counted(run, "rewritten") + SourceDrift.counted(run, "persistence") >= 1,
                "capture must count the rewrite (lethe.capture.source.drift{kind=rewritten})");
    }
}
