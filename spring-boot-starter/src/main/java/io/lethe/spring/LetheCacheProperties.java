package io.lethe.spring;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.springframework.boot.context.properties.ConfigurationProperties;

/**
 * {@code lethe.cache.*}: the region's Redis and one entry per Lethe namespace, each of which is
 * a Spring cache of the same name. See docs/spring.md. Credentials come from the environment
 * through placeholders ({@code password: ${REDIS_PASSWORD}}); {@link #toString()} never shows them.
 */
@ConfigurationProperties(prefix = "lethe.cache")
public class LetheCacheProperties {
    /** The region's Redis: one {@code redis://}, {@code rediss://} or {@code redis-sentinel://} URI, or a cluster's seed nodes. */
    private List<String> redis = new ArrayList<>();
    /** Whether {@link #redis} are a Redis Cluster's seed nodes. */
    private boolean cluster;
    /** The region's name in lethe.yml: every meter of the cache is tagged with it. */
    private String region;
    /** How long a Redis command may take before a read falls back to the loader. */
    private Duration timeout = Duration.ofMillis(500);
    /** A PEM file of CA certificates to trust for {@code rediss://}, instead of the JVM's trust store. */
    private Path trustedCertificates;
    /** The Redis ACL user ({@code default} when only a password is set). */
    private String username;
    /** The Redis password: set it from the environment, {@code ${REDIS_PASSWORD}}. */
    private String password;
    /**
     * lethe.yml: needed for {@code evict} ({@link org.springframework.cache.annotation.CacheEvict}),
     * which purges through the pipeline as {@code lethe invalidate} does. Without it evict is refused.
     * With it, each namespace the file knows is declared with what its entries hold there: a fill is
     * refused while the region's Redis records that they hold something else (another configuration).
     */
    private Path config;
    /** Near cache (L1) entries; 0: none. */
    private long nearCacheSize;
    /** How long a near-cache entry is kept at most. */
    private Duration nearCacheTtl = Duration.ofMinutes(1);
    /** One per Lethe namespace, by its name in lethe.yml; each is a Spring cache of that name. */
    private Map<String, Namespace> namespaces = new LinkedHashMap<>();

    /** A namespace's read policy and how Spring's keys and values map to Lethe's. */
    public static class Namespace {
        /** strong, bounded or eventual. */
        private String consistency = "eventual";
        /** For bounded: the oldest entry served. */
        private Duration maxAge;
        /** Entry TTL (0: none). */
        private Duration ttl = io.lethe.cache.Policy.DEFAULT_TTL;
        /** How long "not found" (a method that returned null) is cached; 0: not cached. */
        private Duration negativeTtl = Duration.ZERO;
        /** The namespace's fence-ttl in lethe.yml. */
        private Duration fenceTtl = io.lethe.cache.Policy.DEFAULT_FENCE_TTL;
        /** About one hit in this many is shadow-read (0: none). */
        private int shadowReads = io.lethe.cache.Policy.DEFAULT_SHADOW_READS;
        /**
         * A key template as in lethe.yml, e.g. {@code product:{id}}: a key that is not a String (the
         * method's arguments) is rendered with it, in the template's column order. Unset, keys must
         * be Strings, the Lethe key itself ({@code key = "'product:' + #id"}).
         */
        private String keyTemplate;
        /** Values are JSON of this class; unset, Java serialization (the values must be Serializable). */
        private Class<?> valueType;

        public String getConsistency() {
            return consistency;
        }

        public void setConsistency(String consistency) {
            this.consistency = consistency;
        }

        public Duration getMaxAge() {
            return maxAge;
        }

        public void setMaxAge(Duration maxAge) {
            this.maxAge = maxAge;
        }

        public Duration getTtl() {
            return ttl;
        }

        public void setTtl(Duration ttl) {
            this.ttl = ttl;
        }

        public Duration getNegativeTtl() {
            return negativeTtl;
        }

        public void setNegativeTtl(Duration negativeTtl) {
            this.negativeTtl = negativeTtl;
        }

        public Duration getFenceTtl() {
            return fenceTtl;
        }

        public void setFenceTtl(Duration fenceTtl) {
            this.fenceTtl = fenceTtl;
        }

        public int getShadowReads() {
            return shadowReads;
        }

        public void setShadowReads(int shadowReads) {
            this.shadowReads = shadowReads;
        }

        public String getKeyTemplate() {
            return keyTemplate;
        }

        public void setKeyTemplate(String keyTemplate) {
            this.keyTemplate = keyTemplate;
        }

        public Class<?> getValueType() {
            return valueType;
        }

        public void setValueType(Class<?> valueType) {
            this.valueType = valueType;
        }
    }

    public List<String> getRedis() {
        return redis;
    }

    public void setRedis(List<String> redis) {
        this.redis = redis;
    }

    public boolean isCluster() {
        return cluster;
    }

    public void setCluster(boolean cluster) {
        this.cluster = cluster;
    }

    public String getRegion() {
        return region;
    }

    public void setRegion(String region) {
        this.region = region;
    }

    public Duration getTimeout() {
        return timeout;
    }

    public void setTimeout(Duration timeout) {
        this.timeout = timeout;
    }

    public Path getTrustedCertificates() {
        return trustedCertificates;
    }

    public void setTrustedCertificates(Path trustedCertificates) {
        this.trustedCertificates = trustedCertificates;
    }

    public String getUsername() {
        return username;
    }

    public void setUsername(String username) {
        this.username = username;
    }

    public String getPassword() {
        return password;
    }

    public void setPassword(String password) {
        this.password = password;
    }

    public Path getConfig() {
        return config;
    }

    public void setConfig(Path config) {
        this.config = config;
    }

    public long getNearCacheSize() {
        return nearCacheSize;
    }

    public void setNearCacheSize(long nearCacheSize) {
        this.nearCacheSize = nearCacheSize;
    }

    public Duration getNearCacheTtl() {
        return nearCacheTtl;
    }

    public void setNearCacheTtl(Duration nearCacheTtl) {
        this.nearCacheTtl = nearCacheTtl;
    }

    public Map<String, Namespace> getNamespaces() {
        return namespaces;
    }

    public void setNamespaces(Map<String, Namespace> namespaces) {
        this.namespaces = namespaces;
    }

    @Override
    public String toString() {
        return "LetheCacheProperties[redis=" + redis.size() + " URI(s), region=" + region + ", namespaces=" + namespaces.keySet() + "]";
    }
}
