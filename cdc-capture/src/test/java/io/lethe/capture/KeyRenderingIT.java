package io.lethe.capture;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.lethe.capture.source.CaptureStartupException;
import io.lethe.config.KeyTemplate;
import io.lethe.config.LetheConfig;
import io.lethe.embedded.LetheStack;
import io.lethe.embedded.junit.LetheStackExtension;
import io.lethe.embedded.junit.TestScope;
import io.lethe.schemas.ChangeEvent;
import io.lethe.schemas.Op;
import io.lethe.schemas.keys.KeyFormat;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The rendering rule, type by type: a key template renders a column as the text PostgreSQL
 * itself prints for it ({@code col::text} in a session with {@code TimeZone=UTC}), for the new
 * image (INSERT) and the old one (DELETE), at the corners of each type's text output. The key is
 * rendered from the change event exactly as invalidation-streams renders it
 * ({@code KeyTemplate.render} over {@code ChangeEvent.renderImage}).
 */
@ExtendWith(LetheStackExtension.class)
class KeyRenderingIT {
    /** Type id → its DDL and edge values (SQL literals). */
    static final Map<String, Case> CASES = new LinkedHashMap<>();

    record Case(String ddl, List<String> values) {
    }

    private static void add(String id, String ddl, String... values) {
        CASES.put(id, new Case(ddl, List.of(values)));
    }

