package io.lethe.pipeline;

import io.lethe.config.LetheConfig;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Which stages one process runs: {@code capture}, {@code capture:<shard>} (any number, with
 * {@code source.shards}), {@code streams}, {@code region:<name>} (any number), or {@code all}.
 *
 * @param capture whether to run cdc-capture
 * @param streams whether to run invalidation-streams
 * @param regions the regions whose consumer runs here
 * @param shards  with {@code source.shards}, the capture shards that run here (each its own capture); empty with
 *                {@code capture} for every configured shard (or the single capture without shards)
 */
public record Roles(boolean capture, boolean streams, List<String> regions, List<String> shards) {
    public Roles {
        regions = List.copyOf(regions);
        shards = List.copyOf(shards);
    }

    /** Capture (every shard), streams and {@code regions}. */
    public Roles(boolean capture, boolean streams, List<String> regions) {
        this(capture, streams, regions, List.of());
    }

    public static Roles all(LetheConfig config) {
        return new Roles(true, true, List.copyOf(config.regions().keySet()));
    }

    /** The capture shards this process runs: those named, or every configured one; empty without shards. */
    public List<String> shardsOf(LetheConfig config) {
        if (!capture || !config.source().sharded()) {
            return List.of();
        }
        return shards.isEmpty() ? List.copyOf(config.source().shards().keySet()) : shards;
    }

    /**
     * Parses role names.
     *
     * @throws IllegalArgumentException naming the bad role and the valid ones
     */
    public static Roles parse(List<String> names, LetheConfig config) {
        boolean capture = false;
        boolean allShards = false;
        boolean streams = false;
        Set<String> regions = new LinkedHashSet<>();
        Set<String> shards = new LinkedHashSet<>();
        for (String name : names) {
            for (String role : name.split(",")) {
                String r = role.trim();
                if (r.equals("all")) {
                    return all(config);
                } else if (r.equals("capture")) {
                    capture = true;
                    allShards = true;
                } else if (r.startsWith("capture:") && config.source().shards().containsKey(r.substring(8))) {
                    capture = true;
                    shards.add(r.substring(8));
                } else if (r.equals("streams")) {
                    streams = true;
                } else if (r.startsWith("region:") && config.regions().containsKey(r.substring(7))) {
                    regions.add(r.substring(7));
                } else {
                    List<String> valid = new ArrayList<>(List.of("all", "capture", "streams"));
                    config.source().shards().keySet().forEach(s -> valid.add("capture:" + s));
                    config.regions().keySet().forEach(g -> valid.add("region:" + g));
                    throw new IllegalArgumentException("unknown role '" + r + "'; expected one of: " + String.join(", ", valid));
                }
            }
        }
        return new Roles(capture, streams, new ArrayList<>(regions), allShards ? List.of() : new ArrayList<>(shards));
    }

    @Override
    public String toString() {
        List<String> parts = new ArrayList<>();
        if (capture && shards.isEmpty()) {
            parts.add("capture");
        }
        shards.forEach(s -> parts.add("capture:" + s));
        if (streams) {
            parts.add("streams");
        }
        regions.forEach(r -> parts.add("region:" + r));
        return String.join(",", parts);
    }
}
