package io.lethe.capture.source;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.lethe.capture.source.Drift.Kind;
import io.lethe.capture.source.SourceState.Leaf;
import io.lethe.capture.source.SourceState.Publication;
import io.lethe.capture.source.SourceState.Table;
import io.lethe.config.ConfigLoader;
import io.lethe.config.LetheConfig;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The rules of what capture relies on in the source, over states built by hand. */
class SourceDriftsTest {
    private static final LetheConfig CONFIG = ConfigLoader.parse("t.yml", """
            source: { jdbc-url: "jdbc:postgresql://127.0.0.1:5432/shop", user: lethe, slot: s, publication: p }
            kafka: { bootstrap-servers: "127.0.0.1:9092" }
            regions: { us-east: { redis: "redis://127.0.0.1:6379" } }
            namespaces:
              item: { table: public.items, keys: ["item:{id}"], mode: upsert, payload-columns: [val] }
              price: { table: public.items, keys: ["price:{id}"] }
              order: { table: public.orders, keys: ["order:{id}"] }
            """, System::getenv);
    private static final Publication PUB = new Publication(100, "700", false, true, true, true, true, true);
    private static final SourceState.Slot SLOT = new SourceState.Slot("pgoutput", "shop", "reserved");
    private static final Table ITEMS = new Table(20200, "r", "p", 20200, "rel:300", false, List.of(), List.of());
    private static final Table ORDERS = new Table(20201, "p", "p", 0, "rel:301", false, List.of(),
            List.of(new Leaf(20210, "public.orders_p0", "r", "p", 20210)));

    private static SourceState state(Publication p, Table items, Table orders) {
        return new SourceState(p, Map.of("public.items", items, "public.orders", orders), SLOT);
    }

    private static List<Drift> since(SourceState before, SourceState now) {
        return SourceDrifts.since(CONFIG, before, now, leaf -> false);
    }

    private static Table items(long oid, String persistence, long relfilenode, String membership) {
        return new Table(oid, "r", persistence, relfilenode, membership, false, List.of(), List.of());
    }

    @Test
    void theStateCaptureReliesOnHidesNothing() {
        SourceState s = state(PUB, ITEMS, ORDERS);
        assertEquals(List.of(), SourceDrifts.ongoing(CONFIG, s));
        assertEquals(List.of(), since(s, s));
        assertEquals(s, SourceState.fromJson(s.toJson()), "stored and read back unchanged");
    }

    @Test
    void aTableDroppedFromThePublicationHidesItsChangesAndAddedBackLeavesAGap() {
        SourceState relied = state(PUB, ITEMS, ORDERS);
        SourceState out = state(PUB, items(20200, "p", 20200, ""), ORDERS);
        Drift ongoing = SourceDrifts.ongoing(CONFIG, out).get(0);
        assertEquals(Kind.MEMBERSHIP, ongoing.kind());
        assertEquals("ALTER PUBLICATION p ADD TABLE public.items;", ongoing.fix());
        assertEquals(List.of("item", "price"), SourceDrifts.namespaces(CONFIG, List.of(ongoing)));
        SourceState back = state(PUB, items(20200, "p", 20200, "rel:305"), ORDERS);
        assertEquals(List.of(), SourceDrifts.ongoing(CONFIG, back));
        List<Drift> gap = since(relied, back);
        assertEquals(List.of(Kind.MEMBERSHIP), gap.stream().map(Drift::kind).toList(), gap.toString());
        assertEquals(List.of("public.items"), gap.get(0).tables());
    }

    @Test
    void optionsChangedAndChangedBackShowInTheVersionOfThePublicationsRow() {
        SourceState relied = state(PUB, ITEMS, ORDERS);
        Publication insertOnly = new Publication(100, "701", false, true, false, false, true, true);
        Drift ongoing = SourceDrifts.ongoing(CONFIG, state(insertOnly, ITEMS, ORDERS)).get(0);
        assertEquals(Kind.PUBLICATION_OPTIONS, ongoing.kind());
        assertTrue(ongoing.what().contains("only 'insert, truncate'"), ongoing.what());
        assertEquals(List.of("public.items", "public.orders"), ongoing.tables());
        List<Drift> gap = since(relied, state(new Publication(100, "702", false, true, true, true, true, true), ITEMS, ORDERS));
        assertEquals(List.of(Kind.PUBLICATION_OPTIONS), gap.stream().map(Drift::kind).toList());
        assertTrue(gap.get(0).what().contains("changed back"), gap.get(0).what());
    }