    static {
        add("int2", "int2", "-32768", "0", "32767");
        add("int4", "int4", "-2147483648", "42");
        add("int8", "int8", "-9223372036854775808", "9223372036854775807");
        add("oid", "oid", "0", "4294967295");
        add("numeric", "numeric", "-1.5", "0.0000001", "1e20", "'NaN'", "123.4500", "-0.0", "'Infinity'", "'-Infinity'");
        add("numeric_scaled", "numeric(14,4)", "1.5", "-0.0001", "0", "9999999999.9999");
        add("float4", "float4", "1.5", "'-0'", "'NaN'", "'Infinity'", "'-Infinity'", "1e-5", "3.4e38", "0.1", "1/3.0", "100000", "1e6",
                "123456");
        add("float8", "float8", "0.1", "'-0'", "'NaN'", "'-Infinity'", "1e15", "1e16", "1e-4", "1e-5", "1/3.0", "1e-9", "1e300",
                "123456789012345", "2.2250738585072014e-308", "5e-324", "'1.7976931348623157e308'");
        add("text", "text", "'t 1 \"q'' \\ é'", "''", "'日本 語'", "'NULL'", "' lead'");
        add("varchar", "varchar(40)", "'v 1'", "'x''y'");
        add("char", "char(12)", "'c1'", "' c2 '", "''");
        add("name", "name", "'n1'", "'N x'");
        add("bool", "bool", "true", "false");
        add("uuid", "uuid", "'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11'");
        add("date", "date", "'1999-12-31'", "'infinity'", "'-infinity'", "'0044-03-15 BC'", "'10000-01-01'", "'1970-01-01'",
                "'5874897-12-31'",
                "'4713-01-01 BC'");
        add("time", "time", "'00:00'", "'23:59:59.999999'", "'24:00:00'", "'12:00:00.5'", "'01:02:03.000100'");
        add("timetz", "timetz", "'00:00:00+05:30'", "'12:00:00.25-08'");
        add("timestamp", "timestamp", "'2000-01-01 00:00:00.5'", "'infinity'", "'-infinity'", "'0044-03-15 12:00 BC'",
                "'1969-12-31 23:59:59.999999'", "'10000-01-01 00:00'", "'294276-12-31 23:59:59.999999'", "'4713-01-01 00:00 BC'");
        add("timestamptz", "timestamptz", "'2000-01-01 00:00:00.5+05:30'", "'infinity'", "'-infinity'", "'1900-01-01 00:00+00'",
                "'0044-03-15 12:00+00 BC'", "'2024-06-30 23:59:59.123456+00'", "'10000-01-01 00:00+00'", "'4713-01-01 00:00+00 BC'",
                "'294276-12-31 23:59:59.999999+00'");
        add("interval", "interval", "'1 year 2 mons -3 days 04:05:06.5'", "'-00:00:01'", "'0'", "'-1 year -2 mons'", "'3 days'",
                "'1 day -00:00:00.000001'");
        add("bytea", "bytea", "'\\x00ff10'", "'\\x'");
        add("inet", "inet", "'10.0.0.1'", "'10.0.0.0/8'", "'2001:db8::1'", "'::ffff:1.2.3.4'", "'192.168.1.5/24'");
        add("cidr", "cidr", "'10.0.0.0/24'", "'2001:db8::/32'", "'10.1.2.3/32'");
        add("macaddr", "macaddr", "'08:00:2B:01:02:03'");
        add("macaddr8", "macaddr8", "'08:00:2b:01:02:03:04:05'");
        add("jsonb", "jsonb", "'{\"b\": 1, \"a\":  \"x y\"}'", "'[1, \"é\", null]'");
        add("json", "json", "'{\"b\":1,   \"a\": \"x\"}'");
        add("enum", "render_mood", "'happy'", "'a b'");
        add("domain", "render_code", "'d-1'");
        add("domain_int", "render_positive", "7");
        add("int4_array", "int4[]", "'{1,-2,NULL}'", "'{}'", "'{{1,2},{3,4}}'");
        add("text_array", "text[]", "'{\"a b\",\"b,c\",\"NULL\",\"\",NULL}'", "ARRAY['q\"x', 'back\\slash', 'é']");
        add("int4range", "int4range", "'[1,4)'", "'empty'", "'(,5]'");
        add("bit", "bit(8)", "B'10101010'", "B'00000001'", "B'11110000'");
        add("varbit", "varbit", "B'101'", "B''", "B'1000000011'");
        add("pg_lsn", "pg_lsn", "'0/16B3748'", "'FFFFFFFF/FFFFFFFF'");
        add("point", "point", "'(1.5,-2)'", "'(0.1,1e20)'");
        add("xml", "xml", "'<x a=\"1\">é</x>'");
        add("money", "money", "1234.56", "-0.01");
        // the other precisions and shapes Debezium encodes differently
        add("time3", "time(3)", "'12:00:00.5'", "'23:59:59.999'", "'00:00'");
        add("timestamp3", "timestamp(3)", "'2000-01-01 00:00:00.125'", "'infinity'", "'-infinity'", "'1969-12-31 23:59:59.999'",
                "'0044-03-15 12:00 BC'");
        add("timestamptz0", "timestamptz(0)", "'2000-01-01 00:00:00+05:30'", "'infinity'");
        add("bit1", "bit(1)", "B'1'", "B'0'");
        add("bit12", "bit(12)", "B'100000000001'", "B'000000000000'");
        add("char1", "char(1)", "'x'", "' '");
        add("int8range", "int8range", "'[1,4)'", "'empty'");
        add("citext", "citext", "'Ann@Example.com'", "'x y'");
        add("numeric_big", "numeric(40,10)", "123456789012345678901234567890.0123456789", "-0.0000000001");
        // seeded random bit patterns: the shortest-digits search against PostgreSQL's own (Ryu)
        Random random = new Random(27);
        List<String> doubles = new ArrayList<>();
        List<String> floats = new ArrayList<>();
        while (doubles.size() < 150) {
            double d = Double.longBitsToDouble(random.nextLong());
            if (!Double.isNaN(d) && !Double.isInfinite(d)) {
                doubles.add("'" + d + "'");
            }
            double scaled = random.nextGaussian() * Math.pow(10, random.nextInt(40) - 20);
            doubles.add("'" + scaled + "'");
        }
        while (floats.size() < 150) {
            float f = Float.intBitsToFloat(random.nextInt());
            if (!Float.isNaN(f) && !Float.isInfinite(f)) {
                floats.add("'" + f + "'");
            }
        }
        // large integers, whose halfway points are integers too: where the tie rule shows
        for (int i = 0; i < 200; i++) {
            doubles.add("'" + (double) ((1L << 54) + (random.nextLong() & ((1L << 56) - 1))) * (random.nextBoolean() ? 1 : -1) + "'");
        }
        // powers of two, where the gap below is half the gap above
        for (int e = -1074; e <= 1023; e += 37) {
            doubles.add("'" + Math.scalb(1.0, e) + "'");
        }
        for (int e = -149; e <= 127; e += 7) {
            floats.add("'" + Math.scalb(1.0f, e) + "'");
        }
        add("float8_random", "float8", doubles.toArray(String[]::new));
        add("float4_random", "float4", floats.toArray(String[]::new));
    }

