package io.lethe.schemas;

/** Class-path locations of the JSON Schema (draft 2020-12) of each event, shipped in this jar. */
public final class EventSchemas {
    /** {@value}: {@link ChangeEvent}, {@code lethe.change/v1}. */
    public static final String CHANGE_V1 = "/schemas/lethe.change.v1.schema.json";
    /** {@value}: {@link InvalidationEvent}, {@code lethe.invalidation/v1}. */
    public static final String INVALIDATION_V1 = "/schemas/lethe.invalidation.v1.schema.json";

    private EventSchemas() {
    }
}
