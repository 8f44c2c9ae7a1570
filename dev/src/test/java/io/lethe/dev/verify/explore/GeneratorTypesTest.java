package io.lethe.dev.verify.explore;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Key and group columns are the ones key templates use: the generator gives them only types with a
 * defined key rendering (capture refuses the others at start-up, KeyRenderingIT).
 */
class GeneratorTypesTest {
    @Test
    void keyAndGroupColumnsHaveOnlyRenderedTypes() {
        List<String> wrong = new ArrayList<>();
        for (long seed = 1; seed <= 200; seed++) {
            Program p = Generator.generate(seed, Profile.named("all"), 2);
            for (Program.Table t : p.tables()) {
                for (Program.Column c : t.columns()) {
                    if ((c.role().equals("key") || c.role().equals("group")) && TypeCatalog.NOT_RENDERED.contains(c.type())) {
                        wrong.add("seed " + seed + ": " + t.name() + "." + c.name() + " " + c.type());
                    }
                }
            }
        }
        assertEquals(List.of(), wrong);
    }
}