    @Test
    void aPublicationDroppedOrMadeAgainIsADriftOfEveryTable() {
        SourceState relied = state(PUB, ITEMS, ORDERS);
        List<Drift> remade = since(relied, state(new Publication(101, "800", false, true, true, true, true, true), ITEMS, ORDERS));
        assertEquals(Kind.PUBLICATION, remade.get(0).kind());
        assertEquals(List.of("public.items", "public.orders"), remade.get(0).tables());
        SourceState dropped = state(null, items(20200, "p", 20200, ""), ORDERS);
        assertEquals(Kind.PUBLICATION, since(relied, dropped).get(0).kind());
        assertEquals(Kind.PUBLICATION, SourceDrifts.ongoing(CONFIG, dropped).get(0).kind());
    }

    @Test
    void aSwappedTableIsAnotherIdentity() {
        SourceState relied = state(PUB, ITEMS, ORDERS);
        List<Drift> swapped = since(relied, state(PUB, items(20250, "p", 20250, ""), ORDERS));
        assertEquals(List.of(Kind.IDENTITY), swapped.stream().map(Drift::kind).toList());
        assertEquals(List.of(Kind.MEMBERSHIP), SourceDrifts.ongoing(CONFIG, state(PUB, items(20250, "p", 20250, ""), ORDERS))
                .stream().map(Drift::kind).toList(), "the new table is not in the publication");
        assertEquals(Kind.IDENTITY, since(relied, state(PUB, items(0, null, 0, ""), ORDERS)).get(0).kind(), "dropped");
        Table view = new Table(20260, "v", "p", 0, "", false, List.of(), List.of());
        assertEquals(Kind.IDENTITY, SourceDrifts.ongoing(CONFIG, state(PUB, view, ORDERS)).get(0).kind(), "a view took its name");
    }

    @Test
    void aRewriteCountsWhereTheTableCouldHaveBeenUnloggedInBetween() {
        SourceState explicit = state(PUB, ITEMS, ORDERS);
        assertEquals(List.of(), since(explicit, state(PUB, items(20200, "p", 20999, "rel:300"), ORDERS)),
                "a member by name cannot be set UNLOGGED: a TRUNCATE or VACUUM FULL hides nothing");
        Publication all = new Publication(100, "700", true, true, true, true, true, true);
        SourceState implicit = state(all, items(20200, "p", 20200, "all"), ORDERS);
        assertEquals(List.of(Kind.REWRITTEN), since(implicit, state(all, items(20200, "p", 20999, "all"), ORDERS))
                .stream().map(Drift::kind).toList());
        Drift unlogged = SourceDrifts.ongoing(CONFIG, state(all, items(20200, "u", 20999, "all"), ORDERS)).get(0);
        assertEquals(Kind.PERSISTENCE, unlogged.kind());
        assertEquals("ALTER TABLE public.items SET LOGGED;", unlogged.fix());
    }

    @Test
    void partitionsAttachedWithRowsDetachedOrRewrittenAreDrifts() {
        SourceState relied = state(PUB, ITEMS, ORDERS);
        Leaf p1 = new Leaf(20220, "public.orders_p1", "r", "p", 20220);
        Table attached = new Table(20201, "p", "p", 0, "rel:301", false, List.of(), List.of(ORDERS.leaves().get(0), p1));
        assertEquals(List.of(Kind.PARTITIONS), since(relied, state(PUB, ITEMS, attached)).stream().map(Drift::kind).toList());
        assertEquals(List.of(), SourceDrifts.since(CONFIG, relied, state(PUB, ITEMS, attached), leaf -> true),
                "a partition that never held a row hid nothing");
        Table detached = new Table(20201, "p", "p", 0, "rel:301", false, List.of(), List.of());
        assertEquals(List.of(Kind.PARTITIONS), since(relied, state(PUB, ITEMS, detached)).stream().map(Drift::kind).toList());
        Table rewritten = new Table(20201, "p", "p", 0, "rel:301", false, List.of(),
                List.of(new Leaf(20210, "public.orders_p0", "r", "p", 20999)));
        assertEquals(List.of(Kind.REWRITTEN), since(relied, state(PUB, ITEMS, rewritten)).stream().map(Drift::kind).toList());
        Table unloggedLeaf = new Table(20201, "p", "p", 0, "rel:301", false, List.of(),
                List.of(new Leaf(20210, "public.orders_p0", "r", "u", 20999)));
        assertEquals(Kind.PERSISTENCE, SourceDrifts.ongoing(CONFIG, state(PUB, ITEMS, unloggedLeaf)).get(0).kind());
        assertEquals("ALTER TABLE public.orders_p0 SET LOGGED;",
                SourceDrifts.ongoing(CONFIG, state(PUB, ITEMS, unloggedLeaf)).get(0).fix());
        Publication notViaRoot = new Publication(100, "701", false, true, true, true, true, false);
        assertEquals(Kind.PUBLICATION_OPTIONS, SourceDrifts.ongoing(CONFIG, state(notViaRoot, ITEMS, ORDERS)).get(0).kind());
    }

