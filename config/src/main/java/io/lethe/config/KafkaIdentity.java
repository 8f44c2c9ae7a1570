package io.lethe.config;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * The Kafka principal one role authenticates as, laid over {@code kafka.properties}: a SASL user
 * and password (turned into {@code sasl.jaas.config} for the mechanism {@code sasl.mechanism}
 * names), and client properties only this role gets (e.g. its own {@code ssl.keystore.*} for mTLS).
 *
 * <p>A region may also name a cluster of its own ({@code regions.<r>.kafka.bootstrap-servers}: a
 * cluster in the region that MirrorMaker 2 mirrors the primary's region topics to, see
 * docs/multi-region.md). Its clients then talk to that cluster only, with this identity's
 * properties alone: {@code kafka.properties} belong to the primary cluster (its credentials are
 * never sent to another one).
 *
 * @param user             SASL user (PLAIN or SCRAM), or null
 * @param password         its password, from the environment; never logged
 * @param properties       client properties of this role only, over {@code kafka.properties}
 *                         (instead of them, when {@code bootstrapServers} is set)
 * @param bootstrapServers the role's own cluster ({@code host:port[,host:port]}); null for {@code kafka.bootstrap-servers}
 */
public record KafkaIdentity(String user, Secret password, Map<String, String> properties, String bootstrapServers) {
    /** The SASL mechanisms {@code user}/{@code password} can be turned into a login module for. */
    public static final Set<String> USER_PASSWORD_MECHANISMS = Set.of("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512");

    public KafkaIdentity {
        properties = properties == null ? Map.of() : Map.copyOf(properties);
    }

    /** On the primary cluster ({@code kafka.bootstrap-servers}). */
    public KafkaIdentity(String user, Secret password, Map<String, String> properties) {
        this(user, password, properties, null);
    }

    /** True when this role's clients talk to a cluster of their own, not the primary. */
    public boolean ownCluster() {
        return bootstrapServers != null;
    }

    /**
     * {@code base} with this identity's properties over it (this identity's properties alone when it
     * names its own cluster) and, when a user is set, the {@code sasl.jaas.config} that logs in as it.
     *
     * @throws IllegalArgumentException when a user is set and the mechanism is not PLAIN or SCRAM
     */
    public Map<String, String> over(Map<String, String> base) {
        Map<String, String> out = new LinkedHashMap<>(ownCluster() ? Map.of() : base);
        out.putAll(properties);
        if (user != null) {
            String mechanism = out.getOrDefault("sasl.mechanism", "GSSAPI").toUpperCase(Locale.ROOT);
            String module = switch (mechanism) {
                case "PLAIN" -> "org.apache.kafka.common.security.plain.PlainLoginModule";
                case "SCRAM-SHA-256", "SCRAM-SHA-512" -> "org.apache.kafka.common.security.scram.ScramLoginModule";
                default -> throw new IllegalArgumentException("a user and password log in with sasl.mechanism PLAIN, SCRAM-SHA-256 or "
                        + "SCRAM-SHA-512, found " + mechanism);
            };
            out.put("sasl.jaas.config", module + " required username=\"" + quote(user) + "\" password=\""
                    + quote(password == null ? "" : password.reveal()) + "\";");
        }
        return out;
    }

    /** JAAS options are read by a tokenizer that takes backslash escapes inside quotes. */
    private static String quote(String s) {
        return s.replace("\\", "\\\\").replace("\"", "\\\"");
    }

    @Override
    public String toString() {
        String props = properties.entrySet().stream()
                .map(e -> e.getKey() + "=" + (KafkaConfig.isSensitive(e.getKey()) ? "******" : e.getValue()))
                .collect(Collectors.joining(", ", "{", "}"));
        return "KafkaIdentity[user=" + user + ", password=" + password + ", properties=" + props
                + (ownCluster() ? ", bootstrapServers=" + bootstrapServers : "") + "]";
    }
}
