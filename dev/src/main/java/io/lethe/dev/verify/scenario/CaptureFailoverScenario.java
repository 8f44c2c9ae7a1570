package io.lethe.dev.verify.scenario;

import io.lethe.config.LetheConfig;
import io.lethe.embedded.ChildJvm;
import io.lethe.pipeline.Roles;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A capture standby takes over when the leader is killed. Two {@code lethe run --role capture}
 * processes share one slot (one captures, the other stands by on the slot's capture lock);
 * streams and the region consumers run in this process. Every item is cached in every region,
 * a writer keeps updating items, and the capturing process is killed with SIGKILL. Reported: the
 * time from the kill until the standby's walsender holds the slot, and until a change committed
 * after the kill is applied in every region. Then the writer stops and the judge checks that no
 * change (before, during or after the failover) left a cached value behind.
 */
final class CaptureFailoverScenario implements Scenario {
    private static final int ITEMS = 50;
    private static final Duration TAKE_OVER_TARGET = Duration.ofSeconds(10);

    @Override
    public String name() {
        return "capture-failover";
    }

    @Override
    public String summary() {
        return "kill -9 of the capturing process with a standby running";
    }

    @Override
    public void run(ScenarioRun run) throws Exception {
        Items.create(run, ITEMS);
        LetheConfig config = run.config(Items.namespace(run, ""));
        run.start(config, new Roles(false, true, run.regions()));
        run.truth(Items.truth(run));
        Path dir = Files.createTempDirectory("lethe-failover-");
        Path yml = dir.resolve("lethe.yml");
        Files.writeString(yml, run.yaml(Items.namespace(run, ""), ""));
        ChildJvm leader = run.own(capture("capture-A", yml, dir.resolve("leader.log")));
        java.util.concurrent.atomic.AtomicReference<String> streaming = new java.util.concurrent.atomic.AtomicReference<>();
        ScenarioRun.await("the first capture to stream from the slot", Duration.ofSeconds(120),
                () -> streaming.updateAndGet(pid -> slotPid(run)) != null);
        String leaderPid = streaming.get();
        ChildJvm standby = run.own(capture("capture-B", yml, dir.resolve("standby.log")));
        standby.awaitOutput("standing by", Duration.ofSeconds(120));
        run.quiesce();
        run.done("capture A streams from the slot (walsender pid %s), capture B stands by; streams and regions in this process", leaderPid);
        for (int id = 1; id <= ITEMS; id++) {
            run.fillEverywhere(run.p() + "item:" + id, "1", "v" + id + ".0");
        }
        AtomicBoolean writing = new AtomicBoolean(true);
        AtomicInteger writes = new AtomicInteger();
        Thread writer = new Thread(() -> {
            try (var c = run.connect(); var update = c.prepareStatement("UPDATE items SET val = ? WHERE id = ?")) {
                for (int seq = 1; writing.get(); seq++) {
                    update.setString(1, "f" + seq);
                    update.setInt(2, 1 + seq % ITEMS);
                    update.executeUpdate();
                    writes.incrementAndGet();
                    Thread.sleep(10);
                }
            } catch (Exception e) {
                throw new IllegalStateException("the writer failed", e);
            }
        }, "failover-writer");
        writer.start();
        ScenarioRun.await("the writer's first changes", Duration.ofSeconds(30), () -> writes.get() >= 50);
        long killedAt = System.nanoTime();
        leader.kill();
        run.done("every item cached in every region; a writer updates items every 10 ms; capture A killed with SIGKILL");
        ScenarioRun.await("the standby's walsender to hold the slot", Duration.ofSeconds(120),
                () -> {
                    String pid = slotPid(run);
                    return pid != null && !pid.equals(leaderPid);
                });
        double streamingAfter = (System.nanoTime() - killedAt) / 1e9;
        String probeKey = run.p() + "item:" + ITEMS;
        run.fillEverywhere(probeKey, "1", "before-probe");
        int probeWrites = writes.get();
        run.sql("UPDATE items SET val = 'probe' WHERE id = " + ITEMS);
        ScenarioRun.await("a change committed after the take-over to reach every region", Duration.ofSeconds(60),
                () -> run.regions().stream().allMatch(r -> run.redis(r).exists(probeKey) == 0));
        double appliedAfter = (System.nanoTime() - killedAt) / 1e9;
        writing.set(false);
        writer.join(10_000);
        run.done("capture B streams %.1f s after the kill (target <= %d s); a change committed after that is applied in every "
                + "region %.1f s after the kill; %d writes in all (%d before the probe)", streamingAfter, TAKE_OVER_TARGET.toSeconds(),
                appliedAfter, writes.get(), probeWrites);
        run.expect(streamingAfter <= TAKE_OVER_TARGET.toSeconds(), "the standby streamed within " + TAKE_OVER_TARGET.toSeconds()
                + " s of the kill (took %.1f s)".formatted(streamingAfter));
        run.quiesce();
    }

    private static String slotPid(ScenarioRun run) {
        try {
            return run.query("SELECT active_pid::text FROM pg_replication_slots WHERE slot_name = ?", run.slot());
        } catch (java.sql.SQLException e) {
            return null;
        }
    }

    /** A {@code lethe run --role capture} in a JVM of its own, its output in {@code log}. */
    private static ChildJvm capture(String name, Path config, Path log) {
        return ChildJvm.start(name, "io.lethe.cli.Lethe", List.of("run", "--role", "capture", "--config", config.toString(),
                "--http-port", "0"), List.of("-Xmx256m", "-XX:TieredStopAtLevel=1"), log);
    }
}
