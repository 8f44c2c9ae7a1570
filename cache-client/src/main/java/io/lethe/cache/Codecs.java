package io.lethe.cache;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JavaType;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;

/** Ready codecs: raw bytes, UTF-8 strings and JSON (Jackson). */
public final class Codecs {
    private static final ObjectMapper JSON = JsonMapper.builder().findAndAddModules().build();

    private Codecs() {
    }

    public static Codec<byte[]> bytes() {
        return new Codec<>() {
            @Override
            public byte[] encode(byte[] value) {
                return value;
            }

            @Override
            public byte[] decode(byte[] bytes) {
                return bytes;
            }
        };
    }

    public static Codec<String> utf8() {
        return new Codec<>() {
            @Override
            public byte[] encode(String value) {
                return value.getBytes(StandardCharsets.UTF_8);
            }

            @Override
            public String decode(byte[] bytes) {
                return new String(bytes, StandardCharsets.UTF_8);
            }
        };
    }

    public static <T> Codec<T> json(Class<T> type) {
        return json(JSON, JSON.constructType(type));
    }

    public static <T> Codec<T> json(TypeReference<T> type) {
        return json(JSON, JSON.constructType(type));
    }

    public static <T> Codec<T> json(ObjectMapper mapper, JavaType type) {
        return new Codec<>() {
            @Override
            public byte[] encode(T value) {
                try {
                    return mapper.writeValueAsBytes(value);
                } catch (IOException e) {
                    throw new UncheckedIOException("cannot encode " + type, e);
                }
            }

            @Override
            public T decode(byte[] bytes) {
                try {
                    return mapper.readValue(bytes, type);
                } catch (IOException e) {
                    throw new UncheckedIOException("cannot decode " + type, e);
                }
            }
        };
    }
}
