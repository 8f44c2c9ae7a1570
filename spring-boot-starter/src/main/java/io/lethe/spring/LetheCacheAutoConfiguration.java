package io.lethe.spring;

import io.lethe.cache.Codec;
import io.lethe.cache.Codecs;
import io.lethe.cache.Invalidations;
import io.lethe.cache.Keys;
import io.lethe.cache.LetheCache;
import io.lethe.cache.Policy;
import io.lethe.config.ConfigLoader;
import io.lethe.config.LetheConfig;
import io.lethe.config.NamespaceConfig;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.cache.CacheAutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.cache.CacheManager;
import org.springframework.context.annotation.Bean;

/**
 * With {@code lethe.cache.redis} set: a {@link LetheCache} over the region's Redis, an
 * {@link Invalidations} when {@code lethe.cache.config} names lethe.yml, and a
 * {@link LetheCacheManager} with one cache per {@code lethe.cache.namespaces} entry (unless the
 * application defines its own {@link CacheManager}); with lethe.yml, each namespace it knows is declared
 * with what its entries hold there, so its fills are refused while the region runs another configuration of it. Caching itself is switched on by the
 * application's {@code @EnableCaching}.
 */
@AutoConfiguration(before = CacheAutoConfiguration.class)
@ConditionalOnClass({LetheCache.class, CacheManager.class})
@ConditionalOnProperty(prefix = "lethe.cache", name = "redis")
@EnableConfigurationProperties(LetheCacheProperties.class)
public class LetheCacheAutoConfiguration {

    @Bean(destroyMethod = "close")
    @ConditionalOnMissingBean
    public LetheCache letheCache(LetheCacheProperties properties, ObjectProvider<MeterRegistry> registry) {
        List<String> uris = properties.getRedis();
        if (uris.isEmpty()) {
            throw new IllegalArgumentException("lethe.cache.redis: expected the region's Redis URI(s), found none");
        }
        LetheCache.Builder builder = LetheCache.builder(uris.get(0));
        uris.subList(1, uris.size()).forEach(builder::redis);
        builder.cluster(properties.isCluster()).timeout(properties.getTimeout());
        if (properties.getRegion() != null) {
            builder.region(properties.getRegion());
        }
        if (properties.getTrustedCertificates() != null) {
            builder.trustedCertificates(properties.getTrustedCertificates());
        }
        if (properties.getPassword() != null) {
            builder.credentials(properties.getUsername(), properties.getPassword().toCharArray());
        }
        if (properties.getNearCacheSize() > 0) {
            builder.nearCache(properties.getNearCacheSize(), properties.getNearCacheTtl());
        }
        registry.ifAvailable(builder::meterRegistry);
        return builder.build();
    }

    @Bean(destroyMethod = "close")
    @ConditionalOnMissingBean
    @ConditionalOnProperty(prefix = "lethe.cache", name = "config")
    public Invalidations letheInvalidations(LetheCacheProperties properties) {
        return Invalidations.open(properties.getConfig());
    }

    @Bean
    @ConditionalOnMissingBean(CacheManager.class)
    public LetheCacheManager cacheManager(LetheCache cache, LetheCacheProperties properties,
            ObjectProvider<Invalidations> invalidations) {
        Invalidations purge = invalidations.getIfAvailable();
        LetheConfig config = properties.getConfig() == null ? null : ConfigLoader.load(properties.getConfig());
        List<LetheSpringCache> caches = new ArrayList<>();
        properties.getNamespaces().forEach((name, ns) -> caches.add(new LetheSpringCache(
                cache.namespace(name, codec(name, ns), policy(name, ns), holds(config, name)),
                ns.getKeyTemplate() == null ? null : Keys.template(ns.getKeyTemplate()), purge)));
        return new LetheCacheManager(caches);
    }

    /**
     * What {@code name}'s entries hold by lethe.yml ({@code lethe.cache.config}), declared so that a fill is refused
     * while the region's Redis records other holds (docs/cache-client.md); null (not checked) without a config file,
     * or for a namespace the file does not know (a cache name of the application's own).
     */
    static List<String> holds(LetheConfig config, String name) {
        NamespaceConfig ns = config == null ? null : config.namespaces().get(name);
        return ns == null ? null : ns.readerHolds();
    }

    @SuppressWarnings("unchecked")
    static Codec<Object> codec(String name, LetheCacheProperties.Namespace ns) {
        if (ns.getValueType() != null) {
            return (Codec<Object>) Codecs.json(ns.getValueType());
        }
        return new SerializedCodec(name, Thread.currentThread().getContextClassLoader());
    }

    static Policy policy(String name, LetheCacheProperties.Namespace ns) {
        String path = "lethe.cache.namespaces." + name;
        Policy base = switch (ns.getConsistency().toLowerCase(Locale.ROOT)) {
            case "strong" -> Policy.strong();
            case "eventual" -> Policy.eventual();
            case "bounded" -> {
                if (ns.getMaxAge() == null) {
                    throw new IllegalArgumentException(path + ".max-age: a bounded namespace needs the oldest entry it serves, e.g. 5s");
                }
                yield Policy.bounded(ns.getMaxAge());
            }
            default -> throw new IllegalArgumentException(path + ".consistency: expected strong, bounded or eventual, found '"
                    + ns.getConsistency() + "'");
        };
        try {
            Policy p = base.withFenceTtl(ns.getFenceTtl()).withNegativeTtl(ns.getNegativeTtl()).withShadowReads(ns.getShadowReads());
            return base.consistency() == Policy.Consistency.STRONG ? p : p.withTtl(ns.getTtl(), p.jitter());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(path + ": " + e.getMessage(), e);
        }
    }
}
