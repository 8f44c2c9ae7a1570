package io.lethe.embedded.junit;

/**
 * What one test owns on the shared servers, so tests never see each other's data: its own
 * database (and so its own publication and slot), topic prefix, group ids and Redis key prefix.
 *
 * @param id          short unique id, e.g. {@code t3k9}
 * @param database    a fresh PostgreSQL database created for the test
 * @param topicPrefix prefix of every topic the test's pipeline uses
 * @param slot        replication slot name
 * @param publication publication name
 * @param keyPrefix   prefix for every Redis key the test writes, e.g. {@code t3k9:}
 */
public record TestScope(String id, String database, String topicPrefix, String slot, String publication,
        String keyPrefix) {

    static TestScope create(String id) {
        return new TestScope(id, "lethe_" + id, id, "lethe_" + id, "lethe_" + id, id + ":");
    }

    /** {@code keyPrefix + key}. */
    public String key(String key) {
        return keyPrefix + key;
    }
}
