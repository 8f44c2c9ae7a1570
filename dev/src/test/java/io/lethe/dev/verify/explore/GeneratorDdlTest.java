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
        List<String> invalid = new ArrayList<>();
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
                    System.out.println("DEBUGSEED " + seed + " " + p.steps().indexOf(s) + " " + s.sql());
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
        assertTrue(rewrites > 20 && renames > 10, "drawn: " + rewrites + " value rewrites, " + renames + " enum renames");
    }
}
