package io.lethe.bench;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * CPU seconds by component of the pipeline, from the JVM's per-thread CPU times (grouped by
 * thread name) and the server processes it started (by command name). Taken before and after a
 * phase, the difference says where the phase's CPU went: the profile the benchmark report shows.
 */
final class CpuBreakdown {
    static final String CAPTURE = "capture (Debezium engine and its producer)";
    static final String STREAMS = "invalidation-streams (Kafka Streams)";
    static final String REGIONS = "region consumers (incl. Lettuce I/O)";
    static final String BROKER = "Kafka broker (in-process)";
    static final String POSTGRES = "PostgreSQL (processes)";
    static final String REDIS = "Redis (processes)";
    static final String GC = "JVM: garbage collection";
    static final String JIT = "JVM: JIT compilers";
    static final String JVM_OTHER = "JVM: bench driver, other threads";
    /** In worker processes: the bench's own work there (its /metrics scrapes, its thread dumps). */
    static final String HARNESS = "bench harness in the workers (/metrics scrapes, thread dumps)";

    private static final List<String> ORDER = List.of(CAPTURE, STREAMS, REGIONS, BROKER, POSTGRES, REDIS, GC, JIT, JVM_OTHER);

    private CpuBreakdown() {
    }

    /** CPU seconds used so far, by component. */
    static Map<String, Double> snapshot(List<ProcessHandle> extraRoots) {
        return snapshot(extraRoots, java.util.Set.of());
    }

    /**
     * CPU seconds used so far, by component, leaving out the processes {@code excluded} and their
     * descendants (worker JVMs, measured with {@link #ofWorker}).
     */
    static Map<String, Double> snapshot(List<ProcessHandle> extraRoots, java.util.Set<Long> excluded) {
        Map<String, Double> out = new LinkedHashMap<>();
        ORDER.forEach(c -> out.put(c, 0.0));
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        double threadTotal = 0;
        if (threads.isThreadCpuTimeSupported()) {
            for (ThreadInfo info : threads.getThreadInfo(threads.getAllThreadIds())) {
                if (info == null) {
                    continue;
                }
                long nanos = threads.getThreadCpuTime(info.getThreadId());
                if (nanos <= 0) {
                    continue;
                }
                String component = component(info.getThreadName());
                if (component != null) {
                    out.merge(component, nanos / 1e9, Double::sum);
                    threadTotal += nanos / 1e9;
                }
            }
        }
        // GC and compiler threads are not Java threads: the kernel's per-task figures name them
        double gc = nativeThreads("GC Thread", "G1 ", "GC ", "VM Periodic");
        double jit = nativeThreads("C1 CompilerThre", "C2 CompilerThre");
        out.merge(GC, gc, Double::sum);
        out.merge(JIT, jit, Double::sum);
        out.merge(JVM_OTHER, Math.max(0, ProcessStats.cpuSeconds() - threadTotal - gc - jit), Double::sum);
        for (ProcessHandle child : ProcessStats.servers(extraRoots)) {
            if (excludedOrBelow(child, excluded)) {
                continue;
            }
            String name = commandName(child.pid());
            String component = name.startsWith("postgres") ? POSTGRES : name.startsWith("redis") ? REDIS : JVM_OTHER;
            out.merge(component, ProcessStats.cpuSecondsOf(child.pid()), Double::sum);
        }
        return out;
    }

    private static boolean excludedOrBelow(ProcessHandle process, java.util.Set<Long> excluded) {
        for (Optional<ProcessHandle> p = Optional.of(process); p.isPresent(); p = p.get().parent()) {
            if (excluded.contains(p.get().pid())) {
                return true;
            }
        }
        return false;
    }

