package io.lethe.embedded;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * A Java process started from this JVM's own class path, so a test or {@code lethe verify} can
 * run a stage in a process of its own and kill it for real ({@code kill -9}), not close it.
 */
public final class ChildJvm implements AutoCloseable {
    /**
     * JVM options given to every child before its own, separated by spaces: the test JVMs set
     * {@code -XX:TieredStopAtLevel=1} (the parent POM's argLine), so a stage started to be killed
     * a few seconds later spends no CPU in C2 on a small machine; {@code lethe verify} and the
     * benchmarks, which do not set it, run their children with the JVM's defaults.
     */
    public static final String OPTIONS_PROPERTY = "lethe.child-jvm.options";

    /**
     * Children still running, killed when this JVM exits (a SIGTERM, or an exit without close): a
     * child never outlives the process that started it, except one killed -9.
     */
    private static final Set<Process> LIVE = ConcurrentHashMap.newKeySet();

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(() -> LIVE.forEach(Process::destroyForcibly), "lethe-child-jvm-reaper"));
    }

    private final String name;
    private final Process process;
    private final Path log;

    private ChildJvm(String name, Process process, Path log) {
        this.name = name;
        this.process = process;
        this.log = log;
    }

    /**
     * Starts {@code mainClass} with {@code args}; its output goes to {@code log}.
     *
     * @param jvmOptions extra JVM options, e.g. {@code -Xmx256m} (after those of {@link #OPTIONS_PROPERTY})
     */
    public static ChildJvm start(String name, String mainClass, List<String> args, List<String> jvmOptions, Path log) {
        List<String> command = new ArrayList<>();
        command.add(Paths.get(System.getProperty("java.home"), "bin", "java").toString());
        for (String option : System.getProperty(OPTIONS_PROPERTY, "").trim().split("\\s+")) {
            if (!option.isEmpty()) {
                command.add(option);
            }
        }
        command.addAll(jvmOptions);
        command.add("-Djava.io.tmpdir=" + System.getProperty("java.io.tmpdir"));
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add(mainClass);
        command.addAll(args);
        try {
            Files.createDirectories(log.toAbsolutePath().getParent());
            Process p = new ProcessBuilder(command).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
            LIVE.add(p);
            p.onExit().thenRun(() -> LIVE.remove(p));
            return new ChildJvm(name, p, log);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start " + name + " (" + mainClass + ")", e);
        }
    }

    public String name() {
        return name;
    }

    public long pid() {
        return process.pid();
    }

    public boolean isAlive() {
        return process.isAlive();
    }

    public Path log() {
        return log;
    }

    /** SIGKILL: no shutdown hook runs, nothing is flushed or committed. */
    public void kill() {
        process.destroyForcibly();
        await(Duration.ofSeconds(30));
    }

    /** SIGTERM: shutdown hooks run. */
    public void stop(Duration grace) {
        process.destroy();
        if (!await(grace)) {
            kill();
        }
    }

    public boolean await(Duration timeout) {
        try {
            return process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /**
     * Waits until the child's output contains {@code line}; fails with the output's tail if the
     * child exits first or {@code timeout} passes.
     */
    public void awaitOutput(String line, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!output().contains(line)) {
            if (!isAlive() || System.nanoTime() > deadline) {
                throw new IllegalStateException(name + " did not print " + line + " within " + timeout + ":\n" + tail(40));
            }
            Thread.sleep(50);
        }
    }

    private String output() {
        try {
            return Files.exists(log) ? Files.readString(log) : "";
        } catch (IOException e) {
            return "";
        }
    }

    /** The last lines of the child's output, for failure messages. */
    public String tail(int lines) {
        try {
            List<String> all = Files.readAllLines(log);
            return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
        } catch (IOException e) {
            return "(no output: " + e + ")";
        }
    }

    @Override
    public void close() {
        if (process.isAlive()) {
            kill();
        }
    }
}
