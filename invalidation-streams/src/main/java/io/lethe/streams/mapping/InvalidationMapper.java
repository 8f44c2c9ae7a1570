package io.lethe.streams.mapping;

import io.lethe.stage.time.Micros;
import com.fasterxml.jackson.core.JsonProcessingException;
import io.lethe.config.KeyTemplate;
import io.lethe.config.LetheConfig;
import io.lethe.config.Mode;
import io.lethe.config.NamespaceConfig;
import io.lethe.schemas.Action;
import io.lethe.schemas.ChangeEvent;
import io.lethe.schemas.DlqReason;
import io.lethe.schemas.InvalidationEvent;
import io.lethe.schemas.Op;
import io.lethe.schemas.Scope;
import io.lethe.schemas.Versions;
import io.lethe.schemas.serde.EventJson;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The mapping rules of DESIGN.md, as a pure function of the configuration and one change:
 * <ul>
 *   <li>every key template renders a key from the new row (INSERT, UPDATE) or the old row (DELETE);
 *       when an UPDATE changed a template column, the old key is invalidated too;</li>
 *   <li>keys of only primary-key columns are row-scoped and carry the version ({@code lsn} or the
 *       version column); other keys are derived and carry version 0;</li>
 *   <li>configured patterns are invalidated on every change;</li>
 *   <li>TRUNCATE and reset become namespace-wide pattern invalidations (one glob per template and
 *       pattern); in column-versioned namespaces they carry {@link #MAX_VERSION}, as row versions
 *       cannot be compared with an LSN;</li>
 *   <li>in {@code mode: upsert}, INSERT and UPDATE of row-scoped keys carry the payload (JSON of
 *       {@code payload-columns}); a payload column PostgreSQL did not send turns the upsert into
 *       a delete.</li>
 * </ul>
 *
 * <p><b>Fail closed.</b> Whenever the exact invalidation cannot be built, a wider one that is
 * certainly enough takes its place, and a {@link MappingProblem} says why (the processor counts it
 * and dead-letters the change for audit). Nothing is ever skipped:
 * <ul>
 *   <li>a key that cannot be rendered (a column missing from the image, PostgreSQL's unchanged-TOAST
 *       placeholder in every image, an old image without the template's columns) or that is longer
 *       than {@code streams.max-key-bytes}: the template's whole glob, namespace-scoped;</li>
 *   <li>a version column that cannot be read (NULL, not a non-negative integer, above
 *       {@link #MAX_VERSION}): every key of the change with {@link #MAX_VERSION}, as a delete.</li>
 * </ul>
 */
public final class InvalidationMapper {
    /** The version that deletes any entry: 2^64 - 1, the largest version Lethe accepts. */
    public static final String MAX_VERSION = Versions.MAX;
    private static final Pattern DECIMAL = Pattern.compile("0|[1-9][0-9]*");

    private final LetheConfig config;
    private final Clock clock;
    private final int maxKeyBytes;

    public InvalidationMapper(LetheConfig config, Clock clock) {
        this.config = config;
        this.clock = clock;
        this.maxKeyBytes = config.streams().maxKeyBytes();
    }

    /** The namespaces a change concerns: its own for a reset, else every namespace of its table. */
    public List<NamespaceConfig> namespacesFor(ChangeEvent change) {
        if (change.op() == Op.RESET) {
            NamespaceConfig ns = config.namespaces().get(change.namespace());
            return ns == null ? List.of() : List.of(ns);
        }
        return config.namespacesForTable(change.source().qualifiedName());
    }

    public MappingResult map(ChangeEvent change) {
        List<InvalidationEvent> out = new ArrayList<>();
        List<MappingProblem> problems = new ArrayList<>();
        List<NamespaceConfig> namespaces = namespacesFor(change);
        if (namespaces.isEmpty()) {
            problems.add(change.op() == Op.RESET
                    ? MappingProblem.unmapped(DlqReason.UNKNOWN_NAMESPACE,
                            "reset names namespace '" + change.namespace() + "', which is not configured")
                    : MappingProblem.unmapped(DlqReason.UNKNOWN_TABLE,
                            "no namespace is configured for table " + change.source().qualifiedName()));
            return new MappingResult(out, problems);
        }
        long emittedAt = Micros.of(clock.instant());
        for (NamespaceConfig ns : namespaces) {
            Emitter emit = new Emitter(change, ns, emittedAt, out, problems);
            if (change.op().isNamespaceWide()) {
                for (String glob : ns.namespaceGlobs()) {
                    emit.pattern(Scope.NAMESPACE, glob, emit.wideVersion());
                }
                continue;
            }
            RowVersion version = rowVersion(change, ns, problems);
            for (KeyTemplate template : ns.keys()) {
                Rendered rendered = keysFor(change, template);
                if (rendered.problem() != null) {
                    emit.widen(template, rendered.problem(), rendered.why());
                }
                for (String key : rendered.keys()) {
                    if (ns.isRowScoped(template)) {
                        emit.rowKey(template, key, version);
                    } else {
                        emit.key(template, Scope.DERIVED, key, "0", Action.DELETE, null);
                    }
                }
            }
            for (String pattern : ns.patterns()) {
                emit.pattern(Scope.PATTERN, pattern, version.value());
            }
        }
        return new MappingResult(out, problems);
    }

    /**
     * The version row-scoped keys of a namespace carry for one change.
     *
     * @param value the version
     * @param exact false when the row's version could not be read and {@link #MAX_VERSION} stands in
     */
    private record RowVersion(String value, boolean exact) {
    }

    /** The version row-scoped keys of {@code ns} carry for this change; never absent (fail closed). */
    private RowVersion rowVersion(ChangeEvent change, NamespaceConfig ns, List<MappingProblem> problems) {
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

    /**
     * The keys one template yields for a change, and, when one of them could not be rendered,
     * why (then the template's glob must stand in for it).
     */
    private record Rendered(Set<String> keys, DlqReason problem, String why) {
    }

    /**
     * The key(s) a template yields: the current one, plus the old one if an UPDATE may have moved it.
     * Rendered from the columns' PostgreSQL text ({@code ChangeEvent.text}); a change from a capture
     * that predates it renders from the images' values, each as {@code PgText} prints it.
     */
    private static Rendered keysFor(ChangeEvent change, KeyTemplate template) {
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
        return new Rendered(keys, reason, String.join("; ", problems));
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

    private static String abbreviate(String text) {
        return text.length() <= 40 ? text : text.substring(0, 40) + "...";
    }

    /** Builds the events of one change and namespace, enforcing the key-length limit. */
    private final class Emitter {
        private final ChangeEvent change;
        private final NamespaceConfig ns;
        private final long emittedAt;
        private final List<InvalidationEvent> out;
        private final List<MappingProblem> problems;
        /** Templates already widened to their glob for this change. */
        private final Set<KeyTemplate> widened = new LinkedHashSet<>();

        Emitter(ChangeEvent change, NamespaceConfig ns, long emittedAt, List<InvalidationEvent> out, List<MappingProblem> problems) {
            this.change = change;
            this.ns = ns;
            this.emittedAt = emittedAt;
            this.out = out;
            this.problems = problems;
        }

        /**
         * The version of a namespace-wide invalidation: the change's LSN, or {@link #MAX_VERSION}
         * where versions come from a column and cannot be compared with an LSN. (Namespace-scoped
         * invalidations delete whatever they find; the version only raises the fences.)
         */
        String wideVersion() {
            return ns.version().isLsn() ? change.version() : MAX_VERSION;
        }

        /** Invalidates every key {@code template} can render, because the exact key could not be. */
        void widen(KeyTemplate template, DlqReason reason, String why) {
            problems.add(new MappingProblem(reason, "namespace " + ns.name() + ": " + why + "; invalidated every key of '"
                    + template + "' instead", ns.name()));
            if (widened.add(template)) {
                pattern(Scope.NAMESPACE, template.glob(), wideVersion());
            }
        }

        void rowKey(KeyTemplate template, String key, RowVersion version) {
            // an upsert needs the row's real version: one that stands in for an unreadable version deletes instead; so
            // does a version above Versions.MAX_UPSERT, which regions refuse in an upsert (trust no topic: a forged
            // upsert at a huge version would outlive every later change)
            boolean upsert = version.exact() && ns.mode() == Mode.UPSERT && (change.op() == Op.CREATE || change.op() == Op.UPDATE)
                    && Versions.compare(version.value(), Versions.MAX_UPSERT) <= 0 && !ambiguous(template, key);
            String payload = upsert ? payload() : null;
            if (payload != null) {
                key(template, Scope.ROW, key, version.value(), Action.UPSERT, payload);
            } else {
                key(template, Scope.ROW, key, version.value(), Action.DELETE, null);
            }
        }

        /** JSON of the payload columns, or null when one of them was not sent (then: delete). */
        private String payload() {
            Map<String, Object> values = new LinkedHashMap<>();
            for (String column : ns.payloadColumns()) {
                Object value = change.after().get(column);
                if (!change.after().containsKey(column) || ChangeEvent.UNAVAILABLE_VALUE.equals(value)) {
                    return null;
                }
                values.put(column, value);
            }
            try {
                return EventJson.mapper().writeValueAsString(values);
            } catch (JsonProcessingException e) {
                throw new IllegalStateException("cannot render payload of namespace " + ns.name(), e);
            }
        }

        /**
         * True when another template (of any namespace) could have rendered {@code key} too. Values
         * are escaped (key format 2: a text id {@code 5:price} renders {@code product:5%3Aprice}
         * from {@code product:{id}}, not the key {@code product:{id}:price} gives row 5), so this
         * takes templates whose literals overlap ({@code a{x}} and {@code ab{y}}). Such a key is
         * invalidated, never upserted: the row's payload must not land where another namespace's
         * readers look (fail closed: a miss for them, never a foreign value).
         */
        private boolean ambiguous(KeyTemplate template, String key) {
            for (NamespaceConfig other : config.namespaces().values()) {
                for (KeyTemplate t : other.keys()) {
                    if ((other != ns || !t.equals(template)) && t.matches(key)) {
                        return true;
                    }
                }
            }
            return false;
        }

        void key(KeyTemplate template, Scope scope, String key, String version, Action action, String payload) {
            int bytes = key.getBytes(StandardCharsets.UTF_8).length;
            if (bytes > maxKeyBytes) {
                widen(template, DlqReason.KEY_TOO_LONG, "a key of " + bytes + " bytes exceeds streams.max-key-bytes ("
                        + maxKeyBytes + "); it starts with '" + key.substring(0, Math.min(40, key.length())) + "'");
                return;
            }
            out.add(event(scope, key, null, version, action, payload));
        }

        void pattern(Scope scope, String glob, String version) {
            out.add(event(scope, null, glob, version, Action.DELETE, null));
        }

        private InvalidationEvent event(Scope scope, String key, String pattern, String version, Action action, String payload) {
            String target = key != null ? key : pattern;
            return new InvalidationEvent(InvalidationEvent.SCHEMA_ID, InvalidationEvent.idFor(change.id() + ":" + ns.name(), scope, target),
                    ns.name(), scope, key, pattern, action, payload, version, change.lsn(), change.txId(),
                    change.commitTs(), change.capturedAt(), emittedAt, change.source(), change.op(), change.id(),
                    change.originRegion(), change.commitLsn());
        }
    }
}
