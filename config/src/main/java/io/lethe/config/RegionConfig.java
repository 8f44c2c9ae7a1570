package io.lethe.config;

import java.util.List;

/**
 * One region: its Redis and the namespaces it caches.
 *
 * @param name            region name, e.g. {@code eu-west} (also its topic suffix)
 * @param redisUri        {@code redis://}, {@code rediss://} (TLS) or {@code redis-sentinel://} URI;
 *                        for a cluster, any node (several separated by commas)
 * @param topology        standalone, sentinel or cluster
 * @param redisUser       ACL user, when not the default user
 * @param redisPassword   from the environment; never logged
 * @param namespaces      namespaces this region subscribes to (data locality)
 * @param replicaJdbcUrl  the read replica its readers load from, for the replica gate (optional)
 * @param replicaUser     role for the replica (defaults to the source's)
 * @param replicaPassword password for the replica (defaults to the source's)
 */
public record RegionConfig(String name, String redisUri, RedisTopology topology, String redisUser,
        Secret redisPassword, List<String> namespaces, String replicaJdbcUrl,
        String replicaUser, Secret replicaPassword, String redisCaFile) {

    public RegionConfig {
        namespaces = List.copyOf(namespaces);
    }

    public boolean hasReplicaGate() {
        return replicaJdbcUrl != null;
    }

    /** The Redis URI with any password in it masked. */
    public String redisUriForDisplay() {
        return maskUserInfo(redisUri);
    }

    static String maskUserInfo(String uri) {
        if (uri == null) {
            return null;
        }
        int scheme = uri.indexOf("://");
        int at = uri.lastIndexOf('@');
        if (scheme < 0 || at < scheme) {
            return uri;
        }
        return uri.substring(0, scheme + 3) + "******" + uri.substring(at);
    }

    @Override
    public String toString() {
        return "RegionConfig[name=" + name + ", redisUri=" + redisUriForDisplay() + ", topology=" + topology
                + ", redisUser=" + redisUser + ", redisPassword=" + redisPassword + ", namespaces=" + namespaces
                + ", replicaJdbcUrl=" + JdbcUrls.forDisplay(replicaJdbcUrl) + ", replicaUser=" + replicaUser
                + ", replicaPassword=" + replicaPassword + ", redisCaFile=" + redisCaFile + "]";
    }
}
