package io.lethe.config;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;

/**
 * Redis glob patterns (the {@code MATCH} of SCAN, {@code KEYS}): whether one matches everything,
 * whether it matches a key exactly as Redis would, and whether two could match a common key.
 */
public final class Patterns {
    private Patterns() {
    }

    /** True when the glob matches every key: it consists only of {@code *} (and {@code ?*} forms). */
    public static boolean matchesEverything(String glob) {
        if (glob.isEmpty()) {
            return false;
        }
        boolean star = false;
        for (char c : glob.toCharArray()) {
            if (c == '*') {
                star = true;
            } else if (c != '?') {
                return false;
            }
        }
        // "*", "**", "?*" (every non-empty key; Redis has no empty keys)
        return star && glob.chars().filter(c -> c == '?').count() <= 1;
    }

    /**
     * True when Redis's glob matching ({@code stringmatchlen}, case-sensitive) matches
     * {@code key} with {@code glob}: {@code *} any bytes, {@code ?} one byte, {@code [abc]},
     * {@code [^a-z]} one byte of (not of) a class, {@code \x} the byte x. Both are compared as
     * UTF-8 bytes, as Redis does, bytes as signed chars in class ranges (as Redis on x86/ARM Linux).
     */
    public static boolean matches(String glob, String key) {
        return match(glob.getBytes(StandardCharsets.UTF_8), 0, key.getBytes(StandardCharsets.UTF_8), 0);
    }

    private static boolean match(byte[] p, int pi, byte[] s, int si) {
        while (pi < p.length) {
            byte c = p[pi];
            if (c == '*') {
                while (pi + 1 < p.length && p[pi + 1] == '*') {
                    pi++;
                }
                if (pi + 1 == p.length) {
                    return true;
                }
                for (int k = si; k <= s.length; k++) {
                    if (match(p, pi + 1, s, k)) {
                        return true;
                    }
                }
                return false;
            }
            if (si == s.length) {
                return false;
            }
            if (c == '?') {
                pi++;
            } else if (c == '[') {
                if (!classMatches(p, pi, s[si])) {
                    return false;
                }
                pi = classEnd(p, pi) + 1;
            } else {
                if (c == '\\' && pi + 1 < p.length) {
                    pi++;
                }
                if (p[pi] != s[si]) {
                    return false;
                }
                pi++;
            }
            si++;
        }
        return si == s.length;
    }

    /** The index of the {@code ]} closing the class opened at {@code open}, or the last index when there is none. */
    static int classEnd(byte[] p, int open) {
        int i = open + 1;
        if (i < p.length && p[i] == '^') {
            i++;
        }
        while (i < p.length) {
            if (p[i] == '\\' && i + 1 < p.length) {
                i += 2;
            } else if (p[i] == ']') {
                return i;
            } else if (i + 2 < p.length && p[i + 1] == '-') {
                i += 3;
            } else {
                i++;
            }
        }
        return p.length - 1;
    }

    /** Whether byte {@code b} is in the class opened at {@code open} (read as Redis reads it, up to its {@code ]}). */
    static boolean classMatches(byte[] p, int open, byte b) {
        int i = open + 1;
        boolean not = i < p.length && p[i] == '^';
        if (not) {
            i++;
        }
        boolean match = false;
        while (i < p.length && p[i] != ']') {
            if (p[i] == '\\' && i + 1 < p.length) {
                match |= p[i + 1] == b;
                i += 2;
            } else if (i + 2 < p.length && p[i + 1] == '-') {
                int lo = Math.min(p[i], p[i + 2]);
                int hi = Math.max(p[i], p[i + 2]);
                match |= b >= lo && b <= hi;
                i += 3;
            } else {
                match |= p[i] == b;
                i++;
            }
        }
        return not != match;
    }

    /**
     * True when every key {@code glob} matches is matched by one of {@code cover} too (Redis's
     * glob semantics as in {@link #matches}, over bytes): a decision, not a heuristic. The globs
     * are read as automata (a {@code *} loops on any byte, {@code ?} and a class take one byte) and
     * the keys {@code glob} accepts are walked against the set of states of every cover glob at
     * once; a key that ends {@code glob} in an accepting state while no cover glob accepts it is a
     * counterexample. Used to judge a pattern by what it could match: {@code *:*},
     * {@code [a-z]*} or {@code ?*} are within no namespace's templates, {@code product:1*} is within
     * {@code product:*}.
     */
    public static boolean within(String glob, Collection<String> cover) {
        return GlobContainment.within(glob, cover);
    }

    /**
     * False only when no key can match both globs; true when one might (a conservative answer:
     * used to decide which namespaces a pattern's scan can reach, where "maybe" must count as
     * yes). Two globs without a common key differ in their literal beginnings (neither is a prefix
     * of the other) or in their literal ends; a glob without any wildcard is one key, matched
     * exactly.
     */
    public static boolean mayOverlap(String a, String b) {
        List<byte[]> ta = tokens(a);
        List<byte[]> tb = tokens(b);
        if (ta.stream().noneMatch(t -> t == null)) {
            return matches(b, literal(ta));
        }
        if (tb.stream().noneMatch(t -> t == null)) {
            return matches(a, literal(tb));
        }
        byte[] prefixA = leadingLiteral(ta);
        byte[] prefixB = leadingLiteral(tb);
        if (!startsWith(prefixA, prefixB) && !startsWith(prefixB, prefixA)) {
            return false;
        }
        byte[] suffixA = trailingLiteral(ta);
        byte[] suffixB = trailingLiteral(tb);
        return endsWith(suffixA, suffixB) || endsWith(suffixB, suffixA);
    }

    /** The glob as tokens: a literal byte each, null for a wildcard ({@code *}, {@code ?}, a class). */
    private static List<byte[]> tokens(String glob) {
        byte[] p = glob.getBytes(StandardCharsets.UTF_8);
        List<byte[]> out = new ArrayList<>();
        int i = 0;
        while (i < p.length) {
            byte c = p[i];
            if (c == '*' || c == '?') {
                out.add(null);
                i++;
            } else if (c == '[') {
                out.add(null);
                i = classEnd(p, i) + 1;
            } else {
                if (c == '\\' && i + 1 < p.length) {
                    i++;
                }
                out.add(new byte[] {p[i]});
                i++;
            }
        }
        return out;
    }

    private static String literal(List<byte[]> tokens) {
        return new String(leadingLiteral(tokens), StandardCharsets.UTF_8);
    }

    private static byte[] leadingLiteral(List<byte[]> tokens) {
        byte[] out = new byte[tokens.size()];
        int n = 0;
        for (byte[] t : tokens) {
            if (t == null) {
                break;
            }
            out[n++] = t[0];
        }
        return Arrays.copyOf(out, n);
    }

    private static byte[] trailingLiteral(List<byte[]> tokens) {
        int from = tokens.size();
        while (from > 0 && tokens.get(from - 1) != null) {
            from--;
        }
        return leadingLiteral(tokens.subList(from, tokens.size()));
    }

    private static boolean startsWith(byte[] s, byte[] prefix) {
        return prefix.length <= s.length && Arrays.equals(s, 0, prefix.length, prefix, 0, prefix.length);
    }

    private static boolean endsWith(byte[] s, byte[] suffix) {
        return suffix.length <= s.length && Arrays.equals(s, s.length - suffix.length, s.length, suffix, 0, suffix.length);
    }
}