    /**
     * Values Debezium's encoding cannot carry: capture marks them unrenderable (streams then
     * invalidates the template's glob). A timestamp after 294247-01-10 overflows Debezium's microseconds.
     */
    static final Set<String> UNRENDERABLE = Set.of("timestamp#6");

    /** Types whose text cannot be rebuilt from what Debezium passes (PgTypes says why): refused at start-up. */
    static final Set<String> REFUSED = Set.of("money", "timetz", "interval", "varbit", "name", "pg_lsn",
            "int4_array", "text_array", "domain_numeric");

    @Test
    void aTemplateColumnWithoutDefinedRenderingIsRefusedAtStartUpWithTableColumnTypeAndFix(LetheStack stack, TestScope scope)
            throws Exception {
        CaptureFixture f = new CaptureFixture(stack, scope);
        f.sql("CREATE DOMAIN render_amount AS numeric");
        StringBuilder namespaces = new StringBuilder();
        Map<String, String> ddl = new LinkedHashMap<>();
        CASES.forEach((id, c) -> {
            if (REFUSED.contains(id)) {
                ddl.put(id, c.ddl());
            }
        });
        ddl.put("domain_numeric", "render_amount");
        for (Map.Entry<String, String> e : ddl.entrySet()) {
            String table = "x_" + e.getKey();
            f.sql("CREATE TABLE " + table + " (id int PRIMARY KEY, k " + e.getValue() + ")",
                    "ALTER TABLE " + table + " REPLICA IDENTITY FULL");
            namespaces.append(e.getKey()).append(":\n  table: public.").append(table).append("\n  keys: [\"x:").append(e.getKey())
                    .append(":{k}\"]\n");
        }
        LetheConfig config = f.config(namespaces.toString());
        CaptureStartupException refused = Assertions.assertThrows(
                CaptureStartupException.class, () -> {
                    try (CaptureService capture = new CaptureService(config, new SimpleMeterRegistry(), Clock.systemUTC())) {
                        capture.start();
                    }
                });
        Map<String, String> notRefused = new TreeMap<>();
        for (String id : ddl.keySet()) {
            String table = "public.x_" + id;
            String message = refused.failed().stream().filter(r -> r.check().equals("table " + table)).map(Object::toString)
                    .findFirst().orElse("");
            if (!message.contains("column " + table + ".k") || !message.contains("no defined key rendering") && !message.contains("array")
                    && !message.contains("domain over") || !message.contains("ALTER TABLE " + table + " ADD COLUMN k_key text")) {
                notRefused.put(id, message.isEmpty() ? "not refused" : message);
            }
        }
        assertEquals(Map.of(), notRefused,
                "every template column without a defined rendering must be refused with table, column, type and fix");
    }

