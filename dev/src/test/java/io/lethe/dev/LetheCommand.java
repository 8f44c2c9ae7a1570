package io.lethe.dev;

import java.io.PrintWriter;
import java.io.StringWriter;
import picocli.CommandLine;

/** Runs {@code ./lethe} (the product's commands and the dev ones) in this JVM, capturing what it prints. */
final class LetheCommand {
    record Result(int exit, String out, String err) {
    }

    private LetheCommand() {
    }

    static Result lethe(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cli = LetheDev.commandLine(new LetheDev());
        cli.setOut(new PrintWriter(out));
        cli.setErr(new PrintWriter(err));
        int exit = cli.execute(args);
        return new Result(exit, out.toString(), err.toString());
    }
}
