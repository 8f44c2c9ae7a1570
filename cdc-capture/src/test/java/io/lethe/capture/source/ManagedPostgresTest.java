package io.lethe.capture.source;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** A failed check's fix is one the operator can run where the database runs. */
class ManagedPostgresTest {

    @Test
    void logicalDecodingIsSwitchedOnTheWayEachServiceSpellsIt() {
        assertEquals("ALTER SYSTEM SET wal_level = logical; then restart PostgreSQL",
                ManagedPostgres.SELF_MANAGED.parameterFix("wal_level", "logical", true));
        assertEquals("in the instance's DB parameter group set rds.logical_replication = 1, then reboot the instance",
                ManagedPostgres.RDS.parameterFix("wal_level", "logical", true));
        assertTrue(ManagedPostgres.AURORA.parameterFix("wal_level", "logical", true).contains("DB cluster parameter group"));
        assertTrue(ManagedPostgres.CLOUD_SQL.parameterFix("wal_level", "logical", true).contains("cloudsql.logical_decoding=on"));
        assertTrue(ManagedPostgres.AZURE_FLEXIBLE.parameterFix("wal_level", "logical", true)
                .contains("--name wal_level --value logical"));
    }

    @Test
    void noManagedServiceIsToldToRunAlterSystemOrAlterRoleReplication() {
        for (ManagedPostgres p : ManagedPostgres.values()) {
            if (p == ManagedPostgres.SELF_MANAGED) {
                continue;
            }
            for (String parameter : new String[] {"wal_level", "max_wal_senders", "max_slot_wal_keep_size"}) {
                assertFalse(p.parameterFix(parameter, "1", true).contains("ALTER SYSTEM"), p + " " + parameter);
            }
        }
        assertEquals("GRANT rds_replication TO lethe; (as the master user; ALTER ROLE ... REPLICATION is refused on Amazon RDS)",
                ManagedPostgres.RDS.replicationFix("lethe"));
        assertEquals("ALTER ROLE lethe REPLICATION;", ManagedPostgres.SELF_MANAGED.replicationFix("lethe"));
    }
}
