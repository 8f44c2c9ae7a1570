package io.lethe.capture.topics;

import io.lethe.config.DebeziumTopicsConfig;
import io.lethe.config.LetheConfig;
import java.util.ArrayList;
import java.util.List;

/** What {@code source.mode: debezium-topics} cannot know, said at start-up (docs/design.md, "Reading an existing Debezium stream"). */
final class ModeLimits {
    private ModeLimits() {
    }

    /** One line per limit, for the start-up log. */
    static List<String> of(LetheConfig config) {
        DebeziumTopicsConfig t = config.source().debeziumTopics();
        List<String> out = new ArrayList<>();
        if (t.transactionMetadata()) {
            out.add("commit LSNs come from the connector's transaction topic " + t.transactionTopic() + ": each change waits for "
                    + "its transaction's END there (a connector that stops writing it stops Lethe's changes: lag grows)");
        } else {
            out.add("no commit LSNs (transaction-metadata: false): no replica gate (refused by the configuration)");
        }
        out.add("a watermark vouches only for the highest LSN of a change the connector wrote before its heartbeat (a Debezium "
                + "heartbeat carries no position): read-your-writes tokens are covered later, and not at all while no change "
                + "flows, so such reads go to the database");
        out.add("the slot, the publication, REPLICA IDENTITY and skipped.operations are the connector's: Lethe cannot repair "
                + "them (run lethe doctor); it watches the publication (source.publication) and the slot (source.slot) once they exist, and resets "
                + "a table at every rewrite (a TRUNCATE the connector skips shows only as one; VACUUM FULL and CLUSTER reset too)");
        out.add("the configured tables are watched from the first translator's start (DDL that changes what rows hold "
                + "without a row change resets their namespaces; the state relied on is kept in " + config.topics().captureOffsets()
                + " for the next translator), not before it: DDL before Lethe first ran is not seen");
        if (!t.schemas()) {
            out.add("schemas: false: the PostgreSQL types of key-template columns are unknown, so every change of a namespace with a "
                    + "templated key invalidates its keys by glob");
        }
        out.add("watermarks come from the connector's heartbeats (" + t.heartbeatTopic() + "), stamped with the heartbeat's time, "
                + "not a commit's: none when the connector writes no heartbeats");
        return out;
    }
}
