package io.lethe.capture.source;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * What a {@link StateKeeper} keeps for the debezium-topics table watch: the tables' state and the
 * source's history it was read in ({@code io.lethe.schemas.SourceHistory}), as
 * {@code {"history": ..., "state": {...}}}, in that order (the text compares equal when nothing changed).
 */
record KeptState(String history, SourceState state) {
    private static final ObjectMapper JSON = new ObjectMapper();

    String toJson() {
        try {
            return JSON.writeValueAsString(JSON.createObjectNode().put("history", history).set("state", JSON.readTree(state.toJson())));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write the source state: " + e.getMessage(), e);
        }
    }

    /** @throws IllegalArgumentException when {@code json} is not a kept state */
    static KeptState fromJson(String json) {
        try {
            JsonNode node = JSON.readTree(json);
            if (!node.path("state").isObject() || !node.path("history").isTextual()) {
                throw new IllegalArgumentException("expected {\"history\": ..., \"state\": {...}}");
            }
            return new KeptState(node.get("history").asText(), SourceState.fromJson(node.get("state").toString()));
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException(e.getOriginalMessage(), e);
        }
    }
}
