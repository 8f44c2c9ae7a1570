package io.lethe.capture;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.lethe.config.LetheConfig;
import io.lethe.embedded.LetheStack;
import io.lethe.embedded.junit.LetheStackExtension;
import io.lethe.embedded.junit.TestScope;
import io.lethe.schemas.ChangeEvent;
import io.lethe.schemas.Op;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * PostgreSQL does not send an unchanged TOASTed value in an UPDATE, and Debezium puts a
 * placeholder there whose shape depends on the column's type (a string, its bytes, a list of
 * one string, a list of the bytes as numbers, a map). Lethe must recognise every shape: one it
 * took for a real value would render a wrong key, or be written into the cache as a payload.
 */
@ExtendWith(LetheStackExtension.class)
class ToastPlaceholderIT {
    /** Column name → its type; every value is made larger than a TOAST page and stored uncompressed. */
    private static final Map<String, String> TYPES = new LinkedHashMap<>();

    static {
        TYPES.put("t", "text");
        TYPES.put("ta", "text[]");
        TYPES.put("ia", "int[]");
        TYPES.put("ba", "bigint[]");
        TYPES.put("j", "jsonb");
        TYPES.put("b", "bytea");
        TYPES.put("h", "hstore");
    }

    @Test
    void anUnchangedToastedValueOfEveryTypeArrivesAsTheUnavailableMarker(LetheStack stack, TestScope scope) throws Exception {
        CaptureFixture f = new CaptureFixture(stack, scope);
        StringBuilder create = new StringBuilder("CREATE TABLE docs (id int PRIMARY KEY, n int");
        TYPES.forEach((column, type) -> create.append(", ").append(column).append(' ').append(type));
        f.sql("CREATE EXTENSION IF NOT EXISTS hstore", create.append(')').toString());
        for (String column : TYPES.keySet()) {
            f.sql("ALTER TABLE docs ALTER COLUMN " + column + " SET STORAGE EXTERNAL");
        }
        f.sql("""
                INSERT INTO docs SELECT 1, 0,
                  string_agg(md5(i::text), ''),
                  array_agg(md5(i::text)),
                  array_agg(i),
                  array_agg(i::bigint),
                  jsonb_object_agg('k' || i, md5(i::text)),
                  decode(string_agg(md5(i::text), ''), 'hex'),
                  hstore(array_agg('k' || i), array_agg(md5(i::text)))
                FROM generate_series(1, 2000) i
                """);
        LetheConfig config = f.config("""
                doc:
                  table: public.docs
                  keys: ["doc:{id}"]
                  mode: upsert
                  payload-columns: [n, t, ta, ia, ba, j, b, h]
                """);
        try (CaptureService capture = new CaptureService(config, new SimpleMeterRegistry(), Clock.systemUTC())) {
            capture.start();
            f.sql("UPDATE docs SET n = 1 WHERE id = 1");
            List<ChangeEvent> events = f.readChangesUntil(CaptureFixture.row("docs", 1), Duration.ofSeconds(60));
            ChangeEvent update = events.get(events.size() - 1);
            assertEquals(Op.UPDATE, update.op());
            assertEquals(1, ((Number) update.after().get("n")).intValue());
            Map<String, Object> notMarked = new LinkedHashMap<>();
            for (String column : TYPES.keySet()) {
                Object value = update.after().get(column);
                if (!ChangeEvent.UNAVAILABLE_VALUE.equals(value)) {
                    notMarked.put(column + " (" + TYPES.get(column) + ")", abbreviate(value));
                }
            }
            assertEquals(Map.of(), notMarked, "every unchanged TOASTed column must be marked unavailable");
        }
    }

    private static String abbreviate(Object value) {
        String s = String.valueOf(value);
        return s.length() > 80 ? s.substring(0, 80) + "..." : s;
    }
}
