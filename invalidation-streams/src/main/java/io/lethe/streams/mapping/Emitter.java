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
import io.lethe.schemas.Versions;
import io.lethe.schemas.serde.EventJson;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Builds the events of one change and namespace for {@link InvalidationMapper}, enforcing the
 * key-length limit ({@code streams.max-key-bytes}) and widening to a template's glob where a key
 * cannot be built.
 */
final class Emitter {
    private final LetheConfig config;
    private final int maxKeyBytes;
    private final ChangeEvent change;
    private final NamespaceConfig ns;
    private final long emittedAt;
    private final List<InvalidationEvent> out;
    private final List<MappingProblem> problems;
    /** Templates already widened to their glob for this change. */
    private final Set<KeyTemplate> widened = new LinkedHashSet<>();

    Emitter(LetheConfig config, ChangeEvent change, NamespaceConfig ns, long emittedAt, List<InvalidationEvent> out,
            List<MappingProblem> problems) {
        this.config = config;
        this.maxKeyBytes = config.streams().maxKeyBytes();
        this.change = change;
        this.ns = ns;
        this.emittedAt = emittedAt;
        this.out = out;
        this.problems = problems;
    }

    /**
     * The version of a namespace-wide invalidation: the change's LSN, or {@link InvalidationMapper#MAX_VERSION}
     * where versions come from a column and cannot be compared with an LSN. (Namespace-scoped
     * invalidations delete whatever they find; the version only raises the fences.)
     */
    String wideVersion() {
        return ns.version().isLsn() ? change.version() : InvalidationMapper.MAX_VERSION;
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
