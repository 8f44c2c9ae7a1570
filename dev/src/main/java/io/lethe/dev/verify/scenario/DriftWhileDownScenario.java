package io.lethe.dev.verify.scenario;

import io.lethe.capture.CaptureService;
import io.lethe.config.LetheConfig;
import io.lethe.pipeline.Roles;
import java.time.Clock;

/**
 * While capture is down, the table is dropped from capture's own publication and written. The
 * next capture adds it back (create-publication: true) and streams on from its slot: the
 * changes in between were never decoded. It must compare the source with what it relied on
 * before and invalidate the table's namespaces.
 */
final class DriftWhileDownScenario implements Scenario {
    @Override
    public String name() {
        return "drift-while-down";
    }

    @Override
    public String summary() {
        return "the table dropped from the publication while capture is down, written; capture restarts and re-adds it";
    }

    @Override
    public void run(ScenarioRun run) throws Exception {
        Items.create(run, 4);
        LetheConfig config = run.config(Items.namespace(run, ""));
        run.start(config, new Roles(false, true, run.regions()));
        CaptureService first = new CaptureService(config, run.registry(), Clock.systemUTC());
        first.start();
        run.truth(Items.truth(run));
        run.sql("UPDATE items SET val = 'v4.1' WHERE id = 4");
        run.quiesce();
        run.done("capture streamed (an UPDATE and the sentinel went through), then stopped");
        first.close();
        Items.fillCurrent(run, "1", 1, 2);
        run.sql("ALTER PUBLICATION " + run.publication() + " DROP TABLE items",
                "UPDATE items SET val = 'v1.1' WHERE id = 1", "DELETE FROM items WHERE id = 2");
        run.done("items 1, 2 cached; items dropped from the publication; UPDATE item 1, DELETE item 2");
        CaptureService second = run.own(new CaptureService(config, run.registry(), Clock.systemUTC()));
        second.start();
        run.done("capture started again (it adds items back to its publication)");
        run.quiesce();
        run.expect(SourceDrift.counted(run, "membership") >= 1,
                "capture must count the membership drift (lethe.capture.source.drift{kind=membership})");
    }
}
