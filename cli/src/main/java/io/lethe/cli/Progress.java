package io.lethe.cli;

import java.io.PrintWriter;
import java.util.function.LongSupplier;

/**
 * A long command's progress on stderr: redrawn in place on a terminal, and as a plain line at most
 * every {@link #PLAIN_EVERY_MILLIS} ms otherwise (a CI log or {@code 2> file} would otherwise get
 * one endless line of carriage returns), with the last state printed at the end.
 */
final class Progress {
    static final long PLAIN_EVERY_MILLIS = 10_000;

    private final PrintWriter err;
    private final boolean terminal;
    private final LongSupplier millis;
    private long printedAt = Long.MIN_VALUE;
    private String pending;

    Progress(PrintWriter err, boolean terminal, LongSupplier millis) {
        this.err = err;
        this.terminal = terminal;
        this.millis = millis;
    }

    /**
     * On stderr of this process: redrawn when the JVM's console is a terminal ({@code
     * Console.isTerminal()} from JDK 22, where a console exists even when redirected; before, a
     * console exists only when stdin and stdout are terminals). {@code LETHE_PROGRESS=plain}
     * forces plain lines (e.g. {@code 2> file} with stdout on a terminal).
     */
    static Progress onStderr(PrintWriter err) {
        return new Progress(err, !"plain".equals(System.getenv("LETHE_PROGRESS")) && isTerminal(), System::currentTimeMillis);
    }

    private static boolean isTerminal() {
        java.io.Console console = System.console();
        if (console == null) {
            return false;
        }
        try {
            return (Boolean) java.io.Console.class.getMethod("isTerminal").invoke(console);
        } catch (ReflectiveOperationException beforeJdk22) {
            return true;
        }
    }

    void update(String line) {
        if (terminal) {
            err.print("\r" + line + "   ");
            err.flush();
            return;
        }
        long now = millis.getAsLong();
        if (printedAt == Long.MIN_VALUE || now - printedAt >= PLAIN_EVERY_MILLIS) {
            err.println(line);
            err.flush();
            printedAt = now;
            pending = null;
        } else {
            pending = line;
        }
    }

    /** Ends the progress: the line is finished on a terminal; otherwise the last state not yet printed is. */
    void end() {
        if (terminal) {
            err.println();
        } else if (pending != null) {
            err.println(pending);
            pending = null;
        }
        err.flush();
    }
}
