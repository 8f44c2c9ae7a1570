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
 * @param user       SASL user (PLAIN or SCRAM), or null
 * @param password   its password, from the environment; never logged
 * @param properties client properties of this role only, over {@code kafka.properties}
 */
public record KafkaIdentity(String user, Secret password, Map<String, String> properties) {
    /** The SASL mechanisms {@code user}/{@code password} can be turned into a login module for. */
    public static final Set<String> USER_PASSWORD_MECHANISMS = Set.of("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512");

    public KafkaIdentity {
        properties = properties == null ? Map.of() : Map.copyOf(properties);
    }

    /**
     * {@code base} with this identity's properties over it and, when a user is set, the
     * {@code sasl.jaas.config} that logs in as it.
     *
     * @throws IllegalArgumentException when a user is set and the mechanism is not PLAIN or SCRAM
     */
    public Map<String, String> over(Map<String, String> base) {
        Map<String, String> out = new LinkedHashMap<>(base);
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
        return "KafkaIdentity[user=" + user + ", password=" + password + ", properties=" + props + "]";
    }
}
