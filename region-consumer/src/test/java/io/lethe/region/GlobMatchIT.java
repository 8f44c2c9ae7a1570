package io.lethe.region;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.lethe.config.KeyTemplate;
import io.lethe.config.Patterns;
import io.lethe.embedded.LetheStack;
import io.lethe.embedded.junit.LetheStackExtension;
import io.lethe.embedded.junit.TestScope;
import io.lettuce.core.KeyScanCursor;
import io.lettuce.core.ScanArgs;
import io.lettuce.core.ScanCursor;
import io.lettuce.core.api.sync.RedisCommands;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * {@link Patterns#matches} must match exactly the keys Redis's own glob matches: a cluster scan
 * that reads a migrating slot's keys with CLUSTER GETKEYSINSLOT filters them with it, and a key it
 * wrongly left out would never be invalidated.
 */
@ExtendWith(LetheStackExtension.class)
class GlobMatchIT {

    @Test
    void matchesExactlyWhatRedisMatches(LetheStack stack, TestScope scope) {
        try (RegionFixture f = new RegionFixture(stack, scope)) {
            RedisCommands<String, String> redis = f.redis("us-east");
            String prefix = scope.keyPrefix() + "glob:";
            Random random = new Random(11);
            String keyAlphabet = "ab:-]^\\*?[é";
            List<String> keys = new ArrayList<>();
            for (int i = 0; i < 300; i++) {
                String key = prefix + text(random, keyAlphabet, 1 + random.nextInt(5));
                keys.add(key);
                redis.set(key, "x");
            }
            String globAlphabet = "ab:-]^\\*?[é";
            for (int i = 0; i < 300; i++) {
                String glob = KeyTemplate.escapeGlob(prefix) + text(random, globAlphabet, 1 + random.nextInt(6));
                Set<String> byRedis = new TreeSet<>();
                ScanCursor cursor = ScanCursor.INITIAL;
                do {
                    KeyScanCursor<String> page = redis.scan(cursor, ScanArgs.Builder.matches(glob).limit(1000));
                    byRedis.addAll(page.getKeys());
                    cursor = page;
                } while (!cursor.isFinished());
                Set<String> byLethe = new TreeSet<>();
                keys.stream().filter(k -> Patterns.matches(glob, k)).forEach(byLethe::add);
                assertEquals(byRedis, byLethe, "glob " + glob);
            }
        }
    }

    private static String text(Random random, String alphabet, int length) {
        StringBuilder s = new StringBuilder();
        for (int i = 0; i < length; i++) {
            s.append(alphabet.charAt(random.nextInt(alphabet.length())));
        }
        return s.toString();
    }
}
