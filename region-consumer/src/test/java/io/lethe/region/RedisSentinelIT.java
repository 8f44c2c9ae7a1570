package io.lethe.region;

import io.lethe.embedded.EmbeddedStack;
import io.lethe.embedded.junit.LetheStackExtension;
import io.lethe.embedded.junit.TestScope;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** A region configured with {@code redis-sentinel://} finds its master through a real Sentinel and applies to it. */
@ExtendWith(LetheStackExtension.class)
class RedisSentinelIT {

    @Test
    void aRegionAppliesToTheMasterItsSentinelNames(EmbeddedStack stack, TestScope scope) throws Exception {
        String master = "lethe-" + scope.id();
        int masterPort = stack.startExtraRedis("sentinel-master-" + scope.id(), List.of());
        int sentinelPort = stack.startSentinel(master, masterPort);
        try (RegionFixture f = new RegionFixture(stack, scope)) {
            f.assertUsEastAppliesThrough("{ redis: \"redis-sentinel://127.0.0.1:" + sentinelPort + "#" + master + "\" }", masterPort);
        }
    }
}
