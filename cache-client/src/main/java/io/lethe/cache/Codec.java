package io.lethe.cache;

import java.util.Arrays;

/** Turns values into the bytes of an entry's {@code d} field and back. */
public interface Codec<T> {
    byte[] encode(T value);

    T decode(byte[] bytes);

    /**
     * Whether two values are the same for the cache: shadow reads compare what was served with
     * what the loader finds with it. By default their encodings are compared byte for byte;
     * override it when equal values may encode differently (unordered maps, floating point).
     */
    default boolean same(T a, T b) {
        if (a == null || b == null) {
            return a == b;
        }
        return Arrays.equals(encode(a), encode(b));
    }
}
