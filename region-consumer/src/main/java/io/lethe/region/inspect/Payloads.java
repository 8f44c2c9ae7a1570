package io.lethe.region.inspect;

import com.fasterxml.jackson.databind.JsonNode;
import io.lethe.schemas.serde.EventJson;
import java.io.IOException;
import java.math.BigDecimal;
import java.util.Iterator;

/** How the inspector compares a cached upsert payload with the one the row renders now. */
final class Payloads {
    private Payloads() {
    }

    /** True when two payloads hold the same fields and values (numbers compared as numbers, field order ignored). */
    static boolean samePayload(String cached, String expected) {
        try {
            return same(EventJson.mapper().readTree(cached), EventJson.mapper().readTree(expected));
        } catch (IOException e) {
            return false;
        }
    }

    private static boolean same(JsonNode a, JsonNode b) {
        if (a == null || b == null) {
            return a == b;
        }
        if (a.isNumber() && b.isNumber()) {
            return new BigDecimal(a.asText()).compareTo(new BigDecimal(b.asText())) == 0;
        }
        if (a.isObject() && b.isObject()) {
            if (a.size() != b.size()) {
                return false;
            }
            for (Iterator<String> it = a.fieldNames(); it.hasNext();) {
                String f = it.next();
                if (!same(a.get(f), b.get(f))) {
                    return false;
                }
            }
            return true;
        }
        if (a.isArray() && b.isArray()) {
            if (a.size() != b.size()) {
                return false;
            }
            for (int i = 0; i < a.size(); i++) {
                if (!same(a.get(i), b.get(i))) {
                    return false;
                }
            }
            return true;
        }
        return a.equals(b);
    }
}
