package io.lethe.cli;

import java.util.List;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code lethe} command of the product distribution: run, config, doctor, invalidate, lag,
 * prewarm, inspect, topics and dlq ({@link #COMMANDS}, the one list of them). The repository's
 * {@code ./lethe} ({@code io.lethe.dev.LetheDev} in the dev module, which carries the embedded
 * servers and the benchmarks) is this list extended by demo, verify and bench.
 */
@Command(name = "lethe", mixinStandardHelpOptions = true, versionProvider = Lethe.Version.class, description = "Keeps regional Redis caches coherent with a PostgreSQL primary.")
public final class Lethe implements Runnable {

    /** The product's subcommands, in the order help lists them; {@code help} is added after them. */
    public static final List<Class<?>> COMMANDS = List.of(RunCommand.class, ConfigCommand.class, DoctorCommand.class,
            InvalidateCommand.class, LagCommand.class, PrewarmCommand.class, InspectCommand.class, TopicsCommand.class,
            DlqCommand.class);

    public static void main(String[] args) {
        LogFormat.apply(System.getenv());
        System.exit(commandLine(new Lethe()).execute(args));
    }

    /**
     * The command line of {@code top} (a {@code lethe} command: this one, or the dev module's): its
     * subcommands are {@code first}, the product's {@link #COMMANDS}, {@code last}, then {@code help}.
     */
    public static CommandLine commandLine(Object top, List<Class<?>> first, List<Class<?>> last) {
        CommandLine line = new CommandLine(top);
        first.forEach(line::addSubcommand);
        COMMANDS.forEach(line::addSubcommand);
        last.forEach(line::addSubcommand);
        line.addSubcommand(CommandLine.HelpCommand.class);
        return line.setCaseInsensitiveEnumValuesAllowed(true);
    }

    /** The product's command line: {@link #COMMANDS} and {@code help}. */
    public static CommandLine commandLine(Lethe top) {
        return commandLine(top, List.of(), List.of());
    }

    @Override
    public void run() {
        commandLine(this).usage(System.out);
    }

    /** The version of this build, from the jar's manifest. */
    public static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = Lethe.class.getPackage().getImplementationVersion();
            return new String[] {"lethe " + (v == null ? "development build" : v)};
        }
    }
}
