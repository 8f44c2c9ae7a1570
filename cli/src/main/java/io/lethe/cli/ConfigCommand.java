package io.lethe.cli;

import io.lethe.config.ConfigException;
import io.lethe.config.ConfigLoader;
import io.lethe.config.ConfigReference;
import io.lethe.config.LetheConfig;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code lethe config}: print the configuration reference, or check a file without starting anything. */
@Command(name = "config", mixinStandardHelpOptions = true, description = "Print the configuration reference, or check a lethe.yml.")
public final class ConfigCommand implements Callable<Integer> {
    @ArgGroup(exclusive = true, multiplicity = "1")
    What what;

    static final class What {
        @Option(names = "--reference", description = "print every setting with its default (markdown)")
        boolean reference;

        @Option(names = "--check", description = "validate this file: every mistake, with its path")
        Path check;
    }

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        if (what.reference) {
            spec.commandLine().getOut().print(ConfigReference.markdown());
            spec.commandLine().getOut().flush();
            return 0;
        }
        try {
            LetheConfig config = ConfigLoader.load(what.check);
            spec.commandLine().getOut().printf("%s is valid: %d namespaces, regions %s%n", what.check, config.namespaces().size(),
                    config.regions().keySet());
            // which topic each region reads: shared by regions with the same subscriptions, the public one for all of them
            config.regions().keySet().forEach(r -> spec.commandLine().getOut().printf("  region %s reads %s%n", r,
                    config.topics().invalidations(r)));
            spec.commandLine().getOut().flush();
            return 0;
        } catch (ConfigException e) {
            spec.commandLine().getErr().println(e.getMessage());
            spec.commandLine().getErr().flush();
            return 2;
        }
    }
}
