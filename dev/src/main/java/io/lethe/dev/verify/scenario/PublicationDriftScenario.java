package io.lethe.dev.verify.scenario;

/**
 * An administrator's publication changes under a running capture: the table is dropped from it
 * and added back, and later it publishes only inserts for a while. Nothing PostgreSQL logged in
 * between reaches capture, heartbeats keep every lag at 0, and both changes are undone faster
 * than anything polls. Capture must see that the publication is not the one it relied on (a new
 * membership, a new version of its options) and invalidate the table's namespaces after the gap.
 */
final class PublicationDriftScenario implements Scenario {
    @Override
    public String name() {
        return "publication-drift";
    }

    @Override
    public String summary() {
        return "a table dropped from the publication and added back; publish = 'insert' and back; writes in between";
    }

    @Override
    public void run(ScenarioRun run) throws Exception {
        Items.create(run, 6);
        SourceDrift.administratorsPublication(run, "FOR TABLE items, lethe_sentinel, lethe_heartbeat");
        run.start(run.config(Items.namespace(run, "")));
        run.truth(Items.truth(run));
        run.done("publication made by an administrator (create-publication: false); pipeline started");
        Items.fillCurrent(run, "1", 1, 2, 3, 5);
        run.done("filled items 1, 2, 3, 5 and their groups' and slugs' keys in every region");
        run.sql("ALTER PUBLICATION " + run.publication() + " DROP TABLE items",
                "UPDATE items SET val = 'v1.1' WHERE id = 1", "DELETE FROM items WHERE id = 2",
                "ALTER PUBLICATION " + run.publication() + " ADD TABLE items");
        run.done("items dropped from the publication; UPDATE item 1, DELETE item 2; items added back");
        run.sql("ALTER PUBLICATION " + run.publication() + " SET (publish = 'insert')",
                "UPDATE items SET val = 'v3.1', slug = 's3-moved' WHERE id = 3", "DELETE FROM items WHERE id = 5",
                "ALTER PUBLICATION " + run.publication() + " SET (publish = 'insert, update, delete, truncate')");
        run.done("publish = 'insert'; UPDATE item 3 (new slug), DELETE item 5; publish = 'insert, update, delete, truncate' again");
        run.quiesce();
        run.expect(SourceDrift.counted(run, "membership") >= 1,
                "capture must count the membership drift (lethe.capture.source.drift{kind=membership})");
        run.expect(SourceDrift.counted(run, "publication-options") >= 1,
                "capture must count the options drift (lethe.capture.source.drift{kind=publication-options})");
    }
}
