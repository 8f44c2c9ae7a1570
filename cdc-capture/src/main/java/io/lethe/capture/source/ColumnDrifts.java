package io.lethe.capture.source;

import io.lethe.capture.source.Drift.Kind;
import io.lethe.capture.source.SourceState.Leaf;
import io.lethe.capture.source.SourceState.Table;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;

/**
 * The rules of {@link SourceDrifts} about a table's columns: DDL that changes what rows hold
 * without a row change ({@link Kind#RETYPED}), and what of an earlier state is kept so that such
 * DDL spread over several checks is still seen ({@link #carry}).
 */
final class ColumnDrifts {
    private ColumnDrifts() {
    }

    /**
     * DDL that changed what rows hold without a row change, none of which logical decoding
     * publishes: a column whose type changed (ALTER COLUMN ... TYPE rewrites every value through a
     * cast or a USING expression); a column altered while its table was rewritten (ALTER COLUMN
     * ... TYPE to the same type with a {@code USING} that computes new values: the type reads the
     * same, but the column's pg_attribute row and the table's storage are both new); a name that
     * now means another column (renamed away and another added or renamed in its place, two names
     * swapped, at once or across checks: what a key or an application reads under the name changed
     * in every row); an enum label renamed, or labels swapped (a label list that is not the old one
     * with labels added in between). A column only added, dropped or renamed to a new name, an enum
     * label only added, and a rewrite that altered no column (VACUUM FULL, CLUSTER) change nothing a
     * name reads; a column altered otherwise (SET STATISTICS, SET NOT NULL) within the same interval
     * as such a rewrite is reset too, more than needed, and so is the first rewrite after an ADD
     * COLUMN ... DEFAULT (it writes the default into every row and clears the column's missing
     * value, a new pg_attribute row: once per such column). A state recorded before columns (or
     * their versions) were is not compared on what it lacks.
     */
    static Optional<Drift> retyped(String name, Table was, Table is) {
        if (was.columns().isEmpty()) {
            return Optional.empty();
        }
        Map<Integer, SourceState.Column> byNum = is.columns().stream().collect(Collectors.toMap(SourceState.Column::num, c -> c));
        Map<String, SourceState.Column> byName = is.columns().stream().collect(Collectors.toMap(SourceState.Column::name, c -> c));
        boolean rewritten = rewritten(was, is);
        List<String> changed = new ArrayList<>();
        for (SourceState.Column before : was.former()) {
            SourceState.Column sameName = byName.get(before.name());
            if (sameName != null && sameName.num() != before.num()) {
                changed.add(before.name() + " (now another column than the one renamed away or dropped before)");
            }
        }
        for (SourceState.Column before : was.columns()) {
            SourceState.Column sameName = byName.get(before.name());
            SourceState.Column sameNum = byNum.get(before.num());
            if (sameName != null && sameName.num() != before.num()) {
                changed.add(before.name() + " (now another column)");
            } else if (sameNum != null && !before.type().equals(sameNum.type())) {
                changed.add(sameNum.name() + " (" + before.type() + " -> " + sameNum.type() + ")");
            } else if (sameNum != null && !inOrder(before.labels(), sameNum.labels())) {
                changed.add(sameNum.name() + " (enum labels " + before.labels() + " -> " + sameNum.labels() + ")");
            } else if (sameNum != null && before.shape() != null && sameNum.shape() != null && reshaped(before.shape(), sameNum.shape())) {
                changed.add(sameNum.name() + " (a composite type it holds lost, gained or retyped an attribute, or an enum label it "
                        + "holds was renamed)");
            } else if (sameNum != null && rewritten && before.version() == null && sameNum.version() != null) {
                // a state stored before versions were recorded cannot tell a USING rewrite from VACUUM FULL: counted once
                changed.add(sameNum.name() + " (" + name + " rewritten since a state that recorded no column versions)");
            } else if (sameNum != null && rewritten && before.version() != null && sameNum.version() != null
                    && !before.version().equals(sameNum.version())) {
                changed.add(sameNum.name() + " (altered while " + name + " was rewritten: ALTER COLUMN ... TYPE " + sameNum.type()
                        + " USING ...)");
            }
        }
        if (changed.isEmpty()) {
            return Optional.empty();
        }
        return Optional.of(new Drift(Kind.RETYPED, List.of(name), "column(s) of " + name + " changed what rows hold without a row "
                + "change (" + String.join(", ", changed) + "): logical decoding publishes none of the values a rewrite or a "
                + "catalog change converts", "", false));
    }

