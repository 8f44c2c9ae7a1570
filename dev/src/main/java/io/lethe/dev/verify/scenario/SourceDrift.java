package io.lethe.dev.verify.scenario;

import java.sql.SQLException;

/** What the source-drift scenarios share: a publication an administrator made and manages. */
final class SourceDrift {
    private SourceDrift() {
    }

    /**
     * The publication made by an administrator ({@code create-publication: false}) for
     * {@code what} (e.g. {@code FOR TABLE items, lethe_sentinel, lethe_heartbeat}), with the
     * heartbeat and sentinel tables it must hold; capture may not change it.
     */
    static void administratorsPublication(ScenarioRun run, String what) throws SQLException {
        run.ensureSentinel();
        run.sql("CREATE TABLE IF NOT EXISTS lethe_heartbeat (slot text PRIMARY KEY, ts timestamptz NOT NULL)",
                "CREATE PUBLICATION " + run.publication() + " " + what + " WITH (publish_via_partition_root = true)");
        run.sourceSetting("create-publication: false");
    }

    /** The number of source drifts capture counted of {@code kind} ({@code lethe.capture.source.drift}). */
    static double counted(ScenarioRun run, String kind) {
        return run.registry().find("lethe.capture.source.drift").tag("kind", kind).counters().stream()
                .mapToDouble(c -> c.count()).sum();
    }
}
