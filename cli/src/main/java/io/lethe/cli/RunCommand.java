package io.lethe.cli;

import io.lethe.capture.source.CaptureStartupException;
import io.lethe.cli.http.HttpEndpoint;
import io.lethe.pipeline.Pipeline;
import io.lethe.pipeline.Roles;

import io.lethe.config.LetheConfig;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.lethe.cli.metrics.MetricsExport;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Callable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code lethe run}: runs one or more stages against the servers named in the config. */
@Command(name = "run", mixinStandardHelpOptions = true, description = "Run pipeline stages (capture, streams, region consumers) from a config file.")
public final class RunCommand implements Callable<Integer> {
    private static final Logger LOG = LoggerFactory.getLogger(RunCommand.class);

    @Mixin
    ConfigFile config;

    @Option(names = "--role", split = ",", defaultValue = "all", description = "capture (every shard), capture:<shard> (with source.shards), streams, region:<name> (repeatable or comma-separated), "
            + "or all (default)")
    List<String> roles;

    @Option(names = "--http-port", description = "override http.port of the config (0 picks a free port)")
    Integer httpPort;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        LetheConfig cfg = config.loadOrReport();
        if (cfg == null) {
            return ConfigFile.INVALID;
        }
        Roles parsed;
        try {
            parsed = Roles.parse(roles, cfg);
        } catch (IllegalArgumentException e) {
            System.err.println(e.getMessage());
            return 2;
        }
        MetricsExport export = MetricsExport.start(cfg.metrics());
        io.lethe.cli.trace.TracingExport traces = io.lethe.cli.trace.TracingExport.start(cfg.tracing());
        MeterRegistry registry = export.registry();
        new JvmMemoryMetrics().bindTo(registry);
        new JvmGcMetrics().bindTo(registry);
        new ProcessorMetrics().bindTo(registry);
        CountDownLatch stop = new CountDownLatch(1);
        Pipeline pipeline;
        try {
            pipeline = Pipeline.start(cfg, parsed, registry, Clock.systemUTC(), traces.tracing());
        } catch (CaptureStartupException | io.lethe.stage.kafka.TopicsNotReadyException e) {
            export.close();
            traces.close();
            // every failed start-up check (or topic of a locked-down cluster) with its fix: what the operator needs, not a stack trace
            spec.commandLine().getErr().println(e.getMessage());
            spec.commandLine().getErr().flush();
            return 1;
        }
        int port = httpPort != null ? httpPort : cfg.http().port();
        try (export;
                traces;
                HttpEndpoint http = new HttpEndpoint(cfg.http().host(), port, export.prometheus(), pipeline::health, pipeline::stopped)) {
            LOG.info("lethe run: roles {}; metrics and health on {}", parsed, http.url());
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                stop.countDown();
                pipeline.close();
            }, "lethe-shutdown"));
            while (!stop.await(1, java.util.concurrent.TimeUnit.SECONDS)) {
                List<String> failures = pipeline.failures();
                if (!failures.isEmpty()) {
                    failures.forEach(f -> LOG.error("{}", f));
                    pipeline.close();
                    return 1;
                }
            }
        }
        return 0;
    }
}
