package io.lethe.capture.mapping;

import io.lethe.schemas.ChangeEvent;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
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
    private static final String TEXT = ChangeEvent.UNAVAILABLE_VALUE;
    private static final byte[] BYTES = TEXT.getBytes(StandardCharsets.UTF_8);
    private static final String HSTORE_JSON = "{\"" + TEXT + "\":\"" + TEXT + "\"}";
    private static final String UUID_TEXT = UUID.nameUUIDFromBytes(BYTES).toString();

    private ToastPlaceholders() {
    }

    /** True when {@code value}, a Connect value of one column, is the unchanged-TOAST placeholder. */
    static boolean isPlaceholder(Object value) {
        if (value instanceof String s) {
            return s.equals(TEXT) || s.equals(HSTORE_JSON) || s.equals(UUID_TEXT);
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
            return list.size() == 1 && isPlaceholder(list.get(0)) || isPlaceholderBytesAsNumbers(list);
        }
        if (value instanceof Map<?, ?> map) {
            return map.size() == 1 && TEXT.equals(map.get(TEXT));
        }
        return false;
    }

    private static boolean isPlaceholderBytesAsNumbers(List<?> list) {
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
