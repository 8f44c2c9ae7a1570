package io.lethe.capture.source;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Optional;

/**
 * Where the source database runs, as far as the start-up checks' fixes differ: a managed service
 * grants replication through a role of its own and changes server parameters in its console or
 * CLI (ALTER SYSTEM is refused there). Recognised by the roles each service creates. See
 * docs/managed-postgres.md.
 */
public enum ManagedPostgres {
    SELF_MANAGED("PostgreSQL", null),
    /** Amazon RDS for PostgreSQL: replication by membership of rds_replication, parameters in the DB parameter group. */
    RDS("Amazon RDS", "rds_replication"),
    /** Aurora PostgreSQL: as RDS, with the parameters in the DB cluster parameter group. */
    AURORA("Amazon Aurora", "rds_replication"),
    /** Cloud SQL for PostgreSQL: the REPLICATION attribute (a cloudsqlsuperuser may grant it), flags for parameters. */
    CLOUD_SQL("Google Cloud SQL", null),
    /** Azure Database for PostgreSQL flexible server: the REPLICATION attribute (granted by azure_pg_admin), server parameters. */
    AZURE_FLEXIBLE("Azure Database for PostgreSQL flexible server", null);

    private final String display;
    private final String replicationRole;

    ManagedPostgres(String display, String replicationRole) {
        this.display = display;
        this.replicationRole = replicationRole;
    }

    public String display() {
        return display;
    }

    /** The role whose membership grants replication on this service (RDS, Aurora), if there is one. */
    public Optional<String> replicationRole() {
        return Optional.ofNullable(replicationRole);
    }

    /** The service, recognised by the roles it creates in every database cluster it runs. */
    public static ManagedPostgres detect(Connection c) throws SQLException {
        if (roleExists(c, "rds_superuser")) {
            return exists(c, "SELECT 1 FROM pg_proc WHERE proname = 'aurora_version'") ? AURORA : RDS;
        }
        if (roleExists(c, "cloudsqlsuperuser")) {
            return CLOUD_SQL;
        }
        if (roleExists(c, "azure_pg_admin")) {
            return AZURE_FLEXIBLE;
        }
        return SELF_MANAGED;
    }

    /** How to let {@code user} replicate. */
    public String replicationFix(String user) {
        String role = DatabaseChecks.quoteIdent(user);
        return switch (this) {
            case RDS, AURORA -> "GRANT rds_replication TO " + role + "; (as the master user; ALTER ROLE ... REPLICATION is refused on "
                    + display + ")";
            case CLOUD_SQL -> "ALTER USER " + role + " WITH REPLICATION; (as a member of cloudsqlsuperuser)";
            case AZURE_FLEXIBLE -> "ALTER ROLE " + role + " WITH REPLICATION; (as a member of azure_pg_admin)";
            case SELF_MANAGED -> "ALTER ROLE " + role + " REPLICATION;";
        };
    }

    /**
     * How to set a server parameter; {@code restart} when it takes a restart to apply (a reload
     * otherwise). {@code wal_level = logical} is spelled differently on each service.
     */
    public String parameterFix(String name, String value, boolean restart) {
        String setting = name.equals("wal_level") && this != SELF_MANAGED && this != AZURE_FLEXIBLE
                ? (this == CLOUD_SQL ? "cloudsql.logical_decoding=on" : "rds.logical_replication = 1")
                : this == CLOUD_SQL ? name + "=" + value : name + " = " + value;
        return switch (this) {
            case RDS -> "in the instance's DB parameter group set " + setting + (restart ? ", then reboot the instance" : "");
            case AURORA -> "in the DB cluster parameter group set " + setting + (restart ? ", then reboot the writer instance" : "");
            case CLOUD_SQL -> "gcloud sql instances patch <instance> --database-flags=" + setting
                    + " (list the instance's other flags too: the command replaces them" + (restart ? "; the instance restarts)" : ")");
            case AZURE_FLEXIBLE -> "az postgres flexible-server parameter set -g <resource-group> -s <server> --name " + name
                    + " --value " + value + (restart ? ", then az postgres flexible-server restart -g <resource-group> -n <server>" : "");
            case SELF_MANAGED -> "ALTER SYSTEM SET " + setting + (restart ? "; then restart PostgreSQL" : "; SELECT pg_reload_conf();");
        };
    }

    private static boolean roleExists(Connection c, String role) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT 1 FROM pg_roles WHERE rolname = ?")) {
            ps.setString(1, role);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next();
            }
        }
    }

    private static boolean exists(Connection c, String sql) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql); ResultSet rs = ps.executeQuery()) {
            return rs.next();
        }
    }
}
