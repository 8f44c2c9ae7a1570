package io.lethe.region;

import io.lethe.embedded.EmbeddedStack;
import io.lethe.embedded.TestCertificates;
import io.lethe.embedded.junit.LetheStackExtension;
import io.lethe.embedded.junit.TestScope;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.util.List;
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
            f.assertUsEastAppliesThrough(
                    "{ redis: \"rediss://127.0.0.1:" + tlsPort + "\", redis-ca-file: \"" + certs.certificate() + "\" }",
                    plainPort);
        }
    }
}
