package io.lethe.bench;

import io.lethe.embedded.PostgresEndpoint;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Resident memory and CPU time of this process and the servers it started (Linux /proc).
 * PostgreSQL daemonizes, so its postmaster is not a descendant of this JVM: callers pass it as an
 * extra root ({@link #postmaster}).
 */
public final class ProcessStats {
    private ProcessStats() {
    }

    /**
     * The postmaster of the PostgreSQL server behind {@code pg}, when it runs on this machine and is
     * visible to this process (the parent of one of its backends); empty otherwise.
     */
    public static Optional<ProcessHandle> postmaster(PostgresEndpoint pg) {
        try (Connection c = DriverManager.getConnection(pg.jdbcUrl("postgres"), pg.user(), pg.password());
                Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("SELECT pg_backend_pid()")) {
            rs.next();
            return ProcessHandle.of(rs.getLong(1)).flatMap(ProcessHandle::parent)
                    .filter(p -> p.info().command().map(cmd -> cmd.endsWith("postgres")).orElse(false));
        } catch (SQLException e) {
            return Optional.empty();
        }
    }

    /** This JVM's descendants plus each of {@code extraRoots} and its descendants: the servers of a run. */
    static List<ProcessHandle> servers(List<ProcessHandle> extraRoots) {
        List<ProcessHandle> out = new ArrayList<>(ProcessHandle.current().descendants().toList());
        for (ProcessHandle root : extraRoots) {
            out.add(root);
            out.addAll(root.descendants().toList());
        }
        return out;
    }

    /** Resident set size of this JVM, bytes; -1 where /proc is not available. */
    public static long selfRss() {
        return rss(ProcessHandle.current().pid());
    }

    /** RSS of this JVM plus its servers (descendants and {@code extraRoots} with theirs), bytes. */
    public static long treeRss(List<ProcessHandle> extraRoots) {
        long total = Math.max(0, selfRss());
        for (ProcessHandle server : servers(extraRoots)) {
            total += Math.max(0, rss(server.pid()));
        }
        return total;
    }

    /**
     * CPU seconds used so far by this JVM and its servers (from /proc/<pid>/stat); processes that
     * already exited (short-lived PostgreSQL backends) no longer count.
     */
    public static double treeCpuSeconds(List<ProcessHandle> extraRoots) {
        double total = cpuSecondsOf(ProcessHandle.current().pid());
        for (ProcessHandle server : servers(extraRoots)) {
            total += cpuSecondsOf(server.pid());
        }
        return total;
    }

    static double cpuSecondsOf(long pid) {
        return cpuSecondsOf(Path.of("/proc", Long.toString(pid), "stat"));
    }

    /** utime + stime of a process's or thread's stat file, in seconds. */
    static double cpuSecondsOf(Path statFile) {
        try {
            String stat = Files.readString(statFile);
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            // fields 14 and 15 of stat (utime, stime), counted after the command name: indexes 11 and 12
            return (Long.parseLong(f[11]) + Long.parseLong(f[12])) / 100.0;
        } catch (IOException | RuntimeException e) {
            return 0;
        }
    }

    /** CPU seconds this JVM used so far. */
    public static double cpuSeconds() {
        var os = ManagementFactory.getOperatingSystemMXBean();
        if (os instanceof com.sun.management.OperatingSystemMXBean sun) {
            return sun.getProcessCpuTime() / 1e9;
        }
        return -1;
    }

    static long rss(long pid) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
                if (line.startsWith("VmRSS:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
                }
            }
        } catch (IOException | RuntimeException e) {
            return -1;
        }
        return -1;
    }

    public static String mib(long bytes) {
        return bytes < 0 ? "n/a" : (bytes / (1024 * 1024)) + " MiB";
    }
}
