package io.lethe.cli.doctor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lethe.capture.source.CheckResult;
import io.lethe.capture.source.CheckResult.Status;
import io.lethe.config.ConfigLoader;
import io.lethe.config.LetheConfig;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The DLQ holds row data: {@code lethe doctor} reports an existing DLQ that keeps it longer than {@code kafka.dlq-retention}. */
class DlqRetentionCheckTest {
    private static final LetheConfig CONFIG = ConfigLoader.parse("lethe.yml", """
            source: { jdbc-url: "jdbc:postgresql://127.0.0.1:5432/shop", user: lethe }
            kafka: { bootstrap-servers: "127.0.0.1:9092" }
            regions:
              us-east: { redis: "redis://127.0.0.1:6379" }
            namespaces:
              product: { table: public.products, keys: ["product:{id}"] }
            """, name -> null);

    @Test
    void aDlqKeptNoLongerThanConfiguredPasses() {
        assertEquals(Status.PASS, Doctor.dlqRetention(CONFIG, Duration.ofDays(3).toMillis()).status());
        assertEquals(Status.PASS, Doctor.dlqRetention(CONFIG, Duration.ofHours(1).toMillis()).status());
    }

    @Test
    void aDlqKeptLongerOrForeverIsReportedWithTheCommandThatFixesIt() {
        CheckResult week = Doctor.dlqRetention(CONFIG, Duration.ofDays(7).toMillis());
        assertEquals(Status.WARN, week.status());
        assertTrue(week.message().contains("lethe.dlq keeps records PT168H") && week.message().contains("kafka.dlq-retention (PT72H)"),
                week.message());
        assertTrue(week.fix().contains("--entity-name lethe.dlq --add-config retention.ms=259200000"), week.fix());
        CheckResult forever = Doctor.dlqRetention(CONFIG, -1);
        assertEquals(Status.WARN, forever.status());
        assertTrue(forever.message().contains("forever"), forever.message());
    }
}
