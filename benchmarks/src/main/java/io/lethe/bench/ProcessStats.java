package io.lethe.bench;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;

/** Resident memory and CPU time of this process and the servers it started (Linux /proc). */
public final class ProcessStats {
    private ProcessStats() {
    }

    /** Resident set size of this JVM, bytes; -1 where /proc is not available. */
    public static long selfRss() {
        return rss(ProcessHandle.current().pid());
    }

    /** RSS of this JVM plus every descendant process (PostgreSQL, Redis), bytes. */
    public static long treeRss() {
        long total = Math.max(0, selfRss());
        for (ProcessHandle child : ProcessHandle.current().descendants().toList()) {
            total += Math.max(0, rss(child.pid()));
        }
        return total;
    }

    /** CPU seconds used so far by this JVM and every descendant process (from /proc/<pid>/stat). */
    public static double treeCpuSeconds() {
        double total = 0;
        total += cpuSecondsOf(ProcessHandle.current().pid());
        for (ProcessHandle child : ProcessHandle.current().descendants().toList()) {
            total += cpuSecondsOf(child.pid());
        }
        return total;
    }

    static double cpuSecondsOf(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
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
