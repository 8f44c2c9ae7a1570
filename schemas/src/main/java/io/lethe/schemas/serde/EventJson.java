package io.lethe.schemas.serde;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import io.lethe.schemas.ChangeEvent;
import io.lethe.schemas.InvalidationEvent;
import io.lethe.schemas.SchemaViolationException;
import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * JSON encoding of Lethe's events. Unknown fields are ignored on read (the evolution policy adds
 * optional fields within a version); every failure is a {@link SchemaViolationException} that
 * names the field, or the byte offset when the bytes are not JSON.
 */
public final class EventJson {
    private static final ObjectMapper MAPPER = JsonMapper.builder()
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
            .enable(DeserializationFeature.FAIL_ON_NUMBERS_FOR_ENUMS)
            .disable(DeserializationFeature.ACCEPT_FLOAT_AS_INT)
            .build();
    private static final FastEventJson FAST = new FastEventJson(MAPPER);

    private EventJson() {
    }

    /** The mapper used for events; shared, thread-safe, do not reconfigure. */
    public static ObjectMapper mapper() {
        return MAPPER;
    }

    public static byte[] write(Object event) {
        try {
            if (event instanceof InvalidationEvent e) {
                return FAST.write(e);
            }
            if (event instanceof ChangeEvent e) {
                return FAST.write(e);
            }
            return MAPPER.writeValueAsBytes(event);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot encode " + event.getClass().getSimpleName(), e);
        }
    }

    public static ChangeEvent readChange(byte[] bytes) {
        ChangeEvent fast = bytes == null ? null : FAST.readChange(bytes);
        return fast != null ? fast : read(bytes, ChangeEvent.class);
    }

    public static InvalidationEvent readInvalidation(byte[] bytes) {
        InvalidationEvent fast = bytes == null ? null : FAST.readInvalidation(bytes);
        return fast != null ? fast : read(bytes, InvalidationEvent.class);
    }

    public static <T> T read(byte[] bytes, Class<T> type) {
        if (bytes == null || bytes.length == 0) {
            throw new SchemaViolationException("offset 0", "no bytes: expected a JSON object");
        }
        try {
            return MAPPER.readValue(bytes, type);
        } catch (JsonMappingException e) {
            throw translate(e);
        } catch (JsonProcessingException e) {
            JsonLocation where = e.getLocation();
            long offset = where == null ? -1 : where.getByteOffset();
            throw new SchemaViolationException("offset " + offset, "not valid JSON: " + e.getOriginalMessage(), e);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static SchemaViolationException translate(JsonMappingException e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof SchemaViolationException violation) {
                return violation;
            }
        }
        StringBuilder path = new StringBuilder();
        for (JsonMappingException.Reference ref : e.getPath()) {
            if (ref.getFieldName() != null) {
                if (path.length() > 0) {
                    path.append('.');
                }
                path.append(ref.getFieldName());
            } else if (ref.getIndex() >= 0) {
                path.append('[').append(ref.getIndex()).append(']');
            }
        }
        String field = path.length() > 0 ? path.toString() : missingProperty(e.getOriginalMessage());
        return new SchemaViolationException(field, e.getOriginalMessage(), e);
    }

    /** Jackson reports a missing creator property as "Missing required creator property 'x' ...". */
    private static String missingProperty(String message) {
        int start = message == null ? -1 : message.indexOf('\'');
        int end = start < 0 ? -1 : message.indexOf('\'', start + 1);
        return end > start ? message.substring(start + 1, end) : "(root)";
    }
}
