package io.lethe.dev;

import io.lethe.cli.Lethe;
import java.util.List;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The repository's {@code ./lethe}: the product's commands ({@link Lethe#COMMANDS}) plus demo,
 * verify and bench, which start the embedded servers (PostgreSQL, Kafka, Redis from Maven
 * artifacts). Never shipped in the product distribution or the image.
 */
@Command(name = "lethe", mixinStandardHelpOptions = true, versionProvider = Lethe.Version.class, description = "Keeps regional Redis caches coherent with a PostgreSQL primary (with the development commands).")
public final class LetheDev implements Runnable {

    public static void main(String[] args) {
        System.exit(commandLine(new LetheDev()).execute(args));
    }

    /** demo first, the product's commands, then verify and bench. */
    static CommandLine commandLine(LetheDev top) {
        return Lethe.commandLine(top, List.of(DemoCommand.class), List.of(VerifyCommand.class, BenchCommand.class));
    }

    @Override
    public void run() {
        commandLine(this).usage(System.out);
    }
}
