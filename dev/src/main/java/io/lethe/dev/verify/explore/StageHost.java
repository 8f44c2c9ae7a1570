package io.lethe.dev.verify.explore;

import io.lethe.dev.verify.Stages;
import io.lethe.config.LetheConfig;
import io.lethe.pipeline.Pipeline;
import io.lethe.pipeline.Roles;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Where an explore run's stages run: each in a pipeline of its own in this process (fast to
 * start, stopped by closing), or each in a child process of its own when the program kills
 * stages ({@code kill -9} needs a process). Roles: {@code capture}, {@code streams},
 * {@code region:<name>}; started consumers first, as {@link Pipeline} does.
 */
interface StageHost extends AutoCloseable {
    void startAll() throws Exception;

    /** Stops a stage as an operator would (it closes what it holds) and starts it again. */
    void restart(String role) throws Exception;

    /** kill -9 of a stage, then starts it again. */
    void kill(String role) throws Exception;

    /**
     * Stops a stage and leaves it down: {@code kill} is a kill -9 (processes only), else it closes what
     * it holds as an operator's stop would. Does nothing to a stage that is not running.
     */
    void stop(String role, boolean kill) throws Exception;

    /**
     * Starts a stage that is not running (as {@link #startAll} does for each); does nothing to one
     * that runs. After {@link #close} it throws {@link IllegalStateException}: nothing would stop
     * what it started.
     */
    void start(String role) throws Exception;

    /**
     * The configuration the next starts run with ({@code yaml} is its lethe.yml); called while every
     * stage is stopped (the regions stay the same).
     */
    void reconfigure(LetheConfig config, String yaml) throws java.io.IOException;

    @Override
    void close();

    static List<String> roles(LetheConfig config) {
        List<String> roles = new ArrayList<>();
        config.regions().keySet().forEach(r -> roles.add("region:" + r));
        roles.add("streams");
        roles.add("capture");
        return roles;
    }

    /** Each stage a {@link Pipeline} of its own in this process. */
    final class InProcess implements StageHost {
        private LetheConfig config;
        private final Map<String, Pipeline> running = new LinkedHashMap<>();
        private boolean closed;

        InProcess(LetheConfig config) {
            this.config = config;
        }

        @Override
        public void startAll() throws Exception {
            for (String role : roles(config)) {
                start(role);
            }
        }

        @Override
        public void start(String role) throws InterruptedException {
            if (closed) {
                throw new IllegalStateException("the stages are closed: " + role + " is not started again");
            }
            if (running.containsKey(role)) {
                return;
            }
            Roles roles = switch (role) {
                case "capture" -> new Roles(true, false, List.of());
                case "streams" -> new Roles(false, true, List.of());
                default -> new Roles(false, false, List.of(role.substring("region:".length())));
            };
            // a registry per start: a stage started again registers its meters afresh
            running.put(role, Pipeline.start(config, roles, new SimpleMeterRegistry(), Clock.systemUTC()));
        }

        @Override
        public void restart(String role) throws Exception {
            Pipeline p = running.remove(role);
            if (p != null) {
                p.close();
            }
            start(role);
        }

        @Override
        public void kill(String role) throws Exception {
            throw new UnsupportedOperationException("stages in this process cannot be killed; the kill feature runs them as processes");
        }

        @Override
        public void stop(String role, boolean kill) throws Exception {
            if (kill) {
                kill(role);
            }
            Pipeline p = running.remove(role);
            if (p != null) {
                p.close();
            }
        }

        @Override
        public void reconfigure(LetheConfig newConfig, String yaml) {
            if (!running.isEmpty()) {
                throw new IllegalStateException("reconfigured while " + running.keySet() + " run");
            }
            config = newConfig;
        }

        @Override
        public void close() {
            closed = true;
            List<String> order = new ArrayList<>(running.keySet());
            java.util.Collections.reverse(order); // capture first, as Pipeline.close
            for (String role : order) {
                running.remove(role).close();
            }
        }
    }

    /** Each stage a {@code lethe run --role} process of its own (see {@link Stages}). */
    final class Processes implements StageHost {
        private final Stages stages;
        private final Path configFile;
        private boolean closed;

        Processes(LetheConfig config, Path configFile, Path logs) {
            this.stages = new Stages(configFile, logs, roles(config));
            this.configFile = configFile;
        }

        @Override
        public void reconfigure(LetheConfig config, String yaml) throws java.io.IOException {
            for (String role : roles(config)) {
                if (stages.isRunning(role)) {
                    throw new IllegalStateException("reconfigured while " + role + " runs");
                }
            }
            java.nio.file.Files.writeString(configFile, yaml); // the file each stage's process reads at its start
        }

        @Override
        public void startAll() throws Exception {
            open();
            stages.startAll();
        }

        @Override
        public void restart(String role) throws Exception {
            stages.stop(role);
            start(role);
        }

        @Override
        public void kill(String role) throws Exception {
            stages.kill(role);
            start(role);
        }

        @Override
        public void stop(String role, boolean kill) {
            if (kill) {
                stages.kill(role);
            } else {
                stages.stop(role);
            }
        }

        @Override
        public void start(String role) throws InterruptedException {
            open();
            if (stages.isRunning(role)) {
                return; // a second process of the role would take over its port and outlive close()
            }
            stages.start(role);
        }

        private void open() {
            if (closed) {
                throw new IllegalStateException("the stages are closed: no stage process is started again");
            }
        }

        @Override
        public void close() {
            closed = true;
            stages.close();
        }
    }
}
