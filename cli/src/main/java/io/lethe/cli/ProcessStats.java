package io.lethe.cli;

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
