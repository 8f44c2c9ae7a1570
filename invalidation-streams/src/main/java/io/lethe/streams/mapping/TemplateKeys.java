package io.lethe.streams.mapping;

import io.lethe.config.KeyTemplate;
import io.lethe.schemas.ChangeEvent;
import io.lethe.schemas.DlqReason;
import io.lethe.schemas.Op;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The keys one key template yields for a change, and, when one of them could not be rendered, why
 * (then the template's glob must stand in for it).
 *
 * @param keys    the keys rendered
 * @param problem why one could not be, or null
 * @param why     what was missing, for the dead letter
 */
record TemplateKeys(Set<String> keys, DlqReason problem, String why) {
    /**
     * The key(s) a template yields: the current one, plus the old one if an UPDATE may have moved it.
     * Rendered from the columns' PostgreSQL text ({@code ChangeEvent.text}); a change from a capture
     * that predates it renders from the images' values, each as {@code PgText} prints it.
     */
    static TemplateKeys of(ChangeEvent change, KeyTemplate template) {
        Map<String, Object> key = change.key();
        Map<String, Object> before = change.before();
        Map<String, Object> after = change.after();
        if (change.text() != null) {
            key = text(change.text().key());
            before = text(change.text().before());
            after = text(change.text().after());
        }
        Set<String> keys = new LinkedHashSet<>();
        List<String> problems = new ArrayList<>();
        DlqReason reason = null;
        if (change.op() == Op.DELETE) {
            reason = renderOld(template, change, merge(key, before, null), keys, problems);
        } else {
            reason = render(template, merge(key, after, before), "new", keys, problems, DlqReason.MISSING_COLUMN);
            boolean needsOldImage = change.op() == Op.UPDATE && !template.columns().isEmpty()
                    && !change.key().keySet().containsAll(template.columns());
            if (needsOldImage) {
                DlqReason old = renderOld(template, change, merge(key, before, null), keys, problems);
                reason = reason != null ? reason : old;
            }
        }
        return new TemplateKeys(keys, reason, String.join("; ", problems));
    }

    private static Map<String, Object> text(Map<String, String> columns) {
        return columns == null ? null : new LinkedHashMap<>(columns);
    }

    /**
     * Renders {@code template} from the old row image of an UPDATE or DELETE: the one path for both.
     * A column the image lacks is unknown (missing-old-image). So is, in a DELETE, a NULL outside the
     * primary key: under REPLICA IDENTITY DEFAULT (or USING INDEX) PostgreSQL sends only the identity's
     * columns of a deleted row, and Debezium's old image still holds every other column, as NULL, so
     * NULL there cannot be told from a value the row really held (that one widens too: certainly
     * enough, never stale). An UPDATE under REPLICA IDENTITY DEFAULT has no old image at all.
     */
    private static DlqReason renderOld(KeyTemplate template, ChangeEvent change, Map<String, Object> old, Set<String> keys,
            List<String> problems) {
        if (change.op() == Op.DELETE) {
            for (String column : template.columns()) {
                boolean identity = change.key() != null && change.key().containsKey(column);
                if (!identity && old.containsKey(column) && old.get(column) == null) {
                    problems.add("column '" + column + "' needed by key template '" + template + "' is NULL in the old row "
                            + "image of a DELETE, outside the primary key: under REPLICA IDENTITY DEFAULT PostgreSQL sends only "
                            + "the key of a deleted row, so its value is unknown (is the table's REPLICA IDENTITY still FULL?)");
                    return DlqReason.MISSING_OLD_IMAGE;
                }
            }
        }
        return render(template, old, "old", keys, problems, DlqReason.MISSING_OLD_IMAGE);
    }

    /**
     * Renders {@code template} from {@code row} into {@code keys}; when that is impossible, notes why
     * in {@code problems} and returns the reason ({@code missing}, or unavailable-value when the
     * column holds the unchanged-TOAST placeholder), else null.
     */
    private static DlqReason render(KeyTemplate template, Map<String, Object> row, String image, Set<String> keys,
            List<String> problems, DlqReason missing) {
        for (String column : template.columns()) {
            Object value = row.get(column);
            if (ChangeEvent.UNAVAILABLE_VALUE.equals(value)) {
                problems.add("column '" + column + "' of key template '" + template + "' was not sent by PostgreSQL "
                        + "(an unchanged TOASTed value) in the " + image + " row image");
                return DlqReason.UNAVAILABLE_VALUE;
            }
            if (ChangeEvent.UNRENDERABLE_VALUE.equals(value)) {
                problems.add("column '" + column + "' of key template '" + template + "' has a type without a defined key rendering "
                        + "in the " + image + " row image (was it retyped while capture ran?)");
                return DlqReason.UNRENDERABLE_VALUE;
            }
            if (!row.containsKey(column)) {
                problems.add("column '" + column + "' needed by key template '" + template + "' is not in the " + image
                        + " row image" + (image.equals("old") ? " (is the table's REPLICA IDENTITY still FULL?)" : ""));
                return missing;
            }
        }
        try {
            template.render(row).ifPresent(keys::add);
        } catch (IllegalArgumentException e) {
            // a value of a change without text (an older capture) that has no key text, such as a list
            problems.add("key template '" + template + "' cannot render the " + image + " row image: " + e.getMessage());
            return DlqReason.UNRENDERABLE_VALUE;
        }
        return null;
    }

    /**
     * The row to render from: {@code row} over the primary key, with values PostgreSQL did not
     * send (unchanged TOAST) taken from {@code fallback} when it has them, else left as the
     * placeholder so that rendering sees it.
     */
    private static Map<String, Object> merge(Map<String, Object> key, Map<String, Object> row, Map<String, Object> fallback) {
        Map<String, Object> merged = new LinkedHashMap<>();
        if (key != null) {
            merged.putAll(key);
        }
        if (row != null) {
            row.forEach((column, value) -> {
                if (ChangeEvent.UNAVAILABLE_VALUE.equals(value) && fallback != null && fallback.containsKey(column)
                        && !ChangeEvent.UNAVAILABLE_VALUE.equals(fallback.get(column))) {
                    merged.put(column, fallback.get(column));
                } else {
                    merged.put(column, value);
                }
            });
        }
        return merged;
    }
}
