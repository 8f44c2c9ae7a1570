package io.lethe.region.apply;

import io.lettuce.core.RedisNoScriptException;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.api.sync.RedisCommands;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * {@code lua/checkpoint.lua}: writes a checkpoint only into the server whose {@code run_id} the
 * consumer verified, checked inside the script, so no commit lands in a server that was restored
 * since (see the script's header); and {@code lua/verified-hset.lua}, the same check for any other
 * hash the consumer publishes. Called by SHA, loaded on NOSCRIPT.
 */
final class CheckpointScript {
    static final String SOURCE = load("checkpoint.lua");
    static final String SHA1 = sha1(SOURCE);
    static final String HSET_SOURCE = load("verified-hset.lua");
    static final String HSET_SHA1 = sha1(HSET_SOURCE);

    private CheckpointScript() {
    }

    /**
     * @param runId      the run_id the consumer verified on this server
     * @param cluster    the id of the Kafka cluster the offsets were read on (null when not known): a checkpoint of
     *                   another cluster is dropped before this one's offsets are written
     * @param partitions the partition count of the region's topic (0 when unknown)
     * @return true when written, false when another server answers now
     */
    static boolean write(RedisCommands<String, String> node, String key, String runId, String cluster, int partitions,
            Map<Integer, Long> offsets) {
        List<String> args = new ArrayList<>();
        args.add(runId);
        args.add(Integer.toString(partitions));
        args.add(cluster == null ? "" : cluster);
        new TreeMap<>(offsets).forEach((p, o) -> {
            args.add(Integer.toString(p));
            args.add(Long.toString(o));
        });
        return call(node, SHA1, SOURCE, key, args.toArray(String[]::new));
    }

    /**
     * HSET of {@code fields} into {@code key} on {@code node} only while it reports {@code runId}.
     *
     * @return true when written, false when another server answers now
     */
    static boolean hset(RedisCommands<String, String> node, String key, String runId, Map<String, String> fields) {
        List<String> args = new ArrayList<>();
        args.add(runId);
        new TreeMap<>(fields).forEach((field, value) -> {
            args.add(field);
            args.add(value);
        });
        return call(node, HSET_SHA1, HSET_SOURCE, key, args.toArray(String[]::new));
    }

    private static boolean call(RedisCommands<String, String> node, String sha, String source, String key, String[] argv) {
        Long written;
        try {
            written = node.evalsha(sha, ScriptOutputType.INTEGER, new String[] {key}, argv);
        } catch (RedisNoScriptException e) {
            node.scriptLoad(source);
            written = node.evalsha(sha, ScriptOutputType.INTEGER, new String[] {key}, argv);
        }
        return written != null && written == 1L;
    }

    private static String load(String file) {
        try (InputStream in = CheckpointScript.class.getResourceAsStream("/lua/" + file)) {
            if (in == null) {
                throw new IllegalStateException("missing script resource /lua/" + file);
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String sha1(String text) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-1").digest(text.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
