package io.lethe.config;

import java.util.List;

/**
 * One capture shard ({@code source.shards.<name>}): a disjoint set of the configured tables that
 * one capture process reads through its own replication slot and publication, with its own
 * heartbeat row, stored offsets and capture lock. Every shard publishes to the same changes topic;
 * its watermarks carry its name, and every stage that aggregates watermarks takes the oldest over
 * all shards (a heartbeat of one shard says nothing of another's tables).
 *
 * @param name        the shard's name (the role {@code capture:<name>} runs it)
 * @param slot        its logical replication slot
 * @param publication its publication
 * @param tables      its tables ({@code schema.table}), each configured by some namespace
 */
public record ShardConfig(String name, String slot, String publication, List<String> tables) {
    public ShardConfig {
        tables = List.copyOf(tables);
    }
}
