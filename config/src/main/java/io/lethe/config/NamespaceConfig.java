package io.lethe.config;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * A namespace: a table and the cache keys that hold its rows.
 *
 * @param name               namespace name
 * @param table              {@code schema.table}
 * @param keys               key templates over the row's columns
 * @param patterns           Redis globs invalidated by any change to the table
 * @param version            lsn or column:name
 * @param mode               delete or upsert
 * @param fenceTtl           how long a fence outlives its last invalidation; must exceed the longest load
 * @param primaryKey         the table's primary-key columns (checked against the database at start-up)
 * @param payloadColumns     for upsert: the columns rendered as the JSON payload
 * @param ttl                for upsert: TTL of written entries; zero for none
 * @param allowNamespaceWide permit manual patterns that cover the namespace's whole key space
 * @param publicTopic        whether its invalidations reach the public topic other teams read (keys are built
 *                           from row values: a namespace of personal data may stay off it)
 * @param publicPayloads     for upsert: whether its upserts reach the public topic with their payload (row
 *                           values); when false, subscribers get the delete at the upsert's version
 */
public record NamespaceConfig(String name, String table, List<KeyTemplate> keys, List<String> patterns,
        VersionSource version, Mode mode, Duration fenceTtl, List<String> primaryKey,
        List<String> payloadColumns, Duration ttl, boolean allowNamespaceWide,
        boolean publicTopic, boolean publicPayloads) {

    /** On the public topic, with payloads. */
    public NamespaceConfig(String name, String table, List<KeyTemplate> keys, List<String> patterns,
            VersionSource version, Mode mode, Duration fenceTtl, List<String> primaryKey,
            List<String> payloadColumns, Duration ttl, boolean allowNamespaceWide) {
        this(name, table, keys, patterns, version, mode, fenceTtl, primaryKey, payloadColumns, ttl, allowNamespaceWide,
                Defaults.PUBLIC_TOPIC, Defaults.PUBLIC_PAYLOADS);
    }

    /**
     * True when the public topic carries every invalidation of this namespace as the regions apply
     * it: the namespace is on it, and its upserts (if any) keep their payloads.
     */
    public boolean publicTopicComplete() {
        return publicTopic && (mode != Mode.UPSERT || publicPayloads);
    }

    public NamespaceConfig {
        keys = List.copyOf(keys);
        patterns = List.copyOf(patterns);
        primaryKey = List.copyOf(primaryKey);
        payloadColumns = List.copyOf(payloadColumns);
    }

    /** True when {@code template} names one row (only primary-key columns). */
    public boolean isRowScoped(KeyTemplate template) {
        return template.isRowScoped(primaryKey);
    }

    /** Every column an event for this namespace must carry: keys, payload, version, primary key. */
    public Set<String> requiredColumns() {
        Set<String> columns = new LinkedHashSet<>(primaryKey);
        keys.forEach(k -> columns.addAll(k.columns()));
        columns.addAll(payloadColumns);
        if (!version.isLsn()) {
            columns.add(version.column());
        }
        return columns;
    }

    /** Template columns outside the primary key: their old values need REPLICA IDENTITY FULL. */
    public Set<String> nonKeyTemplateColumns() {
        Set<String> columns = new LinkedHashSet<>();
        keys.forEach(k -> columns.addAll(k.columns()));
        primaryKey.forEach(columns::remove);
        return columns;
    }

    /**
     * Globs that cover every key of the namespace: one per template, plus the configured
     * patterns, leaving out any glob that a simpler {@code prefix*} glob already covers.
     */
    public List<String> namespaceGlobs() {
        Set<String> globs = new LinkedHashSet<>();
        keys.forEach(k -> globs.add(k.glob()));
        globs.addAll(patterns);
        List<String> prefixes = globs.stream().filter(NamespaceConfig::isPrefixGlob)
                .map(g -> g.substring(0, g.length() - 1)).toList();
        List<String> out = new ArrayList<>();
        for (String glob : globs) {
            boolean covered = prefixes.stream().anyMatch(p -> glob.startsWith(p) && !glob.equals(p + "*"));
            if (!covered) {
                out.add(glob);
            }
        }
        return out;
    }

    /**
     * True when a glob's scan may reach a key of this namespace: a key one of its templates renders
     * or one of its patterns matches could also match {@code glob} ({@link Patterns#mayOverlap}, so
     * "maybe" counts). A pattern or namespace-wide invalidation must move the epoch and the scan
     * watermark of every namespace it reaches, not only its own: readers and {@code lethe prewarm}
     * check those of the namespace their key belongs to.
     */
    public boolean mayReach(String glob) {
        return keys.stream().anyMatch(k -> Patterns.mayOverlap(k.glob(), glob))
                || patterns.stream().anyMatch(p -> Patterns.mayOverlap(p, glob));
    }

    /**
     * True when some key of this namespace may be a key of {@code other} too: a template glob or
     * pattern of one reaches the other's (a pattern both list, a template another's pattern matches).
     */
    public boolean overlaps(NamespaceConfig other) {
        return keys.stream().anyMatch(k -> other.mayReach(k.glob())) || patterns.stream().anyMatch(other::mayReach);
    }

    /**
     * True when every key {@code glob} could match is one this namespace could hold: one a template
     * could render or a configured pattern matches ({@link Patterns#within}). The bound on manual
     * and foreign patterns: a glob such as {@code *:*}, {@code [a-z]*} or {@code ?*} also reaches
     * keys of other namespaces, or keys no namespace holds.
     */
    public boolean confines(String glob) {
        return Patterns.within(glob, keySpace());
    }

    /** The globs {@link #confines} compares with: every template's glob and every configured pattern. */
    public List<String> keySpace() {
        List<String> cover = new ArrayList<>();
        keys.forEach(k -> cover.add(k.glob()));
        cover.addAll(patterns);
        return cover;
    }

    /** True when {@code key} can be one of this namespace's keys: a template could have rendered it, or a pattern matches it. */
    public boolean mayHold(String key) {
        return keys.stream().anyMatch(k -> k.matches(key)) || patterns.stream().anyMatch(p -> Patterns.matches(p, key));
    }

    /**
     * True when a pattern covers the whole key space of one of this namespace's templates (it
     * matches every key the template renders from non-empty values: {@link KeyTemplate#isCoveredBy}). The one rule for "namespace-wide": the region refuses such a pattern
     * to the DLQ unless {@link #allowNamespaceWide}, configuration validation refuses it in
     * {@code patterns} on the same terms, and {@code lethe invalidate} asks for {@code --force}.
     */
    public boolean isNamespaceWide(String pattern) {
        return wideTemplate(keys, pattern) != null;
    }

    /** The template whose glob {@code pattern} is, or null: {@link #isNamespaceWide} before the namespace is built. */
    static KeyTemplate wideTemplate(List<KeyTemplate> keys, String pattern) {
        return keys.stream().filter(k -> k.isCoveredBy(pattern)).findFirst().orElse(null);
    }

    /** {@code literal*}: one trailing star, no other glob syntax. */
    private static boolean isPrefixGlob(String glob) {
        String body = glob.substring(0, Math.max(0, glob.length() - 1));
        return glob.endsWith("*") && body.chars().noneMatch(c -> c == '*' || c == '?' || c == '[' || c == '\\');
    }

    public String schemaName() {
        return table.substring(0, table.indexOf('.'));
    }

    public String tableName() {
        return table.substring(table.indexOf('.') + 1);
    }

    /**
     * What the namespace renders, as text: its key templates (and the key format they are rendered
     * in) and its patterns. Two configurations whose namespace has the same globs may still render
     * other keys ({@code user:{id}} and {@code user:{email}} are both {@code user:*}): this tells them apart.
     */
    public List<String> keysRendered() {
        List<String> out = new java.util.ArrayList<>();
        keys.forEach(k -> out.add("key/v" + io.lethe.schemas.keys.KeyFormat.VERSION + ":" + k.text()));
        patterns.forEach(pattern -> out.add("pattern:" + pattern));
        return List.copyOf(out);
    }

    /**
     * What the namespace's entries hold, as text: the table their rows come from, where their
     * versions come from, the mode and (upsert) the payload columns. Entries a Redis holds under
     * another of these are not what the invalidations streams sends now judge: an entry filled at
     * an LSN is never reached by a version of a column, one of another table's row by this table's
     * changes (the region consumer invalidates such a namespace wholesale, {@code TopicMove}).
     */
    public List<String> holdsRendered() {
        List<String> out = new ArrayList<>(List.of("table:" + table, "version:" + version, "mode:" + mode));
        if (mode == Mode.UPSERT) {
            out.add("payload:" + String.join(",", payloadColumns));
        }
        return List.copyOf(out);
    }

    /**
     * What a reader declares and a region records for readers ({@code lethe:holds:<namespace>}): what the entries hold
     * ({@link #holdsRendered}) and under which keys ({@link #keysRendered}). Both: a reader on another file fills entries
     * no invalidation reaches when the version source changed, and also when a template renders another row under the
     * same key ({@code product:{id}} to {@code product:{sku}}: {@code product:5} is row 5's for one, another row's for
     * the other) or a template or pattern went.
     */
    public List<String> readerHolds() {
        return readerHolds(holdsRendered(), keysRendered());
    }

    /**
     * {@link #readerHolds()} from its parts as a configuration or a region's topic marker has them ({@link #holdsRendered},
     * {@link #keysRendered}): the one place that decides their order, so the record a region writes from its marker and the
     * one a reader declares from its file are equal strings for equal configurations.
     */
    public static List<String> readerHolds(List<String> holdsRendered, List<String> keysRendered) {
        List<String> out = new ArrayList<>(holdsRendered);
        // sorted, not in file order: two files that list the same templates and patterns in another order hold the same
        // entries, and their instances side by side must not take each other's record for another (each would rewrite it
        // and invalidate the namespace wholesale, in turn, for as long as both run: HoldsReconciler)
        out.addAll(new java.util.TreeSet<>(keysRendered));
        return List.copyOf(out);
    }

    /**
     * What an upsert of this namespace writes, as a short fingerprint (the first 8 bytes of SHA-256,
     * hex, as {@link LetheConfig#routes}): {@link #holdsRendered} (table, version source, mode,
     * payload columns) and the text of its row-scoped key templates, the only keys an upsert writes.
     * invalidation-streams stamps it on every upsert it writes ({@code lethe.holds}), the region
     * consumer compares it with its own and applies an upsert rendered under other rules as the
     * delete at its version: a streams instance still on an older file (a rolling restart, a
     * rebalance after the region already moved to the new one) would otherwise write an entry at an
     * LSN into a namespace now versioned by a column (far above every later version, so stale for
     * good), or a payload of another shape at a right version. The key templates count because a
     * template whose glob is unchanged may render other columns ({@code product:{id}} and
     * {@code product:{sku}} render {@code product:5} for other rows): the region's {@code foreign-key}
     * rule cannot tell such a key apart, so its entry would hold another row. Computed once per
     * namespace at start-up by each stage; never per record.
     */
    public String holdsFingerprint() {
        List<String> rendered = new ArrayList<>(holdsRendered());
        // sorted, as readerHolds: a stamp must not differ between two files that differ only in the order of their templates
        keys.stream().filter(this::isRowScoped).map(k -> "key/v" + io.lethe.schemas.keys.KeyFormat.VERSION + ":" + k.text()).sorted()
                .forEach(rendered::add);
        return LetheConfig.fingerprint("lethe.holds/v1|" + String.join(";", rendered));
    }
}
