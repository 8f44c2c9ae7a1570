package io.lethe.config;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/** {@code regions}: each region's Redis (URI, topology, credentials, TLS), namespaces, replica gate and Kafka principal. */
final class RegionSection {
    private RegionSection() {
    }

    static Map<String, RegionConfig> read(YamlSection doc, Set<String> namespaces, KafkaConfig kafka,
            Map<KafkaRole, KafkaIdentity> identities) {
        Map<String, YamlSection> sections = doc.sections("regions");
        if (sections.isEmpty()) {
            doc.error("regions", "is required: at least one region with its redis URI");
        }
        Map<String, RegionConfig> out = new LinkedHashMap<>();
        for (Map.Entry<String, YamlSection> e : sections.entrySet()) {
            String name = e.getKey();
            YamlSection s = e.getValue();
            if (!ConfigLoader.NAME.matcher(name).matches()) {
                s.error(s.path(), "region names use letters, digits, '.', '_' and '-' (they become topic names)");
            }
            String uri = s.requiredString("redis", "redis://host:port, rediss://host:port or redis-sentinel://host:port#master");
            RedisTopology topology = topology(s, uri);
            String user = s.string("redis-user", null);
            Secret password = s.secret("redis-password");
            List<String> subscribed = s.strings("namespaces", List.copyOf(namespaces));
            for (int i = 0; i < subscribed.size(); i++) {
                if (!namespaces.contains(subscribed.get(i))) {
                    s.error(s.child("namespaces") + "[" + i + "]", "unknown namespace '" + subscribed.get(i)
                            + "'; expected one of: " + String.join(", ", namespaces));
                }
            }
            String replica = s.string("replica", null);
            if (replica != null && !JdbcUrls.isPostgres(replica)) {
                s.error(s.child("replica"), "expected jdbc:postgresql://host:port/database, found '" + replica + "'");
            }
            String replicaUser = s.string("replica-user", null);
            Secret replicaPassword = s.secret("replica-password");
            String caFile = s.string("redis-ca-file", null);
            if (caFile != null && !uri.startsWith("rediss://")) {
                s.error(s.child("redis-ca-file"), "applies to rediss:// (TLS) only; redis is " + RegionConfig.maskUserInfo(uri));
            } else if (caFile != null && !Files.isReadable(Path.of(caFile))) {
                s.error(s.child("redis-ca-file"), "expected a readable PEM file of the CA certificates to trust, found '" + caFile + "'");
            }
            if (s.has("kafka")) {
                identities.put(KafkaRole.region(name), KafkaSection.identity(s.section("kafka"), kafka, true));
            }
            s.finish(
                    "redis, topology, redis-user, redis-password, redis-ca-file, namespaces, replica, replica-user, replica-password, kafka");
            out.put(name, new RegionConfig(name, uri, topology, user, password, subscribed, replica, replicaUser, replicaPassword, caFile));
        }
        return out;
    }

    private static RedisTopology topology(YamlSection s, String uri) {
        RedisTopology inferred = uri != null && uri.startsWith("redis-sentinel") ? RedisTopology.SENTINEL : RedisTopology.STANDALONE;
        if (uri != null && !uri.matches("(redis|rediss|redis-sentinel|rediss-sentinel)://.+")) {
            s.error(s.child("redis"), "expected a redis://, rediss:// or redis-sentinel:// URI, found '"
                    + RegionConfig.maskUserInfo(uri) + "'");
        }
        String text = s.string("topology", inferred.name().toLowerCase(Locale.ROOT));
        try {
            return RedisTopology.valueOf(text.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            s.error(s.child("topology"), "expected standalone, sentinel or cluster, found '" + text + "'");
            return inferred;
        }
    }
}
