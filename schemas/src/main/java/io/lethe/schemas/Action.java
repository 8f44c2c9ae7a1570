package io.lethe.schemas;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;

/** What a region does with an invalidation. */
public enum Action {
    /** Delete the entry unless it is newer than the event (invalidate.lua). */
    DELETE("delete"),
    /** Write the payload unless the entry or fence is as new or newer (upsert.lua). */
    UPSERT("upsert");

    private final String code;

    Action(String code) {
        this.code = code;
    }

    @JsonValue
    public String code() {
        return code;
    }

    @JsonCreator
    public static Action fromCode(String code) {
        for (Action action : values()) {
            if (action.code.equals(code)) {
                return action;
            }
        }
        throw new SchemaViolationException("action", "must be delete or upsert; was '" + code + "'");
    }
}
