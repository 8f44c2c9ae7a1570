package io.lethe.cache;

import io.lethe.schemas.redis.AppliedLsn;
import io.lethe.schemas.redis.RedisLayout;
import io.lettuce.core.RedisURI;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The application's read path over one region's Redis. Create one per process and region,
 * then a {@link CacheNamespace} per namespace:
 *
 * <pre>{@code
 * LetheCache cache = LetheCache.builder("redis://127.0.0.1:6379").build();
 * CacheNamespace<Product> products = cache.namespace("product", Codecs.json(Product.class), Policy.eventual());
 * Product p = products.get("product:42", key -> Loaded.of(repository.find(42)));
 * }</pre>
 *
 * Fills go through {@code fill.lua} with the fence counter read at the miss, so a value loaded
 * before an invalidation landed is never cached.
 */
public final class LetheCache implements AutoCloseable {
    private final CacheRedis redis;
    private final MeterRegistry registry;
    private final Clock clock;
    private final ExecutorService loaders;
    private final boolean ownsLoaders;
    private final NearCache near;
    private final String appliedLsnKey;
    private final AtomicBoolean closed = new AtomicBoolean();
    private final Inspection inspection;
    private final PrimaryPositions positions;
    private final String region;

    private LetheCache(Builder b) {
        this.region = b.region;
        this.appliedLsnKey = b.readYourWritesGroup == null ? null : AppliedLsn.key(b.readYourWritesGroup);
        this.near = b.near == null ? null : new NearCache(b.near.maximumSize(), b.near.ttl(), b.clock);
        this.redis = b.redis.open(near, b.clock, b.registry);
        this.registry = b.registry;
        this.clock = b.clock;
        this.ownsLoaders = b.loaders == null;
        this.loaders = b.loaders != null
                ? b.loaders
                : Executors.newFixedThreadPool(b.loaderThreads, DaemonThreads.named("lethe-cache-loader"));
        this.inspection = new Inspection(redis, b.shadowReadLimits, b.shadowReadsHeal, clock, appliedLsnKey);
        this.positions = new PrimaryPositions(b.primaryPosition, loaders);
    }

    public static Builder builder(String redisUri) {
        return new Builder().redis(redisUri);
    }

    /** A typed view of one namespace with its policy; its fills are not checked against what the region's entries hold. */
    public <T> CacheNamespace<T> namespace(String name, Codec<T> codec, Policy policy) {
        return namespace(name, codec, policy, null);
    }

    /**
     * Declared with what its entries hold in this reader's lethe.yml, {@code NamespaceConfig.readerHolds()} (a list: lethe-config
     * stays optional): a fill is refused while the region's Redis records other holds (docs/cache-client.md). Null: not checked.
     */
    public <T> CacheNamespace<T> namespace(String name, Codec<T> codec, Policy policy, List<String> holds) {
        return new CacheNamespace<>(name, holds == null ? null : RedisLayout.holds(holds), codec, policy, redis,
                new CacheMetrics(registry, name, region), clock, loaders, near, appliedLsnKey, inspection, positions);
    }

    /** Shadow reads accepted and not finished yet (tests wait for 0). */
    public int shadowReadsPending() {
        return inspection.pending();
    }

    /** Entries in the near cache now (0 without one). */
    public long nearCacheSize() {
        return near == null ? 0 : near.size();
    }

