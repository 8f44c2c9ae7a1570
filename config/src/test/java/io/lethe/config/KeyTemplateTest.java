package io.lethe.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lethe.schemas.keys.KeyFormat;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class KeyTemplateTest {

    @Test
    void rendersColumnsAndLiteralBraces() {
        KeyTemplate t = KeyTemplate.parse("customer:{{{customer_id}}}:orders");
        assertEquals(List.of("customer_id"), t.columns());
        assertEquals(Optional.of("customer:{42}:orders"), t.render(Map.of("customer_id", 42)));
        assertEquals("customer:\\{*\\}:orders".replace("\\{", "{").replace("\\}", "}"), t.glob());
    }

    @Test
    void nullColumnMeansNoKeyAndAbsentColumnIsAnError() {
        KeyTemplate t = KeyTemplate.parse("product:slug:{slug}");
        Map<String, Object> row = new HashMap<>();
        row.put("slug", null);
        assertEquals(Optional.empty(), t.render(row));
        KeyFormat.MissingColumnException e = assertThrows(KeyFormat.MissingColumnException.class, () -> t.render(Map.of("id", 1)));
        assertEquals("slug", e.column());
    }

    @Test
    void rowScopedOnlyWhenEveryColumnIsInThePrimaryKey() {
        assertTrue(KeyTemplate.parse("order:{tenant}:{id}").isRowScoped(List.of("tenant", "id")));
        assertFalse(KeyTemplate.parse("order:{tenant}:{id}").isRowScoped(List.of("id")));
        assertFalse(KeyTemplate.parse("all-products").isRowScoped(List.of("id")), "a constant key is shared by every row");
    }

    @Test
    void globEscapesMetacharactersOfLiterals() {
        assertEquals("a\\*b:*", KeyTemplate.parse("a*b:{id}").glob());
        assertEquals("p:*:*", KeyTemplate.parse("p:{a}:{b}").glob());
        assertEquals("p:*", KeyTemplate.parse("p:{a}{b}").glob(), "adjacent columns collapse into one *");
    }

    @Test
    void refusesMalformedTemplates() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> KeyTemplate.parse("p:{id")).getMessage().contains("unclosed"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> KeyTemplate.parse("p:id}")).getMessage().contains("unmatched"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> KeyTemplate.parse("p:{1x}")).getMessage().contains("not a column"));
    }

    @Test
    void matchesOnlyKeysItCouldHaveRendered() {
        KeyTemplate t = KeyTemplate.parse("customer:{{{customer_id}}}:orders:{status}");
        org.junit.jupiter.api.Assertions.assertTrue(t.matches("customer:{42}:orders:open"));
        org.junit.jupiter.api.Assertions.assertTrue(t.matches("customer:{42}:orders:"),
                "a column can render empty text (text '', a char(n) of spaces): its key is one of the template's");
        org.junit.jupiter.api.Assertions.assertFalse(t.matches("customer:42:orders:open"));
        org.junit.jupiter.api.Assertions.assertFalse(t.matches("lethe:fence:{customer:{42}:orders:open}:customer:{42}:orders:open"));
        org.junit.jupiter.api.Assertions.assertTrue(KeyTemplate.parse("p.{id}").matches("p.7"));
        org.junit.jupiter.api.Assertions.assertTrue(KeyTemplate.parse("p.[*]{id}").matches("p.[*]7"), "literals are quoted, not regex");
        org.junit.jupiter.api.Assertions.assertFalse(KeyTemplate.parse("p.{id}").matches("p.[*]"), "no value renders '[' or '*'");
        org.junit.jupiter.api.Assertions.assertFalse(KeyTemplate.parse("p.{id}").matches("pX7"));
    }

    @Test
    void valuesParseARenderedKeyBackIntoItsColumns() {
        KeyTemplate t = KeyTemplate.parse("customer:{{{customer_id}}}:order:{id}");
        assertEquals(Optional.of(Map.of("customer_id", "42", "id", "7")), t.values("customer:{42}:order:7"));
        assertEquals(Optional.empty(), t.values("customer:42:order:7"), "not a key of this template");
        assertEquals(Optional.of(Map.of("slug", "")), KeyTemplate.parse("p:{slug}:x").values("p::x"), "an empty text is a value");
        assertEquals(Optional.of(Map.of()), KeyTemplate.parse("all-products").values("all-products"));
    }

    @Test
    void valuesRoundTripWhatRenderProduced() {
        KeyTemplate t = KeyTemplate.parse("o:{tenant}:{id}:v");
        Map<String, Object> row = Map.of("tenant", "acme", "id", 12345678901L);
        assertEquals(Optional.of(Map.of("tenant", "acme", "id", "12345678901")), t.values(t.render(row).orElseThrow()));
    }

    @Test
    void valuesRefuseAKeyThatParsesMoreThanOneWay() {
        // {a}:{b} over "x:y:z" is a=x,b=y:z or a=x:y,b=z: no single row to compare with
        assertEquals(Optional.empty(), KeyTemplate.parse("k:{a}:{b}").values("k:x:y:z"));
        assertEquals(Optional.of(Map.of("a", "x", "b", "y")), KeyTemplate.parse("k:{a}:{b}").values("k:x:y"));
    }

    @Test
    void valuesAsWrittenParseAKeyOfKeyFormat1WithoutUnescaping() {
        KeyTemplate t = KeyTemplate.parse("tag:{id}");
        assertEquals(Optional.empty(), t.values("tag:a:b"), "key format 2 never renders ':' in a value");
        assertEquals(Optional.of(Map.of("id", "a:b")), t.valuesAsWritten("tag:a:b"), "key format 1 wrote it as it was");
        assertEquals(Optional.of(Map.of("id", "a%3Ab")), t.valuesAsWritten("tag:a%3Ab"), "as written: nothing is unescaped");
        assertEquals(Optional.of(Map.of("id", "c*d")), t.valuesAsWritten("tag:c*d"));
        assertEquals(Optional.empty(), KeyTemplate.parse("k:{a}:{b}").valuesAsWritten("k:x:y:z"), "parses more than one way");
        assertEquals(Optional.empty(), t.valuesAsWritten("other:1"), "not a key of this template");
    }

    @Test
    void valuesOfAColumnUsedTwiceMustAgree() {
        KeyTemplate t = KeyTemplate.parse("{id}/{id}");
        assertEquals(Optional.of(Map.of("id", "5")), t.values("5/5"));
        assertEquals(Optional.empty(), t.values("5/6"));
    }

    @Test
    void aValueHoldingTheSeparatorCannotRenderAnotherRowsOrTemplatesKey() {
        // issue 34: row values are data a user may choose; a key is the cache's identity of a row
        KeyTemplate profile = KeyTemplate.parse("user:{id}:profile");
        KeyTemplate user = KeyTemplate.parse("user:{id}");
        assertNotEquals(profile.render(Map.of("id", "1")), user.render(Map.of("id", "1:profile")),
                "template user:{id} with id '1:profile' rendered template user:{id}:profile's key for id 1");
        KeyTemplate order = KeyTemplate.parse("order:{customer}:{id}");
        assertNotEquals(order.render(Map.of("customer", "1:2", "id", "3")), order.render(Map.of("customer", "1", "id", "2:3")),
                "two rows of one template rendered the same key");
        assertFalse(user.matches(profile.render(Map.of("id", "1")).orElseThrow()),
                "user:{id} must not claim user:{id}:profile's keys: no value renders a ':'");
    }

    @Test
    void aGlobBuiltFromAValueMatchesOnlyThatValuesKeys() {
        KeyTemplate order = KeyTemplate.parse("order:{customer}:{id}");
        // every order of customer 1, as a tool would build it: the template with customer bound
        String customerOne = order.glob(Map.of("customer", "1"));
        assertTrue(Patterns.matches(customerOne, order.render(Map.of("customer", "1", "id", "7")).orElseThrow()));
        assertFalse(Patterns.matches(customerOne, order.render(Map.of("customer", "1:2", "id", "3")).orElseThrow()),
                "the glob for customer 1 matched an order of customer '1:2'");
        String star = order.glob(Map.of("customer", "1*"));
        assertFalse(Patterns.matches(star, order.render(Map.of("customer", "10", "id", "3")).orElseThrow()),
                "the glob for customer '1*' matched an order of customer 10");
        assertTrue(Patterns.matches(star, order.render(Map.of("customer", "1*", "id", "3")).orElseThrow()));
        for (String value : List.of("a?b", "[x]", "c\\d", "{t}", "50%")) {
            String glob = order.glob(Map.of("customer", value));
            assertTrue(Patterns.matches(glob, order.render(Map.of("customer", value, "id", "1")).orElseThrow()), glob);
            assertFalse(Patterns.matches(glob, order.render(Map.of("customer", "other", "id", "1")).orElseThrow()), glob);
        }
    }

    @Test
    void escapedValuesRoundTripThroughValues() {
        KeyTemplate t = KeyTemplate.parse("o:{tenant}:{id}");
        for (String value : List.of("a:b", "100%", "%3A", "x*y?[z]\\", "{hash}", "2000-01-01 00:00:00+00", "plain")) {
            String key = t.render(Map.of("tenant", value, "id", "1")).orElseThrow();
            assertTrue(t.matches(key), key);
            assertEquals(Optional.of(Map.of("tenant", value, "id", "1")), t.values(key), key);
        }
    }
}
