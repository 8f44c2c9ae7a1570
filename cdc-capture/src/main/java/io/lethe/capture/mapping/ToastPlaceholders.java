package io.lethe.capture.mapping;

import io.lethe.schemas.ChangeEvent;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * Recognises Debezium's placeholder for a value PostgreSQL did not send (an unchanged TOASTed
 * column in an UPDATE). Debezium fits the configured placeholder to the column's type, so it
 * arrives as the text itself (text, varchar, jsonb), its bytes (bytea), a list of one text or
 * one byte string (text[], bytea[]), a list of the placeholder's bytes as numbers (int[],
 * bigint[]), a map or JSON object from the placeholder to itself (hstore), or a name-based UUID
 * of it (uuid[]). Every shape must be recognised: one taken for a real value would render a wrong
 * cache key, or be written into the cache as an upsert's payload.
 */
final class ToastPlaceholders {
    /** Lethe's own placeholder, which its capture configures Debezium with. */
    static final ToastPlaceholders LETHE = new ToastPlaceholders(ChangeEvent.UNAVAILABLE_VALUE);

    private final String TEXT;
    private final byte[] BYTES;
    private final String HSTORE_JSON;
    private final String UUID_TEXT;
    /** bytea without a schema (JsonConverter with schemas.enable=false writes bytes as base64). */
    private final String BASE64;

    /** The placeholder {@code text}, as a connector configured with {@code unavailable.value.placeholder=text} writes it. */
    ToastPlaceholders(String text) {
        TEXT = text;
        BYTES = TEXT.getBytes(StandardCharsets.UTF_8);
        HSTORE_JSON = "{\"" + TEXT + "\":\"" + TEXT + "\"}";
        UUID_TEXT = UUID.nameUUIDFromBytes(BYTES).toString();
        BASE64 = Base64.getEncoder().encodeToString(BYTES);
    }

    /** True when {@code value}, a Connect value of one column, is Lethe's own unchanged-TOAST placeholder. */
    static boolean isPlaceholder(Object value) {
        return LETHE.matches(value);
    }

    /** True when {@code value}, a Connect (or schemaless JSON) value of one column, is this unchanged-TOAST placeholder. */
    boolean matches(Object value) {
        if (value instanceof String s) {
            return s.equals(TEXT) || s.equals(HSTORE_JSON) || s.equals(UUID_TEXT) || s.equals(BASE64);
        }
        if (value instanceof byte[] bytes) {
            return Arrays.equals(bytes, BYTES);
        }
        if (value instanceof ByteBuffer buffer) {
            return buffer.remaining() == BYTES.length && buffer.duplicate().equals(ByteBuffer.wrap(BYTES));
        }
        if (value instanceof UUID uuid) {
            return uuid.toString().equals(UUID_TEXT);
        }
        if (value instanceof List<?> list) {
            return list.size() == 1 && matches(list.get(0)) || isPlaceholderBytesAsNumbers(list);
        }
        if (value instanceof Map<?, ?> map) {
            return map.size() == 1 && TEXT.equals(map.get(TEXT));
        }
        return false;
    }

    private boolean isPlaceholderBytesAsNumbers(List<?> list) {
        if (list.size() != BYTES.length) {
            return false;
        }
        for (int i = 0; i < BYTES.length; i++) {
            if (!(list.get(i) instanceof Number n) || n.longValue() != BYTES[i]) {
                return false;
            }
        }
        return true;
    }
}
