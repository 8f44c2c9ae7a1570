package io.lethe.dev.verify.scenario;

import io.lethe.capture.CaptureService;
import io.lethe.config.LetheConfig;
import io.lethe.pipeline.Roles;
import java.time.Clock;

/**
 * The replication slot was dropped and made again while capture was away, and changes committed
 * in between were never in any slot. This is what a capture that crashes after re-creating a lost
 * slot, but before publishing its reset, leaves behind (as does an operator who re-creates the
 * slot by hand). The next capture found a healthy slot and streamed on: the changes in between
 * were lost for good. It must see that the slot starts beyond what it last stored, and reset.
 */
final class SlotRecreatedScenario implements Scenario {
    @Override
    public String name() {
        return "slot-recreated";
    }

    @Override
    public String summary() {
        return "capture dies between re-creating a lost slot and publishing its reset";
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
        run.sql("SELECT pg_drop_replication_slot('" + run.slot() + "')");
        Items.fillCurrent(run, "1", 1, 2);
        run.sql("UPDATE items SET val = 'v1.1' WHERE id = 1", "DELETE FROM items WHERE id = 2");
        run.sql("SELECT pg_create_logical_replication_slot('" + run.slot() + "', 'pgoutput')");
        run.done("slot dropped; items 1, 2 cached; UPDATE item 1, DELETE item 2 (in no slot); slot made again, no reset published");
        CaptureService second = run.own(new CaptureService(config, run.registry(), Clock.systemUTC()));
        second.start();
        run.done("capture started again");
        run.quiesce();
        run.expect(run.registry().find("lethe.capture.slot.resets").counters().stream().mapToDouble(c -> c.count()).sum() >= 1,
                "capture must count the reset (lethe.capture.slot.resets)");
    }
}
