package io.lethe.dev;

import io.lethe.cli.BenchCommand;
import io.lethe.cli.ConfigCommand;
import io.lethe.cli.DemoCommand;
import io.lethe.cli.DlqCommand;
import io.lethe.cli.DoctorCommand;
import io.lethe.cli.InspectCommand;
import io.lethe.cli.InvalidateCommand;
import io.lethe.cli.LagCommand;
import io.lethe.cli.PrewarmCommand;
import io.lethe.cli.Lethe;
import io.lethe.cli.RunCommand;
import io.lethe.cli.VerifyCommand;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The repository's {@code ./lethe}: the product's commands plus demo, verify and bench, which
 * start the embedded servers (PostgreSQL, Kafka, Redis from Maven artifacts). Never shipped in the
 * product distribution or the image.
 */
@Command(name = "lethe", mixinStandardHelpOptions = true, versionProvider = Lethe.Version.class,
        description = "Keeps regional Redis caches coherent with a PostgreSQL primary (with the development commands).",
        subcommands = {DemoCommand.class, RunCommand.class, ConfigCommand.class, DoctorCommand.class, InvalidateCommand.class,
                LagCommand.class, DlqCommand.class, PrewarmCommand.class, InspectCommand.class, VerifyCommand.class, BenchCommand.class, CommandLine.HelpCommand.class})
public final class LetheDev implements Runnable {

    public static void main(String[] args) {
        int code = new CommandLine(new LetheDev()).setCaseInsensitiveEnumValuesAllowed(true).execute(args);
        System.exit(code);
    }

    @Override
    public void run() {
        new CommandLine(this).usage(System.out);
    }
}
