package io.lethe.dev.verify.explore;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The DDL that changes values without a row change is drawn (so explore runs meet it), and every
 * enum rename the generator writes is valid where the program runs whole: it renames a label that
 * exists to one that does not.
 */
class GeneratorDdlTest {
    private static final Pattern RENAME = Pattern.compile("ALTER TYPE explore_mood RENAME VALUE '([^']*)' TO '([^']*)'");

    @Test
    void valueRewritesAndEnumRenamesAreDrawnAndValid() {
        int rewrites = 0;
        int renames = 0;
        int valueDdl = 0;
        int warmed = 0;
        List<String> invalid = new ArrayList<>();
        List<String> broken = new ArrayList<>();
        Profile profile = Profile.named("baseline").with("rewrite-values,enum-rename");
        for (long seed = 1; seed <= 200; seed++) {
            Program p = Generator.generate(seed, profile, 2);
            Set<String> labels = new LinkedHashSet<>(TypeCatalog.moods());
            for (Step s : p.steps()) {
                if (s.kind() != Step.Kind.DDL) {
                    continue;
                }
                if (Feature.REWRITE_VALUES.id().equals(s.a())) {
                    rewrites++;
                }
                if (Feature.REWRITE_VALUES.id().equals(s.a()) || Feature.ENUM_RENAME.id().equals(s.a())) {
                    valueDdl++;
                    int at = p.steps().indexOf(s);
                    Step before = at == 0 ? null : p.steps().get(at - 1);
                    if (before != null && before.kind() == Step.Kind.READ && before.region().equals("*")) {
                        warmed++;
                        List<Integer> rids = before.rids();
                        Step after = at + 1 < p.steps().size() ? p.steps().get(at + 1) : null;
                        if (after == null || after.kind() != Step.Kind.CHECK || !after.rids().equals(rids)) {
                            broken.add("seed " + seed + ": no CHECK of rows " + rids + " right after " + s.describe());
                        }
                        for (int kept : rids.subList(0, (rids.size() + 1) / 2)) {
                            for (Step later : p.steps().subList(at + 1, p.steps().size())) {
                                for (String sql : later.sql()) {
                                    if (later.kind() == Step.Kind.TX && later.table().equals(s.table())
                                            && sql.endsWith("WHERE rid = " + kept)) {
                                        broken.add("seed " + seed + ": kept row " + kept + " written by " + sql);
                                    }
                                }
                            }
                        }
                    }
                }
                if (Feature.ENUM_RENAME.id().equals(s.a())) {
                    renames++;
                    for (String sql : s.sql()) {
                        Matcher m = RENAME.matcher(sql);
                        if (!m.matches() || !labels.remove(m.group(1)) || !labels.add(m.group(2))) {
                            invalid.add("seed " + seed + ": " + sql + " with labels " + labels);
                        }
                    }
                }
            }
        }
        assertEquals(List.of(), invalid);
        // rows are read in every region before such DDL (when the table has rows), checked right after it, and half
        // of them never written again
        assertTrue(warmed >= valueDdl * 9 / 10, warmed + " of " + valueDdl + " value-changing DDL steps come after reads of their table");
        assertEquals(List.of(), broken);
        assertTrue(rewrites > 20 && renames > 10, "drawn: " + rewrites + " value rewrites, " + renames + " enum renames");
    }
}
