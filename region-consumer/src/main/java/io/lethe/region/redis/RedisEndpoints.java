package io.lethe.region.redis;

import io.lethe.config.RedisTopology;
import io.lethe.config.RegionConfig;
import io.lettuce.core.RedisURI;
import io.lettuce.core.SslOptions;
import io.lettuce.core.StaticCredentialsProvider;
import java.io.File;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/** Where a region's Redis is and how to reach it: its URIs with credentials and timeout, and TLS. */
public final class RedisEndpoints {
    private RedisEndpoints() {
    }

    /** TLS for rediss://: the JVM's trust store, or the CA certificates of {@code redis-ca-file}. */
    public static SslOptions sslOptions(RegionConfig region) {
        SslOptions.Builder b = SslOptions.builder();
        if (region.redisCaFile() != null) {
            b.trustManager(new File(region.redisCaFile()));
        }
        return b.build();
    }

    /**
     * The region's Redis URIs (a cluster's seed nodes, else the one URI), with the command timeout
     * and the region's credentials: every connection to a region's Redis is made from these.
     */
    public static List<RedisURI> uris(RegionConfig region, Duration timeout) {
        List<RedisURI> out = new ArrayList<>();
        List<String> texts = region.topology() == RedisTopology.CLUSTER
                ? List.of(region.redisUri().split(","))
                : List.of(region.redisUri());
        for (String text : texts) {
            String t = text.trim();
            if (!t.contains("://")) {
                t = "redis://" + t;
            }
            // the URI as parsed (RedisURI.builder(uri) would drop a redis-sentinel:// URI's sentinels)
            RedisURI uri = RedisURI.create(t);
            uri.setTimeout(timeout);
            if (region.redisPassword() != null) {
                uri.setCredentialsProvider(new StaticCredentialsProvider(region.redisUser() == null ? "default" : region.redisUser(),
                        region.redisPassword().reveal().toCharArray()));
            }
            out.add(uri);
        }
        return out;
    }
}
