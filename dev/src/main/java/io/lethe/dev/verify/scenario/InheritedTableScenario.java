package io.lethe.dev.verify.scenario;

import io.lethe.capture.source.CheckResult;
import io.lethe.cli.doctor.Doctor;
import java.util.List;

/**
 * Table inheritance ({@code INHERITS}, the partitioning of schemas older than declarative
 * partitions): a query of {@code items} reads the rows of {@code items_c1}, which inherits from
 * it, but PostgreSQL publishes {@code items_c1}'s changes under its own name. A configuration with
 * a namespace on {@code items} alone used to start, and every entry of an {@code items_c1} row
 * stayed stale through its changes; it must be refused, and with the documented namespace on the
 * inheriting table (the parent's keys) changes of its rows, made through either table, must
 * invalidate the keys the parent's readers fill.
 */
final class InheritedTableScenario implements Scenario {
    @Override
    public String name() {
        return "inherited";
    }

    @Override
    public String summary() {
        return "a table with an inheriting table (INHERITS): refused alone, coherent with the inheriting table's namespace";
    }

    @Override
    public void run(ScenarioRun run) throws Exception {
        Items.create(run, 4);
        run.sql("CREATE TABLE items_c1 (PRIMARY KEY (id)) INHERITS (items)", "ALTER TABLE items_c1 REPLICA IDENTITY FULL",
                "INSERT INTO items_c1 SELECT i, (i + 1) / 2, 's' || i, 'v' || i || '.0', 1 FROM generate_series(101, 104) i");
        String parent = Items.namespace(run, "");
        List<CheckResult> alone = new Doctor(run.config(parent)).run();
        run.expect(alone.stream().anyMatch(r -> r.status() == CheckResult.Status.FAIL && r.check().equals("table public.items")
                && r.message().contains("public.items_c1")),
                "a namespace on items alone, whose inheriting table items_c1 has no namespace with its keys, is refused by the "
                        + "start-up checks (lethe doctor: " + alone.stream().filter(r -> r.check().equals("table public.items")).toList()
                        + ")");
        run.done("items (rows 1-4) and items_c1 INHERITS (items) (rows 101-104); lethe doctor refuses items alone");
        String p = run.p();
        String child = """
                item_c1:
                  table: public.items_c1
                  keys: ["%sitem:{id}", "%sgrp:{grp}:items", "%sslug:{slug}"]
                """.formatted(p, p, p);
        run.start(run.config(parent + child));
        run.secondJudge(); // lethe inspect over every region after the judge: a confirmed stale entry fails the scenario
        run.truth(Items.truth(run)); // read through items: its rows and items_c1's
        run.done("pipeline started with namespace item_c1 on items_c1, with item's keys");
        Items.fillCurrent(run, "1", 1, 2, 101, 102, 103);
        run.done("filled items 1, 2, 101, 102, 103 and their groups' and slugs' keys in every region");
        run.sql("UPDATE items SET val = 'v101.1' WHERE id = 101", "UPDATE items_c1 SET val = 'v102.1', grp = 7 WHERE id = 102",
                "DELETE FROM items WHERE id = 103", "UPDATE items SET val = 'v1.1' WHERE id = 1");
        run.done("UPDATE item 101 through items, UPDATE item 102 to group 7 through items_c1, DELETE item 103 through items, "
                + "UPDATE item 1 (items' own row)");
        run.quiesce();
    }
}
