package io.lethe.schemas.redis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * Redis runs each script alone, so the version arithmetic every script needs ({@code canon}: a
 * decimal string in canonical form; {@code cmp}: compares two of any length) is written into
 * each of them. The copies must stay one function: a script that compared versions differently
 * from the others would keep a value another one refuses.
 */
class LuaPreludeTest {
    private static final List<LuaScript> COMPARING = List.of(LuaScript.INVALIDATE, LuaScript.UPSERT, LuaScript.FILL);
    private static final List<String> FUNCTIONS = List.of("canon", "cmp");

    @Test
    void everyScriptComparesVersionsWithTheSameFunctions() {
        for (String function : FUNCTIONS) {
            Map<LuaScript, String> copies = new LinkedHashMap<>();
            for (LuaScript script : COMPARING) {
                copies.put(script, definition(script, function));
            }
            String first = copies.get(COMPARING.get(0));
            copies.forEach((script, text) -> assertEquals(first, text,
                    "local function " + function + " of " + script.fileName() + " differs from " + COMPARING.get(0).fileName() + "'s"));
        }
    }

    /** The text of {@code local function name(...)} up to its closing {@code end} at the start of a line. */
    private static String definition(LuaScript script, String name) {
        Matcher m = Pattern.compile("(?ms)^local function " + name + "\\(.*?^end$").matcher(script.source());
        assertFalse(!m.find(), script.fileName() + " has no local function " + name);
        return m.group();
    }
}
