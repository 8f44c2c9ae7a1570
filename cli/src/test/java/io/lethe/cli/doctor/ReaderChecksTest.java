package io.lethe.cli.doctor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lethe.capture.source.CheckResult;
import io.lethe.capture.source.CheckResult.Status;
import io.lethe.config.ConfigLoader;
import io.lethe.config.LetheConfig;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The reader role's checks that need no database: a sweep reading as capture's role, and a role that cannot log in. */
class ReaderChecksTest {
    private static LetheConfig config(String source, String apply) {
        return ConfigLoader.parse("lethe.yml", """
                source: { jdbc-url: "jdbc:postgresql://127.0.0.1:9/shop", user: lethe%s }
                kafka: { bootstrap-servers: "127.0.0.1:9092" }
                apply: { %s }
                regions: { eu: { redis: "redis://127.0.0.1:6379" } }
                namespaces: { products: { table: public.products, keys: [ "product:{id}" ] } }
                """.formatted(source, apply), name -> null);
    }

    @Test
    void noReaderRoleIsAWarningThatTheSweepDoesNotRunWithTheFix() {
        List<CheckResult> results = ReaderChecks.run(config("", ""));
        CheckResult role = results.get(0);
        assertEquals(Status.WARN, role.status(), role.toString());
        assertTrue(role.message().contains("every region's sweep does not run") && role.message().contains("REPLICATION"),
                role.message());
        assertTrue(role.fix().contains("source.reader-user"), role.fix());
        CheckResult grants = results.get(1);
        assertEquals(Status.FAIL, grants.status(), "nothing listens on port 9: " + grants);
        assertTrue(grants.message().contains("as lethe"), grants.message());
    }

    @Test
    void aReaderRoleOfItsOwnIsNoWarning() {
        List<CheckResult> results = ReaderChecks.run(config(", reader-user: lethe_reader", "sweep: { enabled: false }"));
        assertEquals(1, results.size(), results.toString());
        assertTrue(results.get(0).message().contains("as lethe_reader"), results.get(0).message());
    }
}
