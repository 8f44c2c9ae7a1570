package io.lethe.schemas.serde;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.lethe.schemas.ChangeEvent;
import io.lethe.schemas.InvalidationEvent;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/** The streaming codec writes the data binding's bytes, reads its values, and leaves anything unusual to it. */
class FastEventJsonTest {
    private static final FastEventJson FAST = new FastEventJson(EventJson.mapper());

    static Stream<String> changeSamples() {
        return Stream.of("change-insert", "change-update", "change-delete", "change-truncate", "change-reset");
    }

    static Stream<String> invalidationSamples() {
        return Stream.of("invalidation-row", "invalidation-derived", "invalidation-pattern", "invalidation-namespace",
                "invalidation-manual", "invalidation-upsert");
    }

    private static byte[] sample(String name) throws IOException {
        try (InputStream in = FastEventJsonTest.class.getResourceAsStream("/samples/" + name + ".json")) {
            return in.readAllBytes();
        }
    }

    @ParameterizedTest
    @MethodSource("changeSamples")
    void changesReadAndWriteAsTheDataBindingDoes(String name) throws IOException {
        ChangeEvent bound = EventJson.mapper().readValue(sample(name), ChangeEvent.class);
        ChangeEvent fast = FAST.readChange(sample(name));
        assertNotNull(fast, "a well-formed sample is read by the fast path");
        assertEquals(bound, fast);
        assertArrayEquals(EventJson.mapper().writeValueAsBytes(bound), FAST.write(bound));
    }

    @ParameterizedTest
    @MethodSource("invalidationSamples")
    void invalidationsReadAndWriteAsTheDataBindingDoes(String name) throws IOException {
        InvalidationEvent bound = EventJson.mapper().readValue(sample(name), InvalidationEvent.class);
        InvalidationEvent fast = FAST.readInvalidation(sample(name));
        assertNotNull(fast, "a well-formed sample is read by the fast path");
        assertEquals(bound, fast);
        assertArrayEquals(EventJson.mapper().writeValueAsBytes(bound), FAST.write(bound));
    }

    /** Each of these the data binding refuses or coerces: the fast path must not decide them. */
    @ParameterizedTest
    @ValueSource(strings = {
            "\"lsn\": 26220112,|\"lsn\": null,",
            "\"lsn\": 26220112,|\"lsn\": 26220112.5,",
            "\"lsn\": 26220112,|\"lsn\": \"26220112\",",
            "\"version\": \"26220112\"|\"version\": 26220112",
            "\"namespace\": \"product\",|",
            "\"scope\": \"row\"|\"scope\": \"rows\"",
            "\"scope\": \"row\"|\"scope\": 0",
            "{|[",
    })
    void leavesWhatIsNotPlainlyWellFormedToTheDataBinding(String edit) throws IOException {
        String[] fromTo = edit.split("\\|", -1);
        String json = new String(sample("invalidation-row"), StandardCharsets.UTF_8);
        String edited = json.replaceFirst(java.util.regex.Pattern.quote(fromTo[0]), java.util.regex.Matcher.quoteReplacement(fromTo[1]));
        assertNotNull(FAST.readInvalidation(json.getBytes(StandardCharsets.UTF_8)));
        assertNotEquals(json, edited, "the edit applies to the sample");
        assertNull(FAST.readInvalidation(edited.getBytes(StandardCharsets.UTF_8)), edited);
    }
}
