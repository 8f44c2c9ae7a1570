package io.lethe.pipeline;

import io.lethe.config.LetheConfig;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Which stages one process runs: {@code capture}, {@code streams}, {@code region:<name>} (any
 * number), or {@code all}.
 *
 * @param capture whether to run cdc-capture
 * @param streams whether to run invalidation-streams
 * @param regions the regions whose consumer runs here
 */
public record Roles(boolean capture, boolean streams, List<String> regions) {
    public Roles {
        regions = List.copyOf(regions);
    }

    public static Roles all(LetheConfig config) {
        return new Roles(true, true, List.copyOf(config.regions().keySet()));
    }

    /**
     * Parses role names.
     *
     * @throws IllegalArgumentException naming the bad role and the valid ones
     */
    public static Roles parse(List<String> names, LetheConfig config) {
        boolean capture = false;
        boolean streams = false;
        Set<String> regions = new LinkedHashSet<>();
        for (String name : names) {
            for (String role : name.split(",")) {
                String r = role.trim();
                if (r.equals("all")) {
                    return all(config);
                } else if (r.equals("capture")) {
                    capture = true;
                } else if (r.equals("streams")) {
                    streams = true;
                } else if (r.startsWith("region:") && config.regions().containsKey(r.substring(7))) {
                    regions.add(r.substring(7));
                } else {
                    List<String> valid = new ArrayList<>(List.of("all", "capture", "streams"));
                    config.regions().keySet().forEach(g -> valid.add("region:" + g));
                    throw new IllegalArgumentException("unknown role '" + r + "'; expected one of: " + String.join(", ", valid));
                }
            }
        }
        return new Roles(capture, streams, new ArrayList<>(regions));
    }

    @Override
    public String toString() {
        List<String> parts = new ArrayList<>();
        if (capture) {
            parts.add("capture");
        }
        if (streams) {
            parts.add("streams");
        }
        regions.forEach(r -> parts.add("region:" + r));
        return String.join(",", parts);
    }
}