    @Test
    void aRowFilterOrAColumnListWithoutANeededColumnHidesChanges() {
        Table filtered = new Table(20200, "r", "p", 20200, "rel:300", true, List.of(), List.of());
        assertEquals(Kind.PUBLICATION_OPTIONS, SourceDrifts.ongoing(CONFIG, state(PUB, filtered, ORDERS)).get(0).kind());
        Table narrow = new Table(20200, "r", "p", 20200, "rel:300", false, List.of("id"), List.of());
        Drift d = SourceDrifts.ongoing(CONFIG, state(PUB, narrow, ORDERS)).get(0);
        assertTrue(d.what().contains("[val]"), d.what());
        Table wide = new Table(20200, "r", "p", 20200, "rel:300", false, List.of("id", "val", "other"), List.of());
        assertEquals(List.of(), SourceDrifts.ongoing(CONFIG, state(PUB, wide, ORDERS)));
    }

    @Test
    void aSlotGoneOrLostWhileCaptureStreamsHidesEverything() {
        for (SourceState.Slot slot : Arrays.asList(null, new SourceState.Slot("pgoutput", "shop", "lost"),
                new SourceState.Slot("test_decoding", "shop", "reserved"), new SourceState.Slot("pgoutput", "other", "reserved"))) {
            SourceState now = new SourceState(PUB, Map.of("public.items", ITEMS, "public.orders", ORDERS), slot);
            Drift d = SourceDrifts.ongoing(CONFIG, now).get(0);
            assertEquals(Kind.SLOT, d.kind(), String.valueOf(slot));
            assertEquals(List.of("public.items", "public.orders"), d.tables());
        }
    }

    /** Nothing of it was decoded before it was configured, while readers may have cached its rows: its namespaces are reset. */
    @Test
    void aTableNewToTheConfigurationIsResetAsAdded() {
        SourceState before = new SourceState(PUB, Map.of("public.orders", ORDERS), SLOT);
        List<Drift> drifts = since(before, state(PUB, ITEMS, ORDERS));
        assertEquals(1, drifts.size(), drifts.toString());
        assertEquals(Kind.ADDED, drifts.get(0).kind());
        assertEquals(List.of("public.items"), drifts.get(0).tables());
    }

    private static Table items(long relfilenode, SourceState.Column... columns) {
        return new Table(20200, "r", "p", relfilenode, "rel:300", false, List.of(), List.of(), List.of(columns));
    }

    private static SourceState.Column column(int num, String name, String version) {
        return new SourceState.Column(num, name, "bigint", List.of(), version);
    }

    @Test
    void aColumnAlteredWhileItsTableWasRewrittenChangedEveryValue() {
        SourceState relied = state(PUB, items(20200, column(1, "id", "700"), column(2, "n", "700")), ORDERS);
        // ALTER COLUMN n TYPE bigint USING n * 2: the type reads the same; the column's row and the storage are new
        List<Drift> drifts = since(relied, state(PUB, items(20300, column(1, "id", "700"), column(2, "n", "731")), ORDERS));
        assertEquals(List.of(Kind.RETYPED), drifts.stream().map(Drift::kind).toList());
        assertTrue(drifts.get(0).what().contains("n (altered while public.items was rewritten"), drifts.get(0).what());
        // altered without a rewrite (SET STATISTICS, a no-op ALTER COLUMN ... TYPE), or rewritten alone (VACUUM FULL): no value changed
        assertEquals(List.of(), since(relied, state(PUB, items(20200, column(1, "id", "700"), column(2, "n", "731")), ORDERS)));
        assertEquals(List.of(), since(relied, state(PUB, items(20300, column(1, "id", "700"), column(2, "n", "700")), ORDERS)));
        // a state stored before versions were recorded cannot tell a USING rewrite while capture was down from VACUUM FULL:
        // a rewrite since then counts (once: the state relied on after it has versions); no rewrite, nothing
        SourceState old = state(PUB, items(20200, column(1, "id", null), column(2, "n", null)), ORDERS);
        assertEquals(List.of(Kind.RETYPED), since(old, state(PUB, items(20300, column(1, "id", "700"), column(2, "n", "731")), ORDERS))
                .stream().map(Drift::kind).toList());
        assertEquals(List.of(), since(old, state(PUB, items(20200, column(1, "id", "700"), column(2, "n", "731")), ORDERS)));
    }

    @Test
    void aPartitionRewrittenWithTheColumnAlteredCountsForAPartitionedTable() {
        Table before = new Table(20201, "p", "p", 0, "rel:301", false, List.of(),
                List.of(new Leaf(20210, "public.orders_p0", "r", "p", 20210)),
                List.of(column(1, "id", "700"), column(2, "n", "700")));
        Table after = new Table(20201, "p", "p", 0, "rel:301", false, List.of(),
                List.of(new Leaf(20210, "public.orders_p0", "r", "p", 20400)),
                List.of(column(1, "id", "700"), column(2, "n", "731")));
        List<Drift> drifts = since(state(PUB, ITEMS, before), state(PUB, ITEMS, after));
        assertTrue(drifts.stream().anyMatch(d -> d.kind() == Kind.RETYPED), drifts.toString());
    }

