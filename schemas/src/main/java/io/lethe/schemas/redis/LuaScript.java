package io.lethe.schemas.redis;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * The three scripts of the Redis contract, shipped in this jar under {@code lua/}, the region
 * consumers' batch form of invalidate.lua, and the copy script of {@code lethe prewarm}, and the confirmation of checked writes. Load each once (SCRIPT LOAD), call it with EVALSHA
 * {@link #sha1()}, reload on NOSCRIPT. Keys and values always travel as KEYS/ARGV. The argument
 * lists are documented at the top of each file and in {@code docs/subscribing.md}.
 */
public enum LuaScript {
    /** KEYS: key, fence. ARGV: version, fence TTL ms, fence seed. Returns {@link InvalidateResult}. */
    INVALIDATE("invalidate.lua"),
    /** KEYS: key, fence. ARGV: version, payload, entry TTL ms, fence TTL ms, fence seed. Returns {@link UpsertResult}. */
    UPSERT("upsert.lua"),
    /** KEYS: key, fence. ARGV: version, N0, payload, entry TTL ms, soft expiry ms, replace, not-found. Returns {@link FillResult}. */
    FILL("fill.lua"),
    /**
     * Lethe's own, not part of the contract: {@link #INVALIDATE} for many keys (of one cluster
     * slot) in one call. KEYS: key, fence, key, fence, ... ARGV: invalidate's four arguments per
     * entry. Returns a list: each entry's code, -1 when it failed.
     */
    INVALIDATE_BATCH("invalidate-batch.lua", "invalidate.lua"),
    /**
     * Lethe's own, not part of the contract: {@code lethe prewarm}'s copy of one entry from a
     * sibling region. KEYS: key, fence. ARGV: kind, data, version, soft expiry, not-found, TTL ms.
     * Returns 1 copied, 2 refused (present), 3 refused (fenced).
     */
    PREWARM("prewarm.lua"),
    /**
     * Lethe's own, not part of the contract: gives a write that was checked after it landed (a
     * {@code lethe prewarm} copy, a cache-client fill), written with a short lease TTL, its real TTL.
     * KEYS: key. ARGV: kind, data, version, TTL ms (0: none). Returns 1 confirmed, 0 the key no
     * longer holds what was written.
     */
    CONFIRM("confirm.lua");

    private final String fileName;
    private final String source;
    private final String sha1;

    /**
     * @param functions scripts placed before {@code fileName}'s text, each as a local function of
     *                  (KEYS, ARGV) named after its file
     */
    LuaScript(String fileName, String... functions) {
        this.fileName = fileName;
        StringBuilder text = new StringBuilder();
        for (String function : functions) {
            text.append("local function ").append(function, 0, function.indexOf('.')).append("(KEYS, ARGV)\n")
                    .append(load("/lua/" + function)).append("end\n\n");
        }
        this.source = text.append(load("/lua/" + fileName)).toString();
        this.sha1 = sha1Hex(source);
    }

    public String fileName() {
        return fileName;
    }

    /** The script text, exactly as SCRIPT LOAD must receive it. */
    public String source() {
        return source;
    }

    /** The SHA-1 Redis assigns to {@link #source()}: the EVALSHA argument. */
    public String sha1() {
        return sha1;
    }

    private static String load(String resource) {
        try (InputStream in = LuaScript.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalStateException("missing script resource " + resource);
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + resource, e);
        }
    }

    private static String sha1Hex(String text) {
        try {
            MessageDigest digest = MessageDigest.getInstance("SHA-1");
            return HexFormat.of().formatHex(digest.digest(text.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-1 is required of every JVM", e);
        }
    }
}
