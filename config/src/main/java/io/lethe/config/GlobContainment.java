package io.lethe.config;

import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Whether every key one Redis glob matches is matched by one of a set of others
 * ({@link Patterns#within}): the globs read as automata, walked together over bytes.
 */
final class GlobContainment {
    private GlobContainment() {
    }

    /** See {@link Patterns#within}. */
    static boolean within(String glob, Collection<String> cover) {
        Glob left = Glob.of(glob);
        List<Glob> right = cover.stream().map(Glob::of).toList();
        int[] offsets = new int[right.size() + 1];
        for (int i = 0; i < right.size(); i++) {
            offsets[i + 1] = offsets[i] + right.get(i).size() + 1;
        }
        BitSet start = new BitSet();
        for (int i = 0; i < right.size(); i++) {
            close(right.get(i), offsets[i], 0, start);
        }
        ArrayDeque<Object[]> todo = new ArrayDeque<>();
        Set<String> seen = new HashSet<>();
        BitSet leftStart = new BitSet();
        close(left, 0, 0, leftStart);
        for (int k = leftStart.nextSetBit(0); k >= 0; k = leftStart.nextSetBit(k + 1)) {
            todo.add(new Object[] {k, start});
        }
        while (!todo.isEmpty()) {
            Object[] state = todo.poll();
            int k = (Integer) state[0];
            BitSet r = (BitSet) state[1];
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
                BitSet next = new BitSet();
                for (int i = 0; i < right.size(); i++) {
                    Glob g = right.get(i);
                    for (int j = r.nextSetBit(offsets[i]); j >= 0 && j < offsets[i + 1]; j = r.nextSetBit(j + 1)) {
                        int pos = j - offsets[i];
                        if (pos < g.size() && g.takes(pos, (byte) b)) {
                            close(g, offsets[i], g.isStar(pos) ? pos : pos + 1, next);
                        }
                    }
                }
                BitSet leftNext = new BitSet();
                close(left, 0, left.isStar(k) ? k : k + 1, leftNext);
                for (int n = leftNext.nextSetBit(0); n >= 0; n = leftNext.nextSetBit(n + 1)) {
                    todo.add(new Object[] {n, next});
                }
            }
        }
        return true;
    }

    /** Adds position {@code pos} of {@code g} and every position after stars it can skip (a star matches nothing too). */
    private static void close(Glob g, int offset, int pos, BitSet out) {
        out.set(offset + pos);
        while (pos < g.size() && g.isStar(pos)) {
            pos++;
            out.set(offset + pos);
        }
    }

    private static boolean accepts(List<Glob> right, int[] offsets, BitSet r) {
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
                    i = Patterns.classEnd(p, i) + 1;
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
                return Patterns.classMatches(pattern, at, b);
            }
            if (c == '\\' && at + 1 < pattern.length) {
                return pattern[at + 1] == b;
            }
            return c == b;
        }
    }
}
