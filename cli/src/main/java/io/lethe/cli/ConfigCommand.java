package io.lethe.cli;

import io.lethe.config.ConfigException;
import io.lethe.config.ConfigLoader;
import io.lethe.config.ConfigReference;
import io.lethe.config.LetheConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code lethe config}: print the configuration reference or its JSON Schema, or check a file without starting anything. */
@Command(name = "config", mixinStandardHelpOptions = true, description = "Print the configuration reference, or check a lethe.yml.")
public final class ConfigCommand implements Callable<Integer> {
    @ArgGroup(exclusive = true, multiplicity = "1")
    What what;

    static final class What {
        @Option(names = "--reference", description = "print every setting with its default (markdown)")
        boolean reference;

        @Option(names = "--schema", description = "print the JSON Schema of lethe.yml (for editors)")
        boolean schema;

        @Option(names = "--check", description = "validate this file: every mistake, with its path")
        Path check;
    }

    @Option(names = "--against", paramLabel = "<running lethe.yml>", description = "with --check: say what the checked file would move next to this running configuration "
            + "(topics, namespaces received, wholesale invalidations); exit 1 when it moves something")
    Path against;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        if (against != null && what.check == null) {
            spec.commandLine().getErr().println("--against needs --check <new lethe.yml>");
            spec.commandLine().getErr().flush();
            return 2;
        }
        if (what.reference) {
            spec.commandLine().getOut().print(ConfigReference.markdown());
            spec.commandLine().getOut().flush();
            return 0;
        }
        if (what.schema) {
            spec.commandLine().getOut().print(io.lethe.config.ConfigSchema.json());
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
            if (against == null) {
                spec.commandLine().getOut().flush();
                return 0;
            }
            // a key both files take from the same ${VAR} resolves alike here, whatever each stage's environment holds
            io.lethe.config.ConfigChanges changes = io.lethe.config.ConfigChanges.between(ConfigLoader.load(against), config)
                    .withKeysFromEnvironment(Files.readString(against), Files.readString(what.check));
            spec.commandLine().getOut().printf("next to %s:%n", against);
            changes.lines().forEach(l -> spec.commandLine().getOut().printf("  %s%n", l));
            spec.commandLine().getOut().flush();
            return changes.moves() ? 1 : 0;
        } catch (ConfigException e) {
            spec.commandLine().getErr().println(e.getMessage());
            spec.commandLine().getErr().flush();
            return 2;
        } catch (IOException e) {
            spec.commandLine().getErr().println("cannot read: " + e.getMessage());
            spec.commandLine().getErr().flush();
            return 2;
        }
    }
}
