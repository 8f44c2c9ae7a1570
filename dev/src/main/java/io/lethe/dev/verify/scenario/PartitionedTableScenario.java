package io.lethe.dev.verify.scenario;

/**
 * A table declared {@code PARTITION BY}: PostgreSQL logs its changes under the partitions'
 * names, which used to fall outside the captured tables and be dropped without a word. Changes
 * of every partition, including one attached after start-up, must invalidate the parent's
 * namespace.
 */
final class PartitionedTableScenario implements Scenario {
    @Override
    public String name() {
        return "partitioned";
    }

    @Override
    public String summary() {
        return "a partitioned table, with a partition attached after start-up";
    }

    @Override
    public void run(ScenarioRun run) throws Exception {
        Items.createPartitioned(run, 4);
        run.start(run.config(Items.namespace(run, "")));
        run.secondJudge(); // lethe inspect over every region after the judge: a confirmed stale entry fails the scenario
        run.truth(Items.truth(run));
        run.done("items PARTITION BY RANGE (id), partition items_p0 (ids 1-100); pipeline started");
        Items.addPartition(run, 1);
        Items.insert(run, 101, 102);
        run.done("partition items_p1 (ids 101-200) attached after start-up, rows 101-102 inserted");
        Items.fillCurrent(run, "1", 1, 2, 101);
        run.done("filled items 1, 2, 101 and their groups' and slugs' keys in every region");
        run.sql("UPDATE items SET val = 'v1.1' WHERE id = 1", "UPDATE items SET val = 'v101.1', grp = 7 WHERE id = 101",
                "DELETE FROM items WHERE id = 2");
        run.done("UPDATE item 1 (partition p0), UPDATE item 101 to group 7 (partition p1), DELETE item 2");
        run.quiesce();
    }
}
