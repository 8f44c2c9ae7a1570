package io.lethe.region;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lethe.config.LetheConfig;
import io.lethe.embedded.LetheStack;
import io.lethe.embedded.junit.LetheStackExtension;
import io.lethe.embedded.junit.TestScope;
import io.lethe.schemas.redis.RedisLayout;
import io.lettuce.core.AclSetuserArgs;
import io.lettuce.core.api.sync.RedisCommands;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A region whose Redis requires an ACL user: the consumer authenticates as the configured user
 * with the password taken from the environment, applies invalidations, and the password appears
 * in no {@code toString} of the configuration.
 */
@ExtendWith(LetheStackExtension.class)
class RedisAuthIT {

    @Test
    void theConsumerAuthenticatesAsItsAclUserWithThePasswordFromTheEnvironment(LetheStack stack, TestScope scope) throws Exception {
        try (RegionFixture f = new RegionFixture(stack, scope)) {
            RedisCommands<String, String> admin = f.redis("us-east");
            String user = scope.id() + "-applier";
            String password = "pw-" + UUID.randomUUID();
            String p = scope.keyPrefix();
            assertEquals("OK", admin.aclSetuser(user, AclSetuserArgs.Builder.on().addPassword(password)
                    .keyPattern(p + "*").keyPattern("lethe:*").allChannels().allCommands()));
            try {
                String yaml = f.yaml(Map.of("us-east", "{ redis: \"" + stack.redisUri("us-east") + "\", redis-user: " + user
                        + ", redis-password: \"${LETHE_IT_REDIS_PASSWORD}\" }"),
                        "product: { table: public.products, keys: [\"" + p + "product:{id}\"] }", "");
                LetheConfig config = f.config(yaml, name -> name.equals("LETHE_IT_REDIS_PASSWORD") ? password : null);
                assertFalse(config.toString().contains(password), "the password is in no toString: " + config);
                assertFalse(config.regions().get("us-east").toString().contains(password));

                String key = p + "product:7";
                admin.hset(key, Map.of("v", "3", "d", "old"));
                try (RegionConsumerService region = new RegionConsumerService(config, "us-east", new SimpleMeterRegistry(),
                        Clock.systemUTC())) {
                    region.start();
                    f.send(config.topics().invalidations("us-east"), RegionFixture.key("product", key, "9"));
                    f.flush();
                    RegionFixture.await("the fence written by the authenticated consumer", Duration.ofSeconds(60),
                            () -> admin.exists(RedisLayout.fenceKey(key)) == 1);
                    assertEquals(0, admin.exists(key), "the entry is gone");
                    assertTrue(admin.clientList().contains("user=" + user),
                            "the consumer is connected as " + user + ":\n" + admin.clientList());
                }
            } finally {
                admin.aclDeluser(user);
            }
        }
    }
}
