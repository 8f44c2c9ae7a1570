package io.lethe.cache;

/** Turns values into the bytes of an entry's {@code d} field and back. */
public interface Codec<T> {
    byte[] encode(T value);

    T decode(byte[] bytes);
}
