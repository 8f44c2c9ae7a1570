package io.lethe.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code lethe} command of the product distribution: run, config, doctor, invalidate, lag and
 * dlq. The repository's {@code ./lethe} adds demo, verify and bench (the dev module, which carries
 * the embedded servers and the benchmarks).
 */
@Command(name = "lethe", mixinStandardHelpOptions = true, versionProvider = Lethe.Version.class,
        description = "Keeps regional Redis caches coherent with a PostgreSQL primary.",
        subcommands = {RunCommand.class, ConfigCommand.class, DoctorCommand.class, InvalidateCommand.class, LagCommand.class, PrewarmCommand.class, InspectCommand.class, TopicsCommand.class,
                DlqCommand.class, CommandLine.HelpCommand.class})
public final class Lethe implements Runnable {

    public static void main(String[] args) {
        LogFormat.apply(System.getenv());
        int code = new CommandLine(new Lethe()).setCaseInsensitiveEnumValuesAllowed(true).execute(args);
        System.exit(code);
    }

    @Override
    public void run() {
        new CommandLine(this).usage(System.out);
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
