package io.lethe.streams.mapping;

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
import io.lethe.schemas.serde.EventJson;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
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
 */
public final class InvalidationMapper {
    /** The version that deletes any entry: 2^64 - 1. */
    public static final String MAX_VERSION = "18446744073709551615";
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
                    ? new MappingProblem(DlqReason.UNKNOWN_NAMESPACE, "reset names namespace '" + change.namespace() + "', which is not configured")
                    : new MappingProblem(DlqReason.UNKNOWN_TABLE, "no namespace is configured for table " + change.source().qualifiedName()));
            return new MappingResult(out, problems);
        }
        long emittedAt = micros(clock.instant());
        for (NamespaceConfig ns : namespaces) {
            Emitter emit = new Emitter(change, ns, emittedAt, out, problems);
            if (change.op().isNamespaceWide()) {
                String version = ns.version().isLsn() ? change.version() : MAX_VERSION;
                for (String glob : ns.namespaceGlobs()) {
                    emit.pattern(Scope.NAMESPACE, glob, version);
                }
                continue;
            }
            Optional<String> version = rowVersion(change, ns, problems);
            if (version.isEmpty()) {
                continue;
            }
            for (KeyTemplate template : ns.keys()) {
                keysFor(change, ns, template, problems).forEach(key -> {
                    if (ns.isRowScoped(template)) {
                        emit.rowKey(key, version.get());
                    } else {
                        emit.key(Scope.DERIVED, key, "0", Action.DELETE, null);
                    }
                });
            }
            for (String pattern : ns.patterns()) {
                emit.pattern(Scope.PATTERN, pattern, version.get());
            }
        }
        return new MappingResult(out, problems);
    }

    /** The version row-scoped keys of {@code ns} carry for this change. */
    private Optional<String> rowVersion(ChangeEvent change, NamespaceConfig ns, List<MappingProblem> problems) {
        if (ns.version().isLsn()) {
            return Optional.of(change.version());
        }
        String column = ns.version().column();
        Map<String, Object> row = change.op() == Op.DELETE ? change.before() : change.after();
        Object value = row == null ? null : row.get(column);
        if (value == null && change.op() == Op.DELETE) {
            // The old row image lacks the version column (REPLICA IDENTITY DEFAULT): delete whatever is cached.
            return Optional.of(MAX_VERSION);
        }
        String text = value == null ? null : value.toString();
        if (text == null || !DECIMAL.matcher(text).matches()) {
            problems.add(new MappingProblem(DlqReason.BAD_VERSION, "namespace " + ns.name() + ": version column '" + column
                    + "' must hold a non-negative integer, found " + (value == null ? "nothing" : "'" + value + "'")));
            return Optional.empty();
        }
        return Optional.of(text);
    }

    /** The key(s) a template yields: the current one, plus the old one if an UPDATE moved it. */
    private Set<String> keysFor(ChangeEvent change, NamespaceConfig ns, KeyTemplate template, List<MappingProblem> problems) {
        Set<String> keys = new LinkedHashSet<>();
        try {
            if (change.op() == Op.DELETE) {
                template.render(merge(change.key(), change.before(), null)).ifPresent(keys::add);
            } else {
                template.render(merge(change.key(), change.after(), change.before())).ifPresent(keys::add);
                if (change.op() == Op.UPDATE && change.before() != null && hasAll(change.before(), template)) {
                    template.render(merge(change.key(), change.before(), null)).ifPresent(keys::add);
                }
            }
        } catch (KeyTemplate.MissingColumnException e) {
            problems.add(new MappingProblem(DlqReason.MISSING_COLUMN, "namespace " + ns.name() + ": " + e.getMessage()));
        }
        return keys;
    }

    private static boolean hasAll(Map<String, Object> row, KeyTemplate template) {
        for (String column : template.columns()) {
            if (!row.containsKey(column) || ChangeEvent.UNAVAILABLE_VALUE.equals(row.get(column))) {
                return false;
            }
        }
        return true;
    }

    /**
     * The row to render from: {@code row} over the primary key, with values PostgreSQL did not
     * send (unchanged TOAST) taken from {@code fallback}, or left out when it lacks them too.
     */
    private static Map<String, Object> merge(Map<String, Object> key, Map<String, Object> row, Map<String, Object> fallback) {
        Map<String, Object> merged = new LinkedHashMap<>();
        if (key != null) {
            merged.putAll(key);
        }
        if (row != null) {
            row.forEach((column, value) -> {
                if (!ChangeEvent.UNAVAILABLE_VALUE.equals(value)) {
                    merged.put(column, value);
                } else if (fallback != null && fallback.containsKey(column)
                        && !ChangeEvent.UNAVAILABLE_VALUE.equals(fallback.get(column))) {
                    merged.put(column, fallback.get(column));
                }
            });
        }
        return merged;
    }

    private static long micros(Instant instant) {
        return instant.getEpochSecond() * 1_000_000L + instant.getNano() / 1_000;
    }

    /** Builds the events of one change and namespace, enforcing the key-length limit. */
    private final class Emitter {
        private final ChangeEvent change;
        private final NamespaceConfig ns;
        private final long emittedAt;
        private final List<InvalidationEvent> out;
        private final List<MappingProblem> problems;

        Emitter(ChangeEvent change, NamespaceConfig ns, long emittedAt, List<InvalidationEvent> out, List<MappingProblem> problems) {
            this.change = change;
            this.ns = ns;
            this.emittedAt = emittedAt;
            this.out = out;
            this.problems = problems;
        }

        void rowKey(String key, String version) {
            boolean upsert = ns.mode() == Mode.UPSERT && (change.op() == Op.CREATE || change.op() == Op.UPDATE);
            String payload = upsert ? payload() : null;
            if (payload != null) {
                key(Scope.ROW, key, version, Action.UPSERT, payload);
            } else {
                key(Scope.ROW, key, version, Action.DELETE, null);
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

        void key(Scope scope, String key, String version, Action action, String payload) {
            if (key.getBytes(StandardCharsets.UTF_8).length > maxKeyBytes) {
                problems.add(new MappingProblem(DlqReason.KEY_TOO_LONG, "namespace " + ns.name() + ": a key of "
                        + key.getBytes(StandardCharsets.UTF_8).length + " bytes exceeds streams.max-key-bytes (" + maxKeyBytes
                        + "); it starts with '" + key.substring(0, Math.min(40, key.length())) + "'"));
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
                    change.originRegion());
        }
    }
}
