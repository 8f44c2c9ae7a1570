package io.lethe.spring;

import io.lethe.cache.Codec;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.NotSerializableException;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.io.UncheckedIOException;

/**
 * Java serialization, the default value codec of a Spring cache without {@code value-type} (as
 * Spring Data Redis's default). Redis is trusted here as it is for every entry the client serves.
 */
final class SerializedCodec implements Codec<Object> {
    private final String namespace;
    private final ClassLoader classLoader;

    SerializedCodec(String namespace, ClassLoader classLoader) {
        this.namespace = namespace;
        this.classLoader = classLoader;
    }

    @Override
    public byte[] encode(Object value) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
            out.writeObject(value);
        } catch (NotSerializableException e) {
            throw new IllegalArgumentException("cache '" + namespace + "': a " + value.getClass().getName() + " is not Serializable; "
                    + "make it so or set lethe.cache.namespaces." + namespace + ".value-type for JSON", e);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    @Override
    public Object decode(byte[] data) {
        try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(data)) {
            @Override
            protected Class<?> resolveClass(java.io.ObjectStreamClass desc) throws IOException, ClassNotFoundException {
                try {
                    return Class.forName(desc.getName(), false, classLoader);
                } catch (ClassNotFoundException e) {
                    return super.resolveClass(desc); // primitives
                }
            }
        }) {
            return in.readObject();
        } catch (IOException | ClassNotFoundException e) {
            throw new IllegalStateException("cache '" + namespace + "': an entry could not be deserialized: " + e, e);
        }
    }
}
