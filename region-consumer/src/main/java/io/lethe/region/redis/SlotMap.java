package io.lethe.region.redis;

import io.lethe.schemas.redis.RedisLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Where a Redis Cluster's slots are, as each master describes itself ({@code myself} line of its
 * {@code CLUSTER NODES}): per slot, the masters that claim it with their config epochs, and the
 * migrations under way ({@code [slot->-node]}, {@code [slot-<-node]}). Keys move between masters
 * only through such a migration, and a migration ends by handing the slot over, which bumps the
 * new owner's config epoch: so two snapshots tell which slots' keys may have moved in between.
 */
public final class SlotMap {
    private final List<String> masters;
    private final String[] state;

    private SlotMap(List<String> masters, String[] state) {
        this.masters = List.copyOf(masters);
        this.state = state;
    }

    /**
     * Builds the map from each master's own line.
     *
     * @param myself node id to that node's {@code myself} line of {@code CLUSTER NODES}
     */
    static SlotMap of(Map<String, String> myself) {
        StringBuilder[] slots = new StringBuilder[RedisLayout.SLOTS];
        for (Map.Entry<String, String> node : myself.entrySet()) {
            String[] f = node.getValue().trim().split(" ");
            if (f.length < 8) {
                throw new IllegalStateException("unexpected CLUSTER NODES line from " + node.getKey() + ": " + node.getValue());
            }
            String owner = f[0] + "@" + f[6];
            for (int i = 8; i < f.length; i++) {
                String range = f[i];
                if (range.startsWith("[")) {
                    // [slot->-node] migrating to node, [slot-<-node] importing from node
                    String body = range.substring(1, range.length() - 1);
                    int dash = body.indexOf('-');
                    int slot = Integer.parseInt(body.substring(0, dash));
                    append(slots, slot, f[0] + body.substring(dash));
                    continue;
                }
                int dash = range.indexOf('-');
                int from = Integer.parseInt(dash < 0 ? range : range.substring(0, dash));
                int to = dash < 0 ? from : Integer.parseInt(range.substring(dash + 1));
                for (int s = from; s <= to; s++) {
                    append(slots, s, owner);
                }
            }
        }
        String[] state = new String[RedisLayout.SLOTS];
        for (int s = 0; s < state.length; s++) {
            state[s] = slots[s] == null ? "" : slots[s].toString();
        }
        return new SlotMap(new ArrayList<>(myself.keySet()), state);
    }

    private static void append(StringBuilder[] slots, int slot, String what) {
        if (slots[slot] == null) {
            slots[slot] = new StringBuilder();
        }
        slots[slot].append(what).append(' ');
    }

    /** The masters' node ids. */
    public List<String> masters() {
        return masters;
    }

    /** True when the slot's state (claimants, their config epochs, migrations) differs in {@code other}. */
    public boolean changed(int slot, SlotMap other) {
        return !state[slot].equals(other.state[slot]);
    }

    /** True when a migration of the slot is under way: its keys may be moving now. */
    public boolean migrating(int slot) {
        return state[slot].contains("->") || state[slot].contains("-<");
    }
}
