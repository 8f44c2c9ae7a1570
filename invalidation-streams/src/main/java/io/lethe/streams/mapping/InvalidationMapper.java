package io.lethe.streams.mapping;

import io.lethe.config.KeyTemplate;
import io.lethe.config.LetheConfig;
import io.lethe.config.NamespaceConfig;
import io.lethe.schemas.Action;
import io.lethe.schemas.ChangeEvent;
import io.lethe.schemas.DlqReason;
import io.lethe.schemas.InvalidationEvent;
import io.lethe.schemas.Op;
import io.lethe.schemas.Scope;
import io.lethe.schemas.Versions;
import io.lethe.stage.time.Micros;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;

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
 *
 * <p>Its parts: {@link RowVersion} (the version row-scoped keys carry), {@link TemplateKeys} (the
 * keys a template yields from the row images), {@link Emitter} (the events of one namespace).
 */
public final class InvalidationMapper {
    /** The version that deletes any entry: 2^64 - 1, the largest version Lethe accepts. */
    public static final String MAX_VERSION = Versions.MAX;

    private final LetheConfig config;
    private final Clock clock;

    public InvalidationMapper(LetheConfig config, Clock clock) {
        this.config = config;
        this.clock = clock;
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
            Emitter emit = new Emitter(config, change, ns, emittedAt, out, problems);
            if (change.op().isNamespaceWide()) {
                for (String glob : ns.namespaceGlobs()) {
                    emit.pattern(Scope.NAMESPACE, glob, emit.wideVersion());
                }
                continue;
            }
            RowVersion version = RowVersion.of(change, ns, problems);
            for (KeyTemplate template : ns.keys()) {
                TemplateKeys rendered = TemplateKeys.of(change, template);
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
}
