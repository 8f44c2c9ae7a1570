package io.lethe.config;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class PatternsTest {

    @Test
    void matchesAsRedisGlobsDo() {
        assertTrue(Patterns.matches("search:*", "search:products:1"));
        assertTrue(Patterns.matches("search:*", "search:"));
        assertFalse(Patterns.matches("search:*", "searc"));
        assertTrue(Patterns.matches("h?llo", "hello"));
        assertFalse(Patterns.matches("h?llo", "hllo"));
        assertTrue(Patterns.matches("h[ae]llo", "hallo"));
        assertFalse(Patterns.matches("h[^e]llo", "hello"));
        assertTrue(Patterns.matches("h[a-b]llo", "hbllo"));
        assertTrue(Patterns.matches("h[b-a]llo", "hallo"), "a reversed range is swapped");
        assertTrue(Patterns.matches("a\\*b", "a*b"));
        assertFalse(Patterns.matches("a\\*b", "axb"));
        assertTrue(Patterns.matches("a[\\]]b", "a]b"));
        assertTrue(Patterns.matches("a*b*c", "a--b--c"));
        assertFalse(Patterns.matches("a*b*c", "a--c--b"));
        assertTrue(Patterns.matches("a[b", "ab"), "a class left open runs to the end");
        assertFalse(Patterns.matches("a[", "ax"), "a [ at the end matches nothing");
        assertTrue(Patterns.matches("ü?", "üx"), "UTF-8 bytes, as Redis compares them");
    }

    @Test
    void globsWithDifferentLiteralBeginningsOrEndsCannotOverlap() {
        assertFalse(Patterns.mayOverlap("p:item:*", "p:tag:*"));
        assertFalse(Patterns.mayOverlap("p:*:a", "p:*:b"));
        assertFalse(Patterns.mayOverlap("p:item:1", "p:tag:*"));
        assertTrue(Patterns.mayOverlap("p:search:*", "p:search:*"));
        assertTrue(Patterns.mayOverlap("p:*", "p:search:*"));
        assertTrue(Patterns.mayOverlap("*", "anything"));
        assertTrue(Patterns.mayOverlap("p:item:1", "p:item:?"));
        assertTrue(Patterns.mayOverlap("p:[st]*", "p:x*"), "a class ends the literal beginning: maybe");
    }

    /** Soundness, which is what the consumer relies on: a key matching both globs means they may overlap. */
    @Test
    void twoGlobsAKeyMatchesAreNeverSaidToBeDisjoint() {
        Random random = new Random(27);
        String alphabet = "ab:*?[]^-\\";
        List<String> keys = new ArrayList<>();
        for (int i = 0; i < 400; i++) {
            keys.add(randomText(random, "ab:]-", 1 + random.nextInt(6)));
        }
        for (int i = 0; i < 3000; i++) {
            String a = randomText(random, alphabet, 1 + random.nextInt(6));
            String b = randomText(random, alphabet, 1 + random.nextInt(6));
            for (String key : keys) {
                if (Patterns.matches(a, key) && Patterns.matches(b, key)) {
                    assertTrue(Patterns.mayOverlap(a, b), a + " and " + b + " both match " + key);
                    break;
                }
            }
        }
    }

    @Test
    void aGlobIsWithinTheTemplatesOnlyWhenEveryKeyItMatchesIsOneOfTheirs() {
        List<String> product = List.of("product:*", "product:*:price");
        assertTrue(Patterns.within("product:1*", product));
        assertTrue(Patterns.within("product:[0-9]?", product));
        assertTrue(Patterns.within("product:*:price", product));
        assertTrue(Patterns.within("product:**", product));
        assertFalse(Patterns.within("*:*", product), "*:* matches user:1");
        assertFalse(Patterns.within("[a-z]*", product));
        assertFalse(Patterns.within("?*", product));
        assertFalse(Patterns.within("*", product));
        assertFalse(Patterns.within("produc?:*", product), "produc?:* matches producx:1");
        assertFalse(Patterns.within("product", product));
        assertFalse(Patterns.within("[p]roduct:*", List.of("product:*:price")));
        assertTrue(Patterns.within("[p]roduct:*", product));
        assertTrue(Patterns.within("a\\*", List.of("a\\*")), "an escaped star is the byte *");
        assertFalse(Patterns.within("a*", List.of("a\\*")));
        assertFalse(Patterns.within("x*", List.of()));
    }

    /**
     * Against brute force: for random globs of up to 3 characters over the glob syntax, within
     * says false exactly when some key of up to 4 bytes (over the same bytes and one more) matches
     * the glob and none of the cover globs.
     */
    @Test
    void withinAgreesWithMatchingEveryShortKey() {
        Random random = new Random(34);
        String alphabet = "ab:*?[]^-\\";
        List<String> keys = new ArrayList<>();
        String bytes = "ab:*?[]^-\\x";
        List<String> last = List.of("");
        for (int len = 1; len <= 4; len++) {
            List<String> longer = new ArrayList<>();
            for (String k : last) {
                for (char c : bytes.toCharArray()) {
                    longer.add(k + c);
                }
            }
            keys.addAll(longer);
            last = longer;
        }
        for (int i = 0; i < 400; i++) {
            String glob = randomText(random, alphabet, 1 + random.nextInt(3));
            List<String> cover = List.of(randomText(random, alphabet, 1 + random.nextInt(3)),
                    randomText(random, alphabet, 1 + random.nextInt(3)));
            String counterexample = null;
            for (String key : keys) {
                if (Patterns.matches(glob, key) && cover.stream().noneMatch(c -> Patterns.matches(c, key))) {
                    counterexample = key;
                    break;
                }
            }
            boolean within = Patterns.within(glob, cover);
            if (counterexample != null) {
                assertFalse(within, glob + " within " + cover + " but " + counterexample + " matches only " + glob);
            } else {
                assertTrue(within, glob + " said not within " + cover + " but no key of up to 4 bytes shows it");
            }
        }
    }

    private static String randomText(Random random, String alphabet, int length) {
        StringBuilder s = new StringBuilder();
        for (int i = 0; i < length; i++) {
            s.append(alphabet.charAt(random.nextInt(alphabet.length())));
        }
        return s.toString();
    }
}
