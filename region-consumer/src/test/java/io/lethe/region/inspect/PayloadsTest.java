package io.lethe.region.inspect;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class PayloadsTest {

    @Test
    void payloadsCompareByFieldAndNumericValue() {
        assertTrue(Payloads.samePayload("{\"a\":1,\"b\":\"x\"}", "{\"b\":\"x\",\"a\":1}"), "field order does not matter");
        assertTrue(Payloads.samePayload("{\"a\":1.50}", "{\"a\":1.5}"), "numbers compare as numbers");
        assertTrue(Payloads.samePayload("{\"a\":[1,2],\"n\":null}", "{\"a\":[1,2],\"n\":null}"));
        assertFalse(Payloads.samePayload("{\"a\":\"1.50\"}", "{\"a\":\"1.5\"}"), "a numeric column is its text: 1.50 is not 1.5");
        assertFalse(Payloads.samePayload("{\"a\":1}", "{\"a\":1,\"b\":2}"));
        assertFalse(Payloads.samePayload("{\"a\":1}", "{\"a\":2}"));
        assertFalse(Payloads.samePayload("not json", "{\"a\":1}"), "an application's own value is not an upsert payload");
    }
}
