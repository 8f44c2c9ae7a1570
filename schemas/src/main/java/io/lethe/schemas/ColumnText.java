package io.lethe.schemas;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The key-template columns of a change as PostgreSQL prints them ({@code col::text} with
 * {@code TimeZone=UTC}; see {@link io.lethe.schemas.keys.PgText}): what key templates render,
 * whatever encoding {@code key}, {@code before} and {@code after} carry the same columns in. A SQL
 * NULL is null; a value PostgreSQL did not send (unchanged TOAST) is {@link
 * ChangeEvent#UNAVAILABLE_VALUE}; a value capture could not turn into text is {@link
 * ChangeEvent#UNRENDERABLE_VALUE} (its keys are then invalidated by their template's glob).
 *
 * @param key    the primary-key columns a template uses
 * @param before the template columns of the old row image, when there is one
 * @param after  the template columns of the new row image, when there is one
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record ColumnText(
        @JsonProperty("key") Map<String, String> key,
        @JsonProperty("before") Map<String, String> before,
        @JsonProperty("after") Map<String, String> after) {

    public ColumnText {
        key = copy(key);
        before = copy(before);
        after = copy(after);
    }

    private static Map<String, String> copy(Map<String, String> map) {
        return map == null ? null : Collections.unmodifiableMap(new LinkedHashMap<>(map));
    }
}
