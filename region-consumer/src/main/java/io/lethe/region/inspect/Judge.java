package io.lethe.region.inspect;

import io.lethe.config.KeyTemplate;
import io.lethe.config.Mode;
import io.lethe.config.NamespaceConfig;
import io.lethe.region.inspect.CacheInspector.Report;
import io.lethe.schemas.Versions;
import java.sql.SQLException;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

/** How the inspector judges one entry against the row(s) its key names ({@link Finding}). */
final class Judge {
    private static final Pattern DECIMAL = Pattern.compile("[0-9]+");

    private final SourceRows rows;
    /** Every namespace whose keys the region may hold: a key is judged under each whose template renders it. */
    private final List<NamespaceConfig> receives;

    Judge(SourceRows rows, List<NamespaceConfig> receives) {
        this.rows = rows;
        this.receives = receives;
    }

    /**
     * Judges the key under the namespace it was scanned for and under every other namespace whose
     * template renders it: OK under any of them is OK (a key two namespaces' templates can render
     * is not stale because the other table has no such row).
     */
    Suspect judgeAll(NamespaceConfig ns, KeyTemplate template, Entry entry) throws SQLException {
        Suspect first = judge(ns, template, entry);
        if (!first.report().finding().stale()) {
            return first;
        }
        boolean format1 = !template.matches(entry.key());
        for (NamespaceConfig other : receives) {
            for (KeyTemplate t : other.keys()) {
                if ((other != ns || t != template) && (format1 ? t.mayHaveRendered(entry.key()) : t.matches(entry.key()))) {
                    Suspect s = judge(other, t, entry);
                    if (!s.report().finding().stale()) {
                        return s;
                    }
                }
            }
        }
        return first;
    }

    /** One entry against the row(s) its key names under one template. */
    Suspect judge(NamespaceConfig ns, KeyTemplate template, Entry e) throws SQLException {
        if (!e.versioned() && !e.legacy()) {
            return verdict(ns, template, e, Finding.NOT_AN_ENTRY, null, "a " + e.kind() + ", not a Lethe entry");
        }
        if (!DECIMAL.matcher(e.version()).matches()) {
            return verdict(ns, template, e, Finding.NOT_AN_ENTRY, null, "its v is not a decimal version");
        }
        boolean format1 = !template.matches(e.key());
        // a key only key format 1 renders: its values as written (format 2 escapes reserved characters, format 1 did not)
        Optional<Map<String, String>> values = format1 ? template.valuesAsWritten(e.key()) : template.values(e.key());
        if (values.isEmpty()) {
            return verdict(ns, template, e, Finding.UNJUDGED_VALUE, null, "the key parses more than one way under " + template
                    + (format1 ? " in key format 1" : ""));
        }
        Suspect byRow = judgeByRow(ns, template, e, values.get());
        if (format1) {
            byRow = inFormat1(byRow);
        }
        Finding f = byRow.report().finding();
        if ((f == Finding.OK || f == Finding.UNJUDGED_VALUE) && e.versioned() && e.fenceVersion() != null
                && DECIMAL.matcher(e.fenceVersion()).matches() && !"0".equals(Versions.canonical(e.version()))
                && Versions.compare(e.version(), e.fenceVersion()) < 0) {
            // invalidate.lua deletes an entry at or below the version it applies: this one was written after, and fill.lua refuses that
            return verdict(ns, template, e, Finding.INVALIDATED_AFTER_WRITE, byRow.report().rowVersion(),
                    "the fence records an invalidation at version " + e.fenceVersion() + ", above the entry's");
        }
        return byRow;
    }

    /** {@code s}, its detail saying that the key is of key format 1 (which the pipeline no longer invalidates). */
    private static Suspect inFormat1(Suspect s) {
        Report r = s.report();
        String note = "a key format 1 key (a value's reserved character not escaped): the pipeline no longer invalidates it";
        return new Suspect(s.ns(), s.template(), s.entry(),
                new Report(r.namespace(), r.key(), r.finding(), r.entryVersion(), r.rowVersion(),
                        r.detail().isEmpty() ? note : r.detail() + "; " + note));
    }

    /** The judgement by the row(s) alone. */
    private Suspect judgeByRow(NamespaceConfig ns, KeyTemplate template, Entry e, Map<String, String> columns) throws SQLException {
        Optional<Map<String, String>> values = Optional.of(columns);
        Optional<SourceRows.Row> row = rows.find(ns, values.get());
        String rowVersion = row.map(SourceRows.Row::version).orElse(null);
        if (ns.isRowScoped(template)) {
            if (row.isEmpty()) {
                return e.notFound()
                        ? verdict(ns, template, e, Finding.OK, null, "cached not-found, no row")
                        : verdict(ns, template, e, Finding.ROW_GONE, null, "no row has " + values.get());
            }
            if (e.notFound()) {
                return verdict(ns, template, e, Finding.NEGATIVE_BUT_ROW, rowVersion, "cached not-found, the row exists");
            }
            if (e.legacy()) {
                return verdict(ns, template, e, Finding.UNJUDGED_VALUE, rowVersion, "a legacy (string) entry has no version");
            }
            if (!ns.version().isLsn()) {
                if ("0".equals(Versions.canonical(e.version()))) {
                    return verdict(ns, template, e, Finding.UNJUDGED_VALUE, rowVersion, "filled with an unknown version");
                }
                if (rowVersion != null && DECIMAL.matcher(rowVersion).matches() && Versions.compare(e.version(), rowVersion) < 0) {
                    return verdict(ns, template, e, Finding.OLDER_VERSION, rowVersion, "the row is at version " + rowVersion);
                }
                if (rowVersion != null && DECIMAL.matcher(rowVersion).matches() && Versions.compare(e.version(), rowVersion) > 0) {
                    return verdict(ns, template, e, Finding.AHEAD_OF_ROW, rowVersion, "the row is at version " + rowVersion
                            + ", below the entry's: filled under another version source, or before the row was re-created");
                }
            }
            if (ns.mode() == Mode.UPSERT) {
                SourceRows.Row r = row.get();
                if (!r.payloadRenderable()) {
                    return verdict(ns, template, e, Finding.UNJUDGED_VALUE, rowVersion,
                            "a payload column of a type the inspector does not render");
                }
                return Payloads.samePayload(e.data(), r.payload())
                        ? verdict(ns, template, e, Finding.OK, rowVersion, "")
                        : verdict(ns, template, e, Finding.PAYLOAD_DIFFERS, rowVersion, "the row's payload is " + r.payload());
            }
            if (ns.version().isLsn()) {
                return verdict(ns, template, e, Finding.UNJUDGED_VALUE, rowVersion,
                        "an application-defined payload under lsn versions (shadow reads judge it)");
            }
            return verdict(ns, template, e, Finding.OK, rowVersion, "");
        }
        if (row.isEmpty()) {
            return e.notFound()
                    ? verdict(ns, template, e, Finding.OK, null, "cached not-found, no row")
                    : verdict(ns, template, e, Finding.DERIVED_ORPHAN, null, "no row has " + values.get());
        }
        if (e.notFound()) {
            return verdict(ns, template, e, Finding.NEGATIVE_BUT_ROW, rowVersion, "cached not-found, a row has " + values.get());
        }
        return verdict(ns, template, e, Finding.UNJUDGED_VALUE, rowVersion, "a derived key's value");
    }

    private static Suspect verdict(NamespaceConfig ns, KeyTemplate template, Entry e, Finding f, String rowVersion, String detail) {
        return new Suspect(ns, template, e, new Report(ns.name(), e.key(), f, e.version(), rowVersion, detail));
    }
}
