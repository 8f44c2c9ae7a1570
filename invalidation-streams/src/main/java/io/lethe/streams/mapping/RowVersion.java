package io.lethe.streams.mapping;

import io.lethe.config.NamespaceConfig;
import io.lethe.schemas.ChangeEvent;
import io.lethe.schemas.DlqReason;
import io.lethe.schemas.Op;
import io.lethe.schemas.Versions;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The version row-scoped keys of a namespace carry for one change.
 *
 * @param value the version
 * @param exact false when the row's version could not be read and {@link InvalidationMapper#MAX_VERSION} stands in
 */
record RowVersion(String value, boolean exact) {
    private static final String MAX_VERSION = InvalidationMapper.MAX_VERSION;
    private static final Pattern DECIMAL = Pattern.compile("0|[1-9][0-9]*");

    /** The version row-scoped keys of {@code ns} carry for this change; never absent (fail closed). */
    static RowVersion of(ChangeEvent change, NamespaceConfig ns, List<MappingProblem> problems) {
        if (ns.version().isLsn()) {
            return new RowVersion(change.version(), true);
        }
        String column = ns.version().column();
        Map<String, Object> row = change.op() == Op.DELETE ? change.before() : change.after();
        Object value = row == null ? null : row.get(column);
        if (value == null && change.op() == Op.DELETE) {
            // The old row image lacks the version column (REPLICA IDENTITY DEFAULT): delete whatever is cached.
            return new RowVersion(MAX_VERSION, false);
        }
        String text = value == null ? null : value.toString();
        if (text == null || !DECIMAL.matcher(text).matches() || Versions.compare(text, MAX_VERSION) > 0) {
            problems.add(new MappingProblem(DlqReason.BAD_VERSION, "namespace " + ns.name() + ": version column '" + column
                    + "' must hold an integer from 0 to " + MAX_VERSION + ", found "
                    + (value == null ? "nothing" : "'" + abbreviate(text) + "'") + "; its keys were deleted whatever their version",
                    ns.name()));
            return new RowVersion(MAX_VERSION, false);
        }
        if (change.op() == Op.DELETE) {
            // A reader that loaded the row just before the DELETE fills with the row's own version, and fill.lua
            // refuses a known version only below the fence: fence one above it. Every earlier state of the row had a
            // lower version, so every fill of the deleted row is refused; a row inserted again under the same key with
            // a version at or below this one cannot be filled (nor upserted) until the fence expires: a miss, never stale.
            return new RowVersion(Versions.next(text), true);
        }
        Object before = change.op() == Op.UPDATE && change.before() != null ? change.before().get(column) : null;
        if (before != null && DECIMAL.matcher(before.toString()).matches() && Versions.compare(text, before.toString()) <= 0
                && Versions.compare(before.toString(), MAX_VERSION) < 0) {
            // The row changed and its version did not rise (a bulk UPDATE that skips @Version, a DBA's
            // SQL, a trigger): a reader that loaded the old row holds the same version and fill.lua
            // would accept it. Fence one above both, as a DELETE does, and never upsert (the version
            // does not order this change against the cached one).
            String higher = Versions.compare(text, before.toString()) >= 0 ? text : before.toString();
            return new RowVersion(Versions.next(higher), false);
        }
        return new RowVersion(text, true);
    }

    private static String abbreviate(String text) {
        return text.length() <= 40 ? text : text.substring(0, 40) + "...";
    }
}
