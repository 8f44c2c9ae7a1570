package io.lethe.cache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lethe.embedded.EmbeddedStack;
import io.lethe.embedded.TestCertificates;
import io.lethe.embedded.junit.LetheStackExtension;
import io.lethe.embedded.junit.TestScope;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.api.StatefulRedisConnection;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The application's reader over TLS with a private CA and a password kept out of the URI
 * (issue 34: cache-client can be given a CA and credentials): it reads and fills through
 * {@code rediss://}, and without the CA it refuses the server's certificate.
 */
@ExtendWith(LetheStackExtension.class)
class CacheClientTlsIT {

    @Test
    void readsAndFillsThroughRedissWithAPrivateCaAndCredentials(EmbeddedStack stack, TestScope scope, @TempDir Path dir) throws Exception {
        TestCertificates certs = TestCertificates.create(dir);
        int tlsPort;
        try (ServerSocket probe = new ServerSocket(0)) {
            tlsPort = probe.getLocalPort();
        }
        int plainPort = stack.startExtraRedis("cache-tls-" + scope.id(),
                List.of("tls-port " + tlsPort, "tls-cert-file " + certs.certificate(),
                        "tls-key-file " + certs.key(), "tls-ca-cert-file " + certs.certificate(), "tls-auth-clients no"));
        RedisClient plain = RedisClient.create();
        try (StatefulRedisConnection<String, String> c = plain.connect(RedisURI.create("redis://127.0.0.1:" + plainPort))) {
            c.sync().configSet("requirepass", "s3cret-" + scope.id()); // after start: the stack's start-up probe connects without one
        }
        String key = scope.key("product:1");
        try (LetheCache cache = LetheCache.builder("rediss://127.0.0.1:" + tlsPort).trustedCertificates(certs.certificate())
                .credentials("default", ("s3cret-" + scope.id()).toCharArray()).build()) {
            CacheNamespace<String> ns = cache.namespace("product", Codecs.utf8(), Policy.eventual().withShadowReads(0));
            assertEquals("one", ns.get(key, k -> Loaded.of("one")));
            assertEquals("one", ns.get(key, k -> {
                throw new AssertionError("filled through TLS: a hit");
            }));
        }
        try (StatefulRedisConnection<String, String> c = plain.connect(RedisURI.builder().withHost("127.0.0.1").withPort(plainPort)
                .withPassword(("s3cret-" + scope.id()).toCharArray()).build())) {
            assertEquals("one", c.sync().hget(key, "d"), "the fill landed in that Redis");
        } finally {
            plain.shutdown();
        }
        RuntimeException untrusted = assertThrows(RuntimeException.class, () -> LetheCache.builder("rediss://127.0.0.1:" + tlsPort)
                .credentials("default", ("s3cret-" + scope.id()).toCharArray()).connectWithin(Duration.ZERO).build().close());
        assertTrue(String.valueOf(untrusted.getMessage()).contains("127.0.0.1:" + tlsPort), String.valueOf(untrusted.getMessage()));
        IllegalArgumentException missing = assertThrows(IllegalArgumentException.class,
                () -> LetheCache.builder("rediss://127.0.0.1:" + tlsPort).trustedCertificates(dir.resolve("nope.pem")));
        assertTrue(missing.getMessage().contains("nope.pem"), missing.getMessage());
    }
}
