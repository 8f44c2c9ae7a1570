package io.lethe.capture.source;

import io.lethe.config.LetheConfig;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;

/**
 * The start-up checks of the replication slot capture streams from: free (not another reader's,
 * not another database's or plugin's, not lost), room for it among the slots and WAL senders, and
 * how much WAL it may hold (max_slot_wal_keep_size, a warning).
 */
final class SlotChecks {
    private final LetheConfig config;
    /** Where the database runs: the fixes name that service's way of doing it. */
    private final ManagedPostgres platform;

    SlotChecks(LetheConfig config, ManagedPostgres platform) {
        this.config = config;
        this.platform = platform;
    }

    CheckResult slot(Connection c) throws SQLException {
        String slot = config.source().slot();
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT active, active_pid, wal_status, database, plugin FROM pg_replication_slots WHERE slot_name = ?")) {
            ps.setString(1, slot);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return CheckResult.pass("slot", "slot " + slot + " does not exist yet; capture will create it");
                }
                if (!config.source().database().equals(rs.getString("database")) || !"pgoutput".equals(rs.getString("plugin"))) {
                    return CheckResult.fail("slot", "slot " + slot + " belongs to database " + rs.getString("database")
                            + " with plugin " + rs.getString("plugin") + ", not " + config.source().database() + " with pgoutput",
                            "choose another source.slot in " + config.file() + ", or SELECT pg_drop_replication_slot('" + slot + "');");
                }
                if (rs.getBoolean("active")) {
                    int pid = rs.getInt("active_pid");
                    return CheckResult.fail("slot", "slot " + slot + " is in use by another reader (pid " + pid + ")",
                            "stop the other capture instance; if it is stale: SELECT pg_terminate_backend(" + pid + ");");
                }
                if ("lost".equals(rs.getString("wal_status"))) {
                    return CheckResult.warn("slot", "slot " + slot + " has lost WAL it needed; capture will recreate it and "
                            + "invalidate every namespace (changes may have been missed)",
                            "raise max_slot_wal_keep_size, and alert on lethe.capture.slot.retained.bytes");
                }
                return CheckResult.pass("slot", "slot " + slot + " exists and is free (wal_status " + rs.getString("wal_status") + ")");
            }
        }
    }

    CheckResult capacity(Connection c) throws SQLException {
        int maxSlots = Integer.parseInt(DatabaseChecks.single(c, "SHOW max_replication_slots"));
        int usedSlots = Integer.parseInt(DatabaseChecks.single(c, "SELECT count(*) FROM pg_replication_slots"));
        int maxSenders = Integer.parseInt(DatabaseChecks.single(c, "SHOW max_wal_senders"));
        int usedSenders = Integer.parseInt(DatabaseChecks.single(c, "SELECT count(*) FROM pg_stat_replication"));
        boolean haveSlot = "1".equals(DatabaseChecks.single(c, "SELECT count(*) FROM pg_replication_slots WHERE slot_name = '"
                + config.source().slot().replace("'", "''") + "'"));
        if (!haveSlot && usedSlots >= maxSlots) {
            return CheckResult.fail("replication capacity", "all " + maxSlots + " replication slots are in use",
                    platform.parameterFix("max_replication_slots", Integer.toString(maxSlots + 4), true) + " (or drop an unused slot)");
        }
        if (usedSenders >= maxSenders) {
            return CheckResult.fail("replication capacity", "all " + maxSenders + " WAL senders are in use",
                    platform.parameterFix("max_wal_senders", Integer.toString(maxSenders + 4), true));
        }
        return CheckResult.pass("replication capacity", usedSlots + "/" + maxSlots + " slots and " + usedSenders + "/"
                + maxSenders + " WAL senders in use");
    }

    CheckResult walKeepSize(Connection c) throws SQLException {
        String size = DatabaseChecks.single(c, "SHOW max_slot_wal_keep_size");
        if ("-1".equals(size)) {
            return CheckResult.warn("max_slot_wal_keep_size", "max_slot_wal_keep_size is unlimited: if capture stops, "
                    + "the slot keeps WAL until the disk is full",
                    platform.parameterFix("max_slot_wal_keep_size", platform == ManagedPostgres.SELF_MANAGED ? "'10GB'" : "10240", false));
        }
        return CheckResult.pass("max_slot_wal_keep_size", "max_slot_wal_keep_size is " + size);
    }
}
