package io.lethe.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class ProgressTest {
    @Test
    void withoutATerminalItPrintsPlainLinesAtMostEveryTenSecondsAndTheLastStateAtTheEnd() {
        StringWriter text = new StringWriter();
        AtomicLong now = new AtomicLong(1_000);
        Progress p = new Progress(new PrintWriter(text), false, now::get);
        p.update("1/100");
        now.addAndGet(3_000);
        p.update("2/100");
        now.addAndGet(7_000);
        p.update("50/100");
        now.addAndGet(1_000);
        p.update("100/100");
        p.end();
        assertEquals(String.join(System.lineSeparator(), "1/100", "50/100", "100/100", ""), text.toString());
    }

    @Test
    void onATerminalItRedrawsOneLine() {
        StringWriter text = new StringWriter();
        Progress p = new Progress(new PrintWriter(text), true, () -> 0);
        p.update("1/2");
        p.update("2/2");
        p.end();
        assertEquals("\r1/2   \r2/2   " + System.lineSeparator(), text.toString());
    }
}
