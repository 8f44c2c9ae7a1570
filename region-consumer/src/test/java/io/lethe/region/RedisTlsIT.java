package io.lethe.region;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lethe.config.LetheConfig;
import io.lethe.embedded.EmbeddedStack;
import io.lethe.embedded.TestCertificates;
import io.lethe.embedded.junit.LetheStackExtension;
import io.lethe.embedded.junit.TestScope;
import io.lethe.schemas.redis.RedisLayout;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.api.StatefulRedisConnection;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * A region whose Redis speaks only TLS on the port it is given ({@code rediss://}), with a
 * certificate made here and trusted through {@code redis-ca-file}: the region applies to it.
 */
@ExtendWith(LetheStackExtension.class)
class RedisTlsIT {

    @Test
    void aRegionAppliesThroughRedissWithAPrivateCa(EmbeddedStack stack, TestScope scope, @TempDir Path dir) throws Exception {
        TestCertificates certs = TestCertificates.create(dir);
        int tlsPort;
        try (ServerSocket probe = new ServerSocket(0)) {
            tlsPort = probe.getLocalPort();
        }
        int plainPort = stack.startExtraRedis("tls-" + scope.id(), List.of("tls-port " + tlsPort, "tls-cert-file " + certs.certificate(),
                "tls-key-file " + certs.key(), "tls-ca-cert-file " + certs.certificate(), "tls-auth-clients no"));
        try (RegionFixture f = new RegionFixture(stack, scope)) {
            String p = scope.keyPrefix();
            LetheConfig config = f.config(f.yaml(Map.of("us-east", "{ redis: \"rediss://127.0.0.1:" + tlsPort + "\", redis-ca-file: \""
                            + certs.certificate() + "\" }"),
                    "product: { table: public.products, keys: [\"" + p + "product:{id}\"] }", ""));
            RedisClient plain = RedisClient.create();
            try (StatefulRedisConnection<String, String> check = plain.connect(RedisURI.create("redis://127.0.0.1:" + plainPort));
                 RegionConsumerService region = new RegionConsumerService(config, "us-east", new SimpleMeterRegistry(), Clock.systemUTC())) {
                String key = p + "product:1";
                check.sync().hset(key, Map.of("v", "1", "d", "old"));
                region.start();
                f.send(config.topics().invalidations("us-east"), RegionFixture.key("product", key, "5"));
                f.flush();
                RegionFixture.await("the invalidation applied over TLS", Duration.ofSeconds(30),
                        () -> check.sync().exists(key) == 0 && "5".equals(check.sync().hget(RedisLayout.fenceKey(key), "v")));
                assertTrue(region.isRunning());
            } finally {
                plain.shutdown();
            }
        }
    }
}