    /**
     * Primary-key columns render from the event's key text too: a DELETE under REPLICA IDENTITY
     * DEFAULT carries nothing else.
     */
    @Test
    void primaryKeyColumnsRenderAsPostgresTextUnderReplicaIdentityDefault(LetheStack stack, TestScope scope) throws Exception {
        CaptureFixture f = new CaptureFixture(stack, scope);
        f.sql("CREATE TABLE pk (d date, f float8, b bytea, t timestamptz, n numeric, PRIMARY KEY (d, f, b, t, n))",
                "CREATE TABLE sentinel (id int PRIMARY KEY)");
        LetheConfig config = f.config("""
                pk:
                  table: public.pk
                  keys: ["pk:{d}:{f}:{b}:{t}:{n}"]
                  primary-key: [d, f, b, t, n]
                sentinel:
                  table: public.sentinel
                  keys: ["s:{id}"]
                """);
        String values = "('0044-03-15 BC', 1e-5, '\\x00ff', '2000-01-01 00:00:00.5+05:30', 'NaN'), "
                + "('infinity', '-0', '\\x', '-infinity', 1.50)";
        List<String> expected = new ArrayList<>();
        try (Connection c = f.connect(); Statement s = c.createStatement()) {
            s.execute("SET TimeZone = 'UTC'");
            try (ResultSet rs = s
                    .executeQuery("SELECT d::date::text, f::float8::text, b::bytea::text, t::timestamptz::text, n::numeric::text"
                            + " FROM (VALUES " + values + ") v(d, f, b, t, n)")) {
                while (rs.next()) {
                    StringBuilder key = new StringBuilder("pk");
                    for (int i = 1; i <= 5; i++) {
                        key.append(':').append(KeyFormat.escape(rs.getString(i)));
                    }
                    expected.add(key.toString());
                }
            }
            Collections.sort(expected);
        }
        try (CaptureService capture = new CaptureService(config, new SimpleMeterRegistry(), Clock.systemUTC())) {
            capture.start();
            f.sql("INSERT INTO pk SELECT d::date, f::float8, b::bytea, t::timestamptz, n::numeric FROM (VALUES " + values
                    + ") v(d, f, b, t, n)",
                    "DELETE FROM pk", "INSERT INTO sentinel VALUES (1)");
            List<ChangeEvent> events = f.readChangesUntil(CaptureFixture.row("sentinel", 1), Duration.ofSeconds(60));
            List<String> inserted = new ArrayList<>();
            List<String> deleted = new ArrayList<>();
            KeyTemplate template = KeyTemplate.parse("pk:{d}:{f}:{b}:{t}:{n}");
            for (ChangeEvent e : events) {
                if (e.source().table().equals("pk")) {
                    boolean old = e.op() == Op.DELETE;
                    (old ? deleted : inserted).add(template.render(StreamsImage.of(e, old)).orElse("<no key>"));
                }
            }
            Collections.sort(inserted);
            Collections.sort(deleted);
            assertEquals(expected, inserted, "INSERT");
            assertEquals(expected, deleted, "DELETE under REPLICA IDENTITY DEFAULT");
        }
    }

    /**
     * Start-up refused the type; a column retyped to it while capture runs must not render a wrong
     * key either: its value travels as unrenderable (streams invalidates the template's glob).
     */
    @Test
    void aTemplateColumnRetypedWhileCaptureRunsTravelsAsUnrenderable(LetheStack stack, TestScope scope) throws Exception {
        CaptureFixture f = new CaptureFixture(stack, scope);
        f.sql("CREATE TABLE retyped (id int PRIMARY KEY, k text)", "ALTER TABLE retyped REPLICA IDENTITY FULL",
                "CREATE TABLE sentinel (id int PRIMARY KEY)");
        LetheConfig config = f.config("""
                retyped:
                  table: public.retyped
                  keys: ["r:{k}"]
                sentinel:
                  table: public.sentinel
                  keys: ["s:{id}"]
                """);
        try (CaptureService capture = new CaptureService(config, new SimpleMeterRegistry(), Clock.systemUTC())) {
            capture.start();
            f.sql("INSERT INTO retyped VALUES (1, '1 day')",
                    "ALTER TABLE retyped ALTER COLUMN k TYPE interval USING k::interval",
                    "INSERT INTO retyped VALUES (2, '1 mon')",
                    "ALTER TABLE retyped ALTER COLUMN k TYPE money USING 1.5::money",
                    "INSERT INTO retyped VALUES (3, 2.5)",
                    "INSERT INTO sentinel VALUES (1)");
            List<ChangeEvent> events = f.readChangesUntil(CaptureFixture.row("sentinel", 1), Duration.ofSeconds(60));
            Map<Object, String> texts = new TreeMap<>();
            for (ChangeEvent e : events) {
                if (e.source().table().equals("retyped") && e.op() == Op.CREATE) {
                    texts.put(e.key().get("id"), e.text().after().get("k"));
                }
            }
            assertEquals(Map.of(1, "1 day", 2, ChangeEvent.UNRENDERABLE_VALUE, 3, ChangeEvent.UNRENDERABLE_VALUE), texts);
        }
    }

