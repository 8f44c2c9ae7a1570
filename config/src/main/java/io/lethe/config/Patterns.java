package io.lethe.config;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
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
    private static int classEnd(byte[] p, int open) {
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
    private static boolean classMatches(byte[] p, int open, byte b) {
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
    public static boolean within(String glob, java.util.Collection<String> cover) {
        Glob left = Glob.of(glob);
        List<Glob> right = cover.stream().map(Glob::of).toList();
        int[] offsets = new int[right.size() + 1];
        for (int i = 0; i < right.size(); i++) {
            offsets[i + 1] = offsets[i] + right.get(i).size() + 1;
        }
        java.util.BitSet start = new java.util.BitSet();
        for (int i = 0; i < right.size(); i++) {
            close(right.get(i), offsets[i], 0, start);
        }
        java.util.ArrayDeque<Object[]> todo = new java.util.ArrayDeque<>();
        java.util.Set<String> seen = new java.util.HashSet<>();
        java.util.BitSet leftStart = new java.util.BitSet();
        close(left, 0, 0, leftStart);
        for (int k = leftStart.nextSetBit(0); k >= 0; k = leftStart.nextSetBit(k + 1)) {
            todo.add(new Object[] {k, start});
        }
        while (!todo.isEmpty()) {
            Object[] state = todo.poll();
            int k = (Integer) state[0];
            java.util.BitSet r = (java.util.BitSet) state[1];
            if (!seen.add(k + "/" + r)) {
                continue;
            }
            if (k == left.size()) {
                if (!accepts(right, offsets, r)) {
                    return false;
                }
                continue;
            }
            for (int b = 0; b < 256; b++) {
                if (!left.takes(k, (byte) b)) {
                    continue;
                }
                java.util.BitSet next = new java.util.BitSet();
                for (int i = 0; i < right.size(); i++) {
                    Glob g = right.get(i);
                    for (int j = r.nextSetBit(offsets[i]); j >= 0 && j < offsets[i + 1]; j = r.nextSetBit(j + 1)) {
                        int pos = j - offsets[i];
                        if (pos < g.size() && g.takes(pos, (byte) b)) {
                            close(g, offsets[i], g.isStar(pos) ? pos : pos + 1, next);
                        }
                    }
                }
                java.util.BitSet leftNext = new java.util.BitSet();
                close(left, 0, left.isStar(k) ? k : k + 1, leftNext);
                for (int n = leftNext.nextSetBit(0); n >= 0; n = leftNext.nextSetBit(n + 1)) {
                    todo.add(new Object[] {n, next});
                }
            }
        }
        return true;
    }

    /** Adds position {@code pos} of {@code g} and every position after stars it can skip (a star matches nothing too). */
    private static void close(Glob g, int offset, int pos, java.util.BitSet out) {
        out.set(offset + pos);
        while (pos < g.size() && g.isStar(pos)) {
            pos++;
            out.set(offset + pos);
        }
    }

    private static boolean accepts(List<Glob> right, int[] offsets, java.util.BitSet r) {
        for (int i = 0; i < right.size(); i++) {
            if (r.get(offsets[i] + right.get(i).size())) {
                return true;
            }
        }
        return false;
    }

    /** A glob as a sequence of one-byte tests ({@code ?}, a class, a literal byte) and stars. */
    private record Glob(byte[] pattern, int[] starts, boolean[] stars) {
        static Glob of(String glob) {
            byte[] p = glob.getBytes(StandardCharsets.UTF_8);
            List<Integer> starts = new ArrayList<>();
            List<Boolean> stars = new ArrayList<>();
            int i = 0;
            while (i < p.length) {
                starts.add(i);
                stars.add(p[i] == '*');
                if (p[i] == '[') {
                    i = classEnd(p, i) + 1;
                } else if (p[i] == '\\' && i + 1 < p.length) {
                    i += 2;
                } else {
                    i++;
                }
            }
            boolean[] s = new boolean[stars.size()];
            for (int k = 0; k < s.length; k++) {
                s[k] = stars.get(k);
            }
            return new Glob(p, starts.stream().mapToInt(Integer::intValue).toArray(), s);
        }

        int size() {
            return starts.length;
        }

        boolean isStar(int pos) {
            return stars[pos];
        }

        /** Whether the token at {@code pos} takes byte {@code b} (a star takes any). */
        boolean takes(int pos, byte b) {
            int at = starts[pos];
            byte c = pattern[at];
            if (c == '*' || c == '?') {
                return true;
            }
            if (c == '[') {
                return classMatches(pattern, at, b);
            }
            if (c == '\\' && at + 1 < pattern.length) {
                return pattern[at + 1] == b;
            }
            return c == b;
        }
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
