package io.lethe.capture.source;

import io.lethe.capture.source.Drift.Kind;
import io.lethe.config.LetheConfig;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** What the source watch repairs of a publication capture owns ({@code create-publication: true}) before it resets. */
final class PublicationRepair {
    private static final Logger LOG = LoggerFactory.getLogger(PublicationRepair.class);

    private PublicationRepair() {
    }

    /**
     * Where capture owns its publication, puts back what capture needs of it: {@code publish},
     * {@code publish_via_partition_root}, and every configured table PostgreSQL can publish that
     * is not in it (dropped from it, or swapped for a new table).
     *
     * @return true when something was changed
     */
    static boolean repair(LetheConfig config, Connection c, SourceState now) throws SQLException {
        SourceState.Publication p = now.publication();
        if (p == null || !config.source().createPublication() || !PublicationInfo.canManage(c, config)) {
            return false;
        }
        String pub = config.source().publication();
        List<String> statements = new ArrayList<>();
        if (!p.publishesEverything()) {
            statements.add(SourceDrifts.publishFix(pub));
        }
        boolean partitioned = now.tables().values().stream().anyMatch(t -> "p".equals(t.kind()));
        if (partitioned && !p.viaRoot()) {
            statements.add("ALTER PUBLICATION " + pub + " SET (publish_via_partition_root = true);");
        }
        if (!p.allTables()) {
            List<Drift> ongoing = SourceDrifts.ongoing(config, now);
            ongoing.stream().filter(d -> d.kind() == Kind.MEMBERSHIP).forEach(d -> statements.add(d.fix()));
        }
        boolean changed = false;
        for (String sql : statements) {
            try (Statement s = c.createStatement()) {
                s.execute(sql);
                changed = true;
                LOG.warn("capture owns publication {} (create-publication: true) and put back what it needs: {}", pub, sql);
            } catch (SQLException e) {
                LOG.warn("cannot repair publication {} ({}): {}", pub, sql, e.getMessage());
            }
        }
        return changed;
    }
}