    @Test
    void aNameGivenToAnotherColumnChecksAfterTheOldOneWentIsStillCaught() {
        SourceState relied = state(PUB, items(20200, column(1, "id", "700"), column(2, "price", "700")), ORDERS);
        // RENAME COLUMN price TO price_old, seen by one check: nothing a name reads changed
        SourceState renamed = state(PUB, items(20200, column(1, "id", "700"), column(2, "price_old", "731")), ORDERS);
        assertEquals(List.of(), since(relied, renamed));
        SourceState next = ColumnDrifts.carry(relied, renamed);
        assertEquals(List.of("price"), next.tables().get("public.items").former().stream().map(SourceState.Column::name).toList());
        assertEquals(next, SourceState.fromJson(next.toJson()), "former columns are stored");
        // ... a check later (or after the state was stored for another drift): ADD COLUMN price ... DEFAULT 0
        SourceState added = state(PUB, items(20200, column(1, "id", "700"), column(2, "price_old", "731"), column(3, "price", "740")),
                ORDERS);
        List<Drift> drifts = since(next, added);
        assertEquals(List.of(Kind.RETYPED), drifts.stream().map(Drift::kind).toList());
        assertTrue(drifts.get(0).what().contains("price (now another column than the one renamed away"), drifts.get(0).what());
        // renamed back instead: the same column, nothing changed; a name back is no longer former (price_old is now)
        SourceState back = state(PUB, items(20200, column(1, "id", "700"), column(2, "price", "745")), ORDERS);
        assertEquals(List.of(), since(next, back));
        assertEquals(List.of("price_old"), ColumnDrifts.carry(next, back).tables().get("public.items").former().stream()
                .map(SourceState.Column::name).toList());
    }

    @Test
    void aCompositeReshapedOrAnEnumValueRenamedIsSeenInTheColumnsShape() {
        String before = "c900:1:25:-1:false\u001dc900:2:25:-1:false\u001de800:801:a\u001de800:802:b";
        // ALTER TYPE addr DROP ATTRIBUTE city: every value's text loses a field
        assertTrue(ColumnDrifts.reshaped(before, "c900:1:25:-1:false\u001dc900:2:0:-1:true\u001de800:801:a\u001de800:802:b"));
        // ALTER TYPE addr ADD ATTRIBUTE zip text: every value's text gains one
        assertTrue(ColumnDrifts.reshaped(before, before.replace("\u001de800", "\u001dc900:3:25:-1:false\u001de800")));
        // RENAME VALUE 'b' TO 'c' and ADD VALUE 'b' back: the labels read as one added, value 802 reads c now
        assertTrue(ColumnDrifts.reshaped(before, "c900:1:25:-1:false\u001dc900:2:25:-1:false\u001de800:801:a\u001de800:802:c"
                + "\u001de800:803:b"));
        // a value only added changes no row
        assertEquals(false, ColumnDrifts.reshaped(before, before + "\u001de800:803:z"));
        assertEquals(false, ColumnDrifts.reshaped("", ""));
    }

    @Test
    void aShapeReadsEachEntryWhateverCharactersItsLabelsHold() {
        String gs = "\u001d";
        String esc = "\u001b";
        // one label holding the separator is not two entries, nor the same text as them
        String one = SourceState.shape(List.of("e1:2:a" + gs + "e1:3:b"));
        String two = SourceState.shape(List.of("e1:2:a", "e1:3:b"));
        assertTrue(!one.equals(two), "escaped: one entry reads as one");
        assertTrue(!SourceState.shape(List.of("e1:2:a" + esc)).equals(SourceState.shape(List.of("e1:2:a" + esc + esc))));
        assertEquals("e1:2:a" + gs + "e1:3:b", two, "entries without the separator or the escape read as before escaping");
        // a label renamed from or to one holding the separator or the escape is a change; the same labels are not
        assertTrue(ColumnDrifts.reshaped(SourceState.shape(List.of("e1:2:a" + gs + "b")), SourceState.shape(List.of("e1:2:z"))));
        assertTrue(ColumnDrifts.reshaped(SourceState.shape(List.of("e1:2:z")), SourceState.shape(List.of("e1:2:a" + esc + gs))));
        assertTrue(!ColumnDrifts.reshaped(one, one));
        // the label renamed and the old one added back (only the value oids tell)
        assertTrue(ColumnDrifts.reshaped(SourceState.shape(List.of("e1:2:a" + gs + "b")),
                SourceState.shape(List.of("e1:2:z", "e1:4:a" + gs + "b"))));
    }
}