    /** True when the table's storage, or a leaf's (a partition, an inheriting table) that is in both, is new. */
    private static boolean rewritten(Table was, Table is) {
        if (was.relfilenode() != is.relfilenode()) {
            return true;
        }
        Map<Long, Long> before = was.leaves().stream().collect(Collectors.toMap(Leaf::oid, Leaf::relfilenode, (a, b) -> a));
        return is.leaves().stream().anyMatch(l -> before.containsKey(l.oid()) && before.get(l.oid()) != l.relfilenode());
    }

    /**
     * The state to rely on after {@code now} was checked against {@code before}: {@code now}, with
     * each table's columns whose names no column has now kept as its former columns (those of
     * {@code before}'s columns and former columns), so that a name given to another column checks
     * later (even much later, or after the state was stored again for another reason) is still
     * compared with the column readers cached under it.
     */
    public static SourceState carry(SourceState before, SourceState now) {
        if (before == null) {
            return now;
        }
        Map<String, Table> tables = new LinkedHashMap<>();
        for (Map.Entry<String, Table> e : now.tables().entrySet()) {
            Table is = e.getValue();
            Table was = before.tables().get(e.getKey());
            if (was == null || was.oid() != is.oid() || !is.exists()) {
                tables.put(e.getKey(), is);
                continue;
            }
            Set<String> names = is.columns().stream().map(SourceState.Column::name).collect(Collectors.toSet());
            Map<String, SourceState.Column> former = new LinkedHashMap<>();
            for (SourceState.Column c : was.former()) {
                former.putIfAbsent(c.name(), c);
            }
            for (SourceState.Column c : was.columns()) {
                former.putIfAbsent(c.name(), c);
            }
            former.keySet().removeAll(names);
            tables.put(e.getKey(), is.withFormer(List.copyOf(former.values())));
        }
        return new SourceState(now.publication(), tables, now.slot());
    }

    /**
     * True when a column's shape changed in a way that changes values: a composite's attributes
     * differ (one dropped, added or retyped), or an enum value (by its oid) has another label. New
     * enum values are not a change.
     */
    static boolean reshaped(String before, String after) {
        Set<String> composites = new TreeSet<>();
        Map<String, String> labels = new LinkedHashMap<>();
        for (String entry : before.isEmpty() ? new String[0] : before.split(SourceState.SHAPE_SEPARATOR)) {
            if (entry.startsWith("c")) {
                composites.add(entry);
            } else {
                String[] f = entry.substring(1).split(":", 3);
                labels.put(f[0] + ":" + f[1], f.length > 2 ? f[2] : "");
            }
        }
        Set<String> compositesAfter = new TreeSet<>();
        for (String entry : after.isEmpty() ? new String[0] : after.split(SourceState.SHAPE_SEPARATOR)) {
            if (entry.startsWith("c")) {
                compositesAfter.add(entry);
            } else {
                String[] f = entry.substring(1).split(":", 3);
                String was = labels.get(f[0] + ":" + f[1]);
                if (was != null && !was.equals(f.length > 2 ? f[2] : "")) {
                    return true;
                }
            }
        }
        return !composites.equals(compositesAfter);
    }

    /** True when {@code after} is {@code before} with labels added anywhere (ALTER TYPE ... ADD VALUE), none renamed or moved. */
    private static boolean inOrder(List<String> before, List<String> after) {
        int i = 0;
        for (String label : after) {
            if (i < before.size() && before.get(i).equals(label)) {
                i++;
            }
        }
        return i == before.size();
    }
}