    /**
     * A worker JVM's CPU seconds so far, by component: each thread's CPU time from its thread dump
     * ({@code jcmd <pid> Thread.print} prints every thread, the VM's own included, with {@code
     * cpu=}), grouped by name as in this JVM; with SerialGC the VM thread's time is its collections.
     * What no live thread accounts for (threads that ended) is "other". Empty when the dump fails.
     */
    static Map<String, Double> ofWorker(long pid) {
        Map<String, Double> out = new LinkedHashMap<>();
        ORDER.forEach(c -> out.put(c, 0.0));
        out.put(HARNESS, 0.0);
        double total = ProcessStats.cpuSecondsOf(pid);
        List<String> dump;
        try {
            Process jcmd = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "jcmd").toString(), Long.toString(pid),
                    "Thread.print").redirectErrorStream(true).start();
            try (var in = jcmd.getInputStream()) {
                dump = new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8).lines().toList();
            }
            if (jcmd.waitFor() != 0) {
                return Map.of();
            }
        } catch (IOException e) {
            return Map.of();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Map.of();
        }
        double threads = 0;
        for (String line : dump) {
            java.util.regex.Matcher m = DUMPED_THREAD.matcher(line);
            if (!m.find()) {
                continue;
            }
            double seconds = Double.parseDouble(m.group(2).replace(',', '.')) / 1000;
            out.merge(workerComponent(m.group(1)), seconds, Double::sum);
            threads += seconds;
        }
        out.merge(JVM_OTHER, Math.max(0, total - threads), Double::sum);
        out.remove(BROKER);
        out.remove(POSTGRES);
        out.remove(REDIS);
        return out;
    }

    private static final java.util.regex.Pattern DUMPED_THREAD = java.util.regex.Pattern.compile("^\"(.*)\" .*?\\bcpu=([0-9.,]+)ms");

    /** The component a worker's thread works for (a worker runs no broker: unnamed threads are "other"). */
    static String workerComponent(String thread) {
        if (thread.equals("lethe-http") || thread.equals("Attach Listener")) {
            return HARNESS;
        }
        if (thread.startsWith("GC Thread") || thread.startsWith("G1 ") || thread.equals("VM Thread") || thread.startsWith("VM Periodic")) {
            return GC;
        }
        if (thread.startsWith("C1 CompilerThre") || thread.startsWith("C2 CompilerThre")) {
            return JIT;
        }
        String component = thread.contains(" | ") || !thread.startsWith("kafka-") ? component(thread) : null;
        return component == null || component.equals(BROKER) ? JVM_OTHER : component;
    }

    /** CPU seconds of this JVM's native threads whose name starts with one of {@code prefixes} (from /proc/self/task). */
    private static double nativeThreads(String... prefixes) {
        double total = 0;
        try (Stream<Path> tasks = Files.list(Path.of("/proc/self/task"))) {
            for (Path task : (Iterable<Path>) tasks::iterator) {
                String name = commandName(task.resolve("stat"));
                for (String prefix : prefixes) {
                    if (name.startsWith(prefix)) {
                        total += ProcessStats.cpuSecondsOf(task.resolve("stat"));
                        break;
                    }
                }
            }
        } catch (IOException | RuntimeException e) {
            return 0;
        }
        return total;
    }

    /** {@code after - before}, by component. */
    static Map<String, Double> between(Map<String, Double> before, Map<String, Double> after) {
        Map<String, Double> out = new LinkedHashMap<>();
        after.forEach((k, v) -> out.put(k, Math.max(0, v - before.getOrDefault(k, 0.0))));
        return out;
    }

    /** The component a JVM thread works for, or null for "other" (counted through the process total). */
    static String component(String thread) {
        String t = thread.toLowerCase(Locale.ROOT);
        int client = t.indexOf(" | ");
        if (client >= 0) {
            // a Kafka client's own thread ("kafka-producer-network-thread | <client id or group>")
            String id = t.substring(client + 3);
            return id.contains("capture") ? CAPTURE : id.contains("streams") ? STREAMS : id.contains("region") ? REGIONS : null;
        }
        if (t.contains("debezium") || t.startsWith("lethe-capture")) {
            return CAPTURE;
        }
        if (t.contains("streamthread")) {
            return STREAMS;
        }
        if (t.startsWith("lethe-region") || t.startsWith("lettuce")) {
            return REGIONS;
        }
        if (t.startsWith("data-plane") || t.startsWith("kafka-") || t.startsWith("group-coordinator") || t.startsWith("quorum")
                || t.startsWith("broker-") || t.startsWith("controller-") || t.contains("raft") || t.startsWith("expirationreaper")
                || t.startsWith("logdirfailurehandler") || t.startsWith("transactionmarker") || t.startsWith("share-coordinator")) {
            return BROKER;
        }
        return null;
    }

    private static String commandName(long pid) {
        return commandName(Path.of("/proc", Long.toString(pid), "stat"));
    }

    private static String commandName(Path statFile) {
        try {
            String stat = Files.readString(statFile);
            return stat.substring(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
        } catch (IOException | RuntimeException e) {
            return "";
        }
    }
}
