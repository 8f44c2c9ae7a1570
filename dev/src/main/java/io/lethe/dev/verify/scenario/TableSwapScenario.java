package io.lethe.dev.verify.scenario;

/**
 * An online schema change swaps the table for a re-created copy: a new table is made, filled
 * and backfilled, the old one renamed away and the new one renamed into place. The publication
 * (capture's own) holds the old table by identity, so the new one's changes are never decoded,
 * and what the copy changed was never a change of the old table. Capture must notice the new
 * identity, take the new table into its publication and invalidate its namespaces.
 */
final class TableSwapScenario implements Scenario {
    @Override
    public String name() {
        return "table-swap";
    }

    @Override
    public String summary() {
        return "the table swapped for a re-created copy (create, copy, rename old away, rename new into place), then written";
    }

    @Override
    public void run(ScenarioRun run) throws Exception {
        Items.create(run, 6);
        run.start(run.config(Items.namespace(run, "")));
        run.truth(Items.truth(run));
        run.done("pipeline started (capture made its publication)");
        Items.fillCurrent(run, "1", 1, 2, 3, 4);
        run.done("filled items 1-4 and their groups' and slugs' keys in every region");
        run.sql("CREATE TABLE items_new (LIKE items INCLUDING ALL)", "ALTER TABLE items_new REPLICA IDENTITY FULL",
                "INSERT INTO items_new SELECT * FROM items", "UPDATE items_new SET val = val || '-backfilled' WHERE id = 4");
        run.sql("BEGIN; ALTER TABLE items RENAME TO items_old; ALTER TABLE items_new RENAME TO items; COMMIT");
        run.done("items_new created, copied, item 4 backfilled in the copy; items renamed to items_old, items_new to items");
        run.sql("UPDATE items SET val = 'v1.1' WHERE id = 1", "UPDATE items SET grp = 9 WHERE id = 2", "DELETE FROM items WHERE id = 3");
        run.done("UPDATE item 1, move item 2 to group 9, DELETE item 3, in the new table");
        run.quiesce();
        run.expect(SourceDrift.counted(run, "identity") >= 1,
                "capture must count the new identity (lethe.capture.source.drift{kind=identity})");
    }
}
