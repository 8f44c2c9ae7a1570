package io.lethe.cache;

import io.lethe.config.ConfigLoader;
import io.lethe.config.KafkaRole;
import io.lethe.config.LetheConfig;
import io.lethe.config.invalidate.ManualInvalidations;
import java.nio.file.Path;
import java.util.Objects;

/**
 * Purges from the application, through the pipeline exactly as {@code lethe invalidate} does (the
 * same code): the purge is requested on {@code <prefix>.invalidation-requests}, and invalidation-streams
 * routes it, with the configuration the regions run, to every region that may cache the target, so each
 * region applies it in order with CDC's invalidations, and its fence refuses any fill whose load
 * started before it. Not a DEL in this region's Redis: that would let a concurrent reader's stale
 * fill win, and no other region would see it. A call returns once Kafka acknowledged the request:
 * the purge is durable then, not yet applied; each region removes the entry once streams routed it and
 * the region applied it (their lag, {@code lethe lag}). A purge streams refuses (a namespace or key
 * its configuration does not have) is dead-lettered there, not reported to the caller.
 *
 * <pre>{@code
 * try (Invalidations invalidations = Invalidations.open(Path.of("lethe.yml"))) {
 *     invalidations.invalidate("product", "product:42");
 *     invalidations.invalidatePattern("product", "product:42:*");
 * }
 * }</pre>
 *
 * It reads {@code lethe.yml} (the primary's position as {@code source.reader-user}, which needs the
 * PostgreSQL JDBC driver on the class path) and publishes as the {@code app} Kafka role
 * ({@code kafka.roles.app}: write on the request topic, nothing else). Thread-safe; one Kafka producer.
 */
public final class Invalidations implements AutoCloseable {
    private final ManualInvalidations manual;

    private Invalidations(ManualInvalidations manual) {
        this.manual = manual;
    }

    /**
     * @throws io.lethe.config.ConfigException naming every bad setting of the file
     */
    public static Invalidations open(Path letheYml) {
        return of(ConfigLoader.load(Objects.requireNonNull(letheYml, "letheYml")));
    }

    /** Over a configuration already loaded. */
    public static Invalidations of(LetheConfig config) {
        return new Invalidations(new ManualInvalidations(config, KafkaRole.APP));
    }

    /**
     * Purges one key of {@code namespace} in every region.
     *
     * @throws IllegalArgumentException when the namespace is unknown or the key is not one of its templates'
     * @throws IllegalStateException when it could not be published (Kafka or PostgreSQL failed)
     */
    public void invalidate(String namespace, String key) {
        publish(namespace, key, () -> manual.key(namespace, key));
    }

    /**
     * Purges every key of {@code namespace} that matches the Redis glob, in every region.
     *
     * @throws IllegalArgumentException when the glob can match another namespace's keys, or all of
     *         this namespace's (purge a whole namespace with {@code lethe invalidate --force})
     * @throws IllegalStateException when it could not be published (Kafka or PostgreSQL failed)
     */
    public void invalidatePattern(String namespace, String glob) {
        publish(namespace, glob, () -> manual.pattern(namespace, glob, false));
    }

    private interface Publish {
        ManualInvalidations.Published run() throws Exception;
    }

    private static void publish(String namespace, String target, Publish publish) {
        try {
            publish.run();
        } catch (ManualInvalidations.Refused e) {
            throw e;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while publishing the invalidation of " + target + " (namespace " + namespace + ")",
                    e);
        } catch (Exception e) {
            throw new IllegalStateException("the invalidation of " + target + " (namespace " + namespace + ") was not published: " + e, e);
        }
    }

    @Override
    public void close() {
        manual.close();
    }
}
