package io.lethe.dev.demo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The status page's figures without a browser (DemoStatusPageIT drives the page itself). */
class StatusPageTest {
    @Test
    void theShadowReadFigureIsInTheJsonAndOnThePage() {
        StatusPage page = new StatusPage(List.of("us-east"));
        page.totals(10, 200, new Readers.ShadowFigure(4_000, 2));
        String json = page.json();
        assertTrue(json.contains("\"sampled\":4000,\"stale\":2,\"stalePerMillion\":500"), json);
        String html = page.html();
        for (String id : List.of("id=\"sampled\"", "id=\"stale\"", "id=\"spm\"", "s.stalePerMillion")) {
            assertTrue(html.contains(id), id);
        }
    }

    @Test
    void perMillionIsZeroBeforeAnySample() {
        assertEquals(0, Readers.ShadowFigure.NONE.perMillion());
        assertEquals("shadow reads: 1000000 sampled, 3 confirmed stale (3 per million)", new Readers.ShadowFigure(1_000_000, 3).line());
    }
}
