package io.lethe.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
        KeyTemplate.MissingColumnException e = assertThrows(KeyTemplate.MissingColumnException.class, () -> t.render(Map.of("id", 1)));
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
        org.junit.jupiter.api.Assertions.assertTrue(KeyTemplate.parse("p.{id}").matches("p.[*]"), "literals are quoted, not regex");
        org.junit.jupiter.api.Assertions.assertFalse(KeyTemplate.parse("p.{id}").matches("pX7"));
    }
}
