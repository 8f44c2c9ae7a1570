package io.lethe.config;

/**
 * {@code source.mode: debezium-topics}: Lethe runs no capture of its own and reads the topics an
 * existing Debezium PostgreSQL connector writes (docs/design.md, "Reading an existing Debezium
 * stream"). Each configured table's changes are read from {@code <topicPrefix>.<schema>.<table>}.
 *
 * @param topicPrefix         the connector's {@code topic.prefix}
 * @param schemas             whether the connector's JsonConverter writes schemas ({@code schemas.enable}); without
 *                            them the types of key-template columns are unknown and every change of a templated
 *                            namespace is invalidated by glob
 * @param unavailablePlaceholder the connector's {@code unavailable.value.placeholder}: a value PostgreSQL did not send
 * @param heartbeatTopic      the connector's heartbeat topic ({@code __debezium-heartbeat.<topicPrefix>} unless configured)
 * @param groupId             the consumer group the translator commits its progress in (null: the default, {@link #group})
 * @param transactionMetadata whether the connector writes transaction metadata ({@code provide.transaction.metadata=true}),
 *                            read for commit LSNs
 * @param transactionTopic    the connector's transaction topic ({@code <topicPrefix>.transaction} unless configured)
 */
public record DebeziumTopicsConfig(String topicPrefix, boolean schemas, String unavailablePlaceholder, String heartbeatTopic,
        String groupId, boolean transactionMetadata, String transactionTopic) {
    /** Debezium's own default of {@code unavailable.value.placeholder}. */
    public static final String DEBEZIUM_PLACEHOLDER = "__debezium_unavailable_value";

    /** The consumer group the translator commits in: {@code group-id}, else {@code <kafka.topic-prefix>-debezium-topics}. */
    public String group(String letheTopicPrefix) {
        return groupId != null ? groupId : letheTopicPrefix + "-debezium-topics";
    }

    /** The topic the connector writes {@code schema.table}'s changes to. */
    public String topicOf(String qualifiedTable) {
        return topicPrefix + "." + qualifiedTable;
    }
}