    @Test
    void everyTemplateColumnRendersAsPostgresTextOrIsRefused(LetheStack stack, TestScope scope) throws Exception {
        CaptureFixture f = new CaptureFixture(stack, scope);
        f.sql("CREATE EXTENSION IF NOT EXISTS citext", "CREATE TYPE render_mood AS ENUM ('happy', 'a b')",
                "CREATE DOMAIN render_code AS text CHECK (VALUE <> '')",
                "CREATE DOMAIN render_positive AS int8 CHECK (VALUE > 0)",
                "CREATE TABLE sentinel (id int PRIMARY KEY)");
        StringBuilder namespaces = new StringBuilder("sentinel:\n  table: public.sentinel\n  keys: [\"s:{id}\"]\n");
        for (Map.Entry<String, Case> e : CASES.entrySet()) {
            if (REFUSED.contains(e.getKey())) {
                continue;
            }
            String table = "r_" + e.getKey();
            f.sql("CREATE TABLE " + table + " (id int PRIMARY KEY, k " + e.getValue().ddl() + ")",
                    "ALTER TABLE " + table + " REPLICA IDENTITY FULL");
            namespaces.append(e.getKey()).append(":\n  table: public.").append(table)
                    .append("\n  keys: [\"r:").append(e.getKey()).append(":{k}\"]\n");
        }
        LetheConfig config = f.config(namespaces.toString());
        Map<String, String> expected = new TreeMap<>();
        Map<String, String> rendered = new TreeMap<>();
        try (CaptureService capture = new CaptureService(config, new SimpleMeterRegistry(), Clock.systemUTC())) {
            capture.start();
            for (Map.Entry<String, Case> e : CASES.entrySet()) {
                if (REFUSED.contains(e.getKey())) {
                    continue;
                }
                String table = "r_" + e.getKey();
                List<String> values = e.getValue().values();
                for (int i = 0; i < values.size(); i++) {
                    f.sql("INSERT INTO " + table + " VALUES (" + i + ", " + "(" + values.get(i) + ")::" + e.getValue().ddl() + ")");
                }
                f.sql("DELETE FROM " + table);
                try (Connection c = f.connect(); Statement s = c.createStatement()) {
                    s.execute("SET TimeZone = 'UTC'");
                    for (int i = 0; i < values.size(); i++) {
                        try (ResultSet rs = s.executeQuery("SELECT (" + "(" + values.get(i) + ")::" + e.getValue().ddl() + ")::text")) {
                            rs.next();
                            // key format 2: the value's text, escaped (KeyFormat.escape: ':' of times, '\\' of bytea)
                            String key = "r:" + e.getKey() + ":" + KeyFormat.escape(rs.getString(1));
                            expected.put(e.getKey() + "#" + i + " new", key);
                            expected.put(e.getKey() + "#" + i + " old", key);
                        }
                    }
                }
            }
            f.sql("INSERT INTO sentinel VALUES (1)");
            List<ChangeEvent> events = f.readChangesUntil(CaptureFixture.row("sentinel", 1), Duration.ofSeconds(120));
            for (ChangeEvent event : events) {
                String table = event.source().table();
                if (!table.startsWith("r_") || event.op() == Op.RESET) {
                    continue;
                }
                String id = table.substring(2);
                KeyTemplate template = KeyTemplate.parse("r:" + id + ":{k}");
                boolean old = event.op() == Op.DELETE;
                Object row = event.key().get("id");
                Map<String, Object> image = StreamsImage.of(event, old);
                String key;
                try {
                    key = template.render(image).orElse("<no key>");
                } catch (RuntimeException ex) {
                    key = "<" + ex.getMessage() + ">";
                }
                rendered.put(id + "#" + row + (old ? " old" : " new"), key);
            }
        }
        Map<String, String> wrong = new TreeMap<>();
        expected.forEach((what, key) -> {
            String got = rendered.get(what);
            String id = what.substring(0, what.indexOf('#'));
            if (UNRENDERABLE.contains(what.substring(0, what.indexOf(' ')))
                    && ("r:" + id + ":" + ChangeEvent.UNRENDERABLE_VALUE).equals(got)) {
                return; // streams invalidates the template's glob instead
            }
            if (!key.equals(got)) {
                wrong.put(what, "expected " + key + " but rendered " + got);
            }
        });
        assertEquals(Map.of(), wrong, "keys must render as PostgreSQL's ::text");
    }

    /** The row invalidation-streams renders a template from (its {@code merge}). */
    static final class StreamsImage {
        static Map<String, Object> of(ChangeEvent e, boolean old) {
            if (e.text() == null) {
                Map<String, Object> merged = new LinkedHashMap<>(e.key());
                merged.putAll(old ? e.before() : e.after());
                return merged;
            }
            Map<String, Object> merged = new LinkedHashMap<>(e.text().key());
            Map<String, String> image = old ? e.text().before() : e.text().after();
            if (image != null) {
                merged.putAll(image);
            }
            return merged;
        }
    }
}
