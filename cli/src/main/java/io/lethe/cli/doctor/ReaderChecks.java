package io.lethe.cli.doctor;

import io.lethe.capture.source.CheckResult;
import io.lethe.config.JdbcUrls;
import io.lethe.config.LetheConfig;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;

/**
 * {@code lethe doctor}'s checks of the reader role ({@code source.reader-user}): every region
 * consumer's sweep ({@code apply.sweep}), {@code lethe inspect} and the replica gate read the
 * primary as this role, never as capture's REPLICATION role (without it the sweep does not run). It must log in and {@code SELECT}
 * every configured table; a sweep whose role cannot only counts errors, so the gap would otherwise
 * show only as {@code lethe_region_sweep_errors_total}.
 */
final class ReaderChecks {
    private static final String CHECK = "postgres reader";
    private static final Duration TIMEOUT = Duration.ofSeconds(5);

    private ReaderChecks() {
    }

    static List<CheckResult> run(LetheConfig config) {
        List<CheckResult> out = new ArrayList<>();
        boolean sweeping = config.apply().sweep().enabled();
        if (config.source().readerUser() == null) {
            out.add(CheckResult.warn(CHECK + " role", "source.reader-user is not set: "
                    + (sweeping
                            ? "every region's sweep does not run (except on a region with a replica-user; it never reads as "
                                    + "capture's role), and "
                            : "")
                    + "lethe inspect and the replica gate read rows as source.user (" + config.source().user()
                    + "), capture's REPLICATION role",
                    "create a role with only SELECT on the configured tables and set "
                            + "source.reader-user and source.reader-password (docs/runbook.md, \"Least privilege\")"));
        }
        Properties props = new Properties();
        props.setProperty("user", config.source().reader());
        if (config.source().readerSecret() != null) {
            props.setProperty("password", config.source().readerSecret().reveal());
        }
        props.setProperty("connectTimeout", Long.toString(TIMEOUT.toSeconds()));
        List<String> denied = new ArrayList<>();
        try (Connection c = DriverManager.getConnection(config.source().jdbcUrl(), props);
                PreparedStatement ps = c.prepareStatement("SELECT to_regclass(?) IS NOT NULL AND has_table_privilege(?, 'SELECT')")) {
            for (String table : config.tables()) {
                ps.setString(1, table);
                ps.setString(2, table);
                try (ResultSet rs = ps.executeQuery()) {
                    if (!rs.next() || !rs.getBoolean(1)) {
                        denied.add(table);
                    }
                }
            }
        } catch (SQLException e) {
            out.add(CheckResult.fail(CHECK + " grants", "cannot log in to " + JdbcUrls.forDisplay(config.source().jdbcUrl()) + " as "
                    + config.source().reader() + ": " + e.getMessage(),
                    "check source.reader-user and source.reader-password; "
                            + "pg_hba.conf must allow this host"));
            return out;
        }
        if (denied.isEmpty()) {
            out.add(CheckResult.pass(CHECK + " grants", config.source().reader() + " may SELECT every configured table"
                    + (sweeping ? " (the regions' sweep reads rows as this role)" : "")));
        } else {
            out.add(CheckResult.fail(CHECK + " grants", config.source().reader() + " cannot SELECT " + String.join(", ", denied)
                    + (sweeping ? ": every region's sweep counts an error for each of their keys and judges none" : ""),
                    "GRANT SELECT ON " + String.join(", ", denied) + " TO " + config.source().reader()));
        }
        return out;
    }
}