    /** Releases the connection (and the loader threads it made); closing again does nothing. */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return; // a second close would have Lettuce warn about a connection already closed
        }
        inspection.close();
        if (ownsLoaders) {
            loaders.shutdownNow();
        }
        redis.close();
    }

    /** Options of the optional L1 near cache. */
    record NearCacheOptions(long maximumSize, Duration ttl) {
    }

    public static final class Builder {
        private final RedisSettings redis = new RedisSettings();
        private MeterRegistry registry = new SimpleMeterRegistry();
        private Clock clock = Clock.systemUTC();
        private ExecutorService loaders;
        private int loaderThreads = 16;
        private NearCacheOptions near;
        private String readYourWritesGroup;
        private Inspection.Limits shadowReadLimits = Inspection.Limits.DEFAULT;
        private boolean shadowReadsHeal = true;
        private PrimaryPosition primaryPosition;
        private String region;

        private Builder() {
        }

        /**
         * Bounds read-your-writes tokens, which come from the application's callers: a token beyond
         * the primary's current position is refused with {@link TokenAheadOfPrimaryException}
         * instead of sending every read of it to the primary. The primary is asked only when a token
         * is beyond the highest position seen, one question at a time
         * ({@link ReadTokens#primaryPosition(javax.sql.DataSource)}). Without it tokens are not bounded.
         */
        public Builder primaryPosition(PrimaryPosition source) {
            this.primaryPosition = Objects.requireNonNull(source, "source");
            return this;
        }

        /**
         * Trusts the CA certificates in this PEM file for {@code rediss://} (a private CA), instead of
         * the JVM's trust store. Certificates and host names are always verified.
         */
        public Builder trustedCertificates(Path pemFile) {
            Objects.requireNonNull(pemFile, "pemFile");
            if (!Files.isReadable(pemFile)) {
                throw new IllegalArgumentException(
                        "trustedCertificates: expected a readable PEM file of CA certificates, found '" + pemFile + "'");
            }
            redis.trustedCertificates = pemFile;
            return this;
        }

        /**
         * Authenticates as this Redis ACL user (or {@code default}) with this password, kept out of the
         * URI so that it never appears where URIs are printed. The array is copied.
         */
        public Builder credentials(String user, char[] password) {
            redis.user = user == null || user.isEmpty() ? "default" : user;
            redis.password = Objects.requireNonNull(password, "password").clone();
            return this;
        }

        /**
         * The circuit breaker in front of this region's Redis: it opens when at least
         * {@code failureRatePercent} of the reads in the last {@code window} (and at least
         * {@code minimumCalls} of them) failed or timed out; while open, reads do not wait for
         * Redis (no command timeout) but go straight to the outage path (single-flight load under
         * the namespace's {@link Policy#withLoadLimits}, or a near-cache copy with
         * {@link Policy#withStaleOnOutage}); after {@code openFor} a few probe reads go to Redis,
         * and it closes when they succeed. Defaults: 50 %, 10 s, 20, 2 s.
         */
        public Builder circuitBreaker(float failureRatePercent, Duration window, int minimumCalls, Duration openFor) {
            redis.breaker = new RedisBreaker.Options(failureRatePercent, window, minimumCalls, openFor);
            return this;
        }

        /**
         * The region this cache reads (its name in lethe.yml): every meter of the cache is tagged
         * {@code region} with it, so that the shadow reads' stale-entry ratio and its alert
         * (LetheCacheStaleEntries) are per region and namespace. Unset, the meters carry no
         * {@code region} tag (a registry's common tag may give one). Set it on every cache of a
         * process or on none: one meter name with two tag sets is refused by some registries.
         */
        public Builder region(String name) {
            if (name == null || name.isBlank()) {
                throw new IllegalArgumentException("region needs the region's name from lethe.yml, was '" + name + "'");
            }
            this.region = name;
            return this;
        }

        /**
         * Bounds the shadow reads of sampled hits ({@link Policy#withShadowReads}) in this process:
         * at most {@code concurrency} inspections at a time (each including its grace) and
         * {@code maxPerSecond} started per second (so at most that many extra loads per second,
         * two for a difference); a sample over either is counted as {@code dropped}, never
         * queued. A difference is checked again after the region's measured lag (from its applied
         * watermark, with {@link #readYourWrites}; else none) capped at {@code maxGrace}, plus
         * {@code margin}. Defaults: 2, 20, 2 s, 60 s.
         */
        public Builder shadowReadLimits(int concurrency, int maxPerSecond, Duration margin, Duration maxGrace) {
            this.shadowReadLimits = new Inspection.Limits(concurrency, maxPerSecond, margin, maxGrace);
            return this;
        }

        /**
         * Whether a confirmed stale entry is healed (invalidated at the version served, so the next
         * read reloads it); default true. Verification readers turn it off so that what they judge
         * is what the pipeline did, not what the inspection repaired; they still count and audit.
         */
        public Builder shadowReadsHeal(boolean heal) {
            this.shadowReadsHeal = heal;
            return this;
        }

        /**
         * Enables reads with a token ({@link CacheNamespace#get(String, Loader, long)}): this
         * region's applied watermark is read from the key its consumers publish, named after their
         * consumer group, {@code <apply.group-prefix><region>} ({@code lethe-region-<region>} by default).
         */
        public Builder readYourWrites(String consumerGroup) {
            if (consumerGroup == null || consumerGroup.isBlank()) {
                throw new IllegalArgumentException("readYourWrites needs the region's consumer group, was '" + consumerGroup + "'");
            }
            this.readYourWritesGroup = consumerGroup;
            return this;
        }

        /** A {@code redis://}, {@code rediss://} or {@code redis-sentinel://} URI (more than one for a cluster). */
        public Builder redis(String uri) {
            redis.uris.add(RedisURI.create(Objects.requireNonNull(uri, "uri")));
            return this;
        }

        /** Talk to a Redis Cluster (the URIs are seed nodes). */
        public Builder cluster(boolean isCluster) {
            redis.cluster = isCluster;
            return this;
        }

        public Builder meterRegistry(MeterRegistry meterRegistry) {
            this.registry = Objects.requireNonNull(meterRegistry, "meterRegistry");
            return this;
        }

        /** The clock for TTLs and soft expiry (tests move it). */
        public Builder clock(Clock c) {
            this.clock = Objects.requireNonNull(c, "clock");
            return this;
        }

        /** Runs loaders on this executor instead of an own pool of 16 threads. */
        public Builder loaderExecutor(ExecutorService executor) {
            this.loaders = Objects.requireNonNull(executor, "executor");
            return this;
        }

        public Builder loaderThreads(int threads) {
            if (threads < 1) {
                throw new IllegalArgumentException("loaderThreads must be >= 1, was " + threads);
            }
            this.loaderThreads = threads;
            return this;
        }

        /**
         * Adds an L1 near cache of at most {@code maximumSize} entries, each kept at most
         * {@code ttl}, coherent through Redis CLIENT TRACKING (standalone or Sentinel Redis only).
         */
        public Builder nearCache(long maximumSize, Duration ttl) {
            if (maximumSize < 1 || ttl == null || ttl.isNegative() || ttl.isZero()) {
                throw new IllegalArgumentException("near cache needs maximumSize >= 1 and a positive ttl");
            }
            this.near = new NearCacheOptions(maximumSize, ttl);
            return this;
        }

        /** How long a Redis command may take before the read falls back to the loader (default 500 ms). */
        public Builder timeout(Duration timeout) {
            if (timeout == null || timeout.isNegative() || timeout.isZero()) {
                throw new IllegalArgumentException("timeout must be positive, was " + timeout);
            }
            redis.timeout = timeout;
            return this;
        }

        /**
         * How long {@link #build()} keeps trying to connect while Redis refuses or answers the
         * handshake slowly (default 10 s); after that it throws. Once connected, a lost
         * connection is re-established in the background and reads fall back to the loader.
         */
        public Builder connectWithin(Duration within) {
            if (within == null || within.isNegative()) {
                throw new IllegalArgumentException("connectWithin must be zero or positive, was " + within);
            }
            redis.connectWithin = within;
            return this;
        }

        public LetheCache build() {
            if (redis.uris.isEmpty()) {
                throw new IllegalStateException("a Redis URI is required");
            }
            return new LetheCache(this);
        }
    }
}
