package io.lethe.region.prewarm;

import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;

/** Redis replies and arguments as UTF-8 text (prewarm reads and writes through a binary codec). */
final class Utf8 {
    private Utf8() {
    }

    static Map<String, String> text(Map<String, byte[]> raw) {
        Map<String, String> out = new HashMap<>();
        raw.forEach((k, v) -> out.put(k, utf8(v)));
        return out;
    }

    static String utf8(byte[] b) {
        return new String(b, StandardCharsets.UTF_8);
    }

    static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
