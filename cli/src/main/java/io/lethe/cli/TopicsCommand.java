package io.lethe.cli;

import io.lethe.config.LetheConfig;
import io.lethe.stage.kafka.KafkaResources;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code lethe topics --print strimzi|kafka-cli}: what an administrator creates for a cluster where
 * Lethe may not create topics ({@code kafka.create-topics: false}), from the same code that creates
 * and checks them; {@code --print mirror-maker}: MirrorMaker 2's configuration for the regions that
 * read a cluster of their own (docs/multi-region.md).
 */
@Command(name = "topics", mixinStandardHelpOptions = true, description = "Print every topic this configuration needs, with the settings Lethe would create it with: as Strimzi "
        + "KafkaTopic resources (with a KafkaUser per role holding its least-privilege ACLs) or as kafka-topics.sh lines.")
public final class TopicsCommand implements Callable<Integer> {
    @Mixin
    ConfigFile config;

    @Option(names = "--print", required = true, description = "strimzi, kafka-cli or mirror-maker (MirrorMaker 2's configuration "
            + "for the regions that read a cluster of their own)")
    String format;

    @Option(names = "--cluster", defaultValue = "kafka", description = "Strimzi's Kafka cluster (label strimzi.io/cluster); default ${DEFAULT-VALUE}")
    String cluster;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        LetheConfig cfg = config.loadOrReport();
        if (cfg == null) {
            return ConfigFile.INVALID;
        }
        try {
            switch (format) {
                case "strimzi" -> out.print(KafkaResources.strimzi(cfg, cluster));
                case "kafka-cli" -> out.print(KafkaResources.kafkaCli(cfg));
                case "mirror-maker" -> out.print(KafkaResources.mirrorMaker(cfg));
                default -> {
                    spec.commandLine().getErr().println("--print " + format + ": expected one of " + KafkaResources.FORMATS);
                    return 2;
                }
            }
        } catch (IllegalArgumentException e) {
            spec.commandLine().getErr().println(e.getMessage());
            return 2;
        }
        out.flush();
        return 0;
    }
}
