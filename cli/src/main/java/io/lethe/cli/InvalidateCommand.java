package io.lethe.cli;

import io.lethe.config.KafkaRole;
import io.lethe.config.LetheConfig;
import io.lethe.config.invalidate.ManualInvalidations;
import io.lethe.stage.kafka.TopicSetup;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code lethe invalidate}: a manual purge through the pipeline ({@link ManualInvalidations}, which
 * cache-client's {@code Invalidations} uses too). The request goes to {@code <prefix>.invalidation-requests}
 * with a version at least the primary's current LSN, so it removes whatever is cached now;
 * invalidation-streams routes it to the public topic and to every region that may cache the target,
 * as the configuration it runs says. It returns once Kafka acknowledged the request.
 */
@Command(name = "invalidate", mixinStandardHelpOptions = true, description = "Purge a key or a pattern in every region that caches the namespace, through the pipeline.")
public final class InvalidateCommand implements Callable<Integer> {
    /** How long creating or checking a missing invalidation topic may take before the purge fails. */
    private static final Duration TOPIC_SETUP_TIMEOUT = Duration.ofSeconds(30);

    @Mixin
    ConfigFile config;

    @Option(names = "--namespace", required = true, description = "the namespace the keys belong to")
    String namespace;

    @ArgGroup(exclusive = true, multiplicity = "1")
    Target target;

    static final class Target {
        @Option(names = "--key", description = "one cache key")
        String key;

        @Option(names = "--pattern", description = "a Redis glob, e.g. 'product:4*'")
        String pattern;
    }

    @Option(names = "--force", description = "allow a pattern that matches everything or the namespace's whole key space")
    boolean force;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        LetheConfig cfg = config.loadOrReport();
        if (cfg == null) {
            return ConfigFile.INVALID;
        }
        ManualInvalidations.Published published;
        try (ManualInvalidations invalidations = new ManualInvalidations(cfg, KafkaRole.CLI,
                topics -> TopicSetup.ensure(cfg, KafkaRole.CLI, topics, TOPIC_SETUP_TIMEOUT))) {
            published = target.pattern != null
                    ? invalidations.pattern(namespace, target.pattern, force)
                    : invalidations.key(namespace, target.key);
        } catch (ManualInvalidations.Refused e) {
            spec.commandLine().getErr().println(e.getMessage());
            return 2;
        }
        spec.commandLine().getOut().printf("published %s invalidation of %s (namespace %s, version %s) to %s; invalidation-streams "
                + "routes it to the regions (lethe lag shows how far each is)%n",
                published.scope().code(), published.target(), namespace, published.version(), published.topics());
        spec.commandLine().getOut().flush();
        return 0;
    }
}
