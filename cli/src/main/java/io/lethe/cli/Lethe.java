package io.lethe.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code lethe} command. */
@Command(name = "lethe", mixinStandardHelpOptions = true, versionProvider = Lethe.Version.class,
        description = "Keeps regional Redis caches coherent with a PostgreSQL primary.",
        subcommands = {DemoCommand.class, RunCommand.class, ConfigCommand.class, DoctorCommand.class, InvalidateCommand.class, LagCommand.class,
                DlqCommand.class, VerifyCommand.class, BenchCommand.class, CommandLine.HelpCommand.class})
public final class Lethe implements Runnable {

    public static void main(String[] args) {
        int code = new CommandLine(new Lethe()).setCaseInsensitiveEnumValuesAllowed(true).execute(args);
        System.exit(code);
    }

    @Override
    public void run() {
        new CommandLine(this).usage(System.out);
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = Lethe.class.getPackage().getImplementationVersion();
            return new String[] {"lethe " + (v == null ? "development build" : v)};
        }
    }
}
