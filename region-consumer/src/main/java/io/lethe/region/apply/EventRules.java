package io.lethe.region.apply;

import io.lethe.config.KeyTemplate;
import io.lethe.config.LetheConfig;
import io.lethe.config.Mode;
import io.lethe.config.NamespaceConfig;
import io.lethe.config.Patterns;
import io.lethe.schemas.Action;
import io.lethe.schemas.DlqReason;
import io.lethe.schemas.InvalidationEvent;
import io.lethe.schemas.Op;
import io.lethe.schemas.SigningKeys;
import io.lethe.schemas.Scope;
import io.lethe.schemas.Versions;
import io.lethe.schemas.Watermark;
import io.lethe.schemas.redis.RedisLayout;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What a region accepts from a topic, read as if it came from outside (issue 34, "trust no
 * topic"): whoever can produce to a Lethe topic must not be able to make a region do anything
 * the pipeline itself would not. Each rule refuses with its own {@link DlqReason}:
 * <ol>
 *   <li>the namespace must be configured ({@code unknown-namespace});</li>
 *   <li>a key must not be one of Lethe's own ({@value RedisLayout#RESERVED_PREFIX}: fences, epochs,
 *       locks, watermarks, checkpoints; {@code reserved-key});</li>
 *   <li>a key must be one a template of the namespace can render, an upsert's one a row-scoped
 *       template renders ({@code foreign-key});</li>
 *   <li>an upsert only in a namespace with {@code mode: upsert} ({@code upsert-not-configured});</li>
 *   <li>versions within range ({@code version-out-of-range}): in an {@code lsn} namespace the
 *       version is the event's own LSN (capture, streams and {@code lethe invalidate} all make it
 *       so) and that LSN may be at most {@code apply.max-lsn-lead-mib} beyond the highest watermark
 *       the region has merged; in a {@code column:} namespace an upsert's version is at most
 *       {@link Versions#MAX_UPSERT} (a delete may carry up to {@link Versions#MAX}: its fence
 *       expires after the fence TTL, an upsert's version stays as long as its entry);</li>
 *   <li>a pattern must be one the namespace's configuration produces (a configured pattern, or
 *       for a namespace-scoped invalidation a template's glob: a TRUNCATE, a reset, a key that
 *       could not be rendered), or else only able to match keys of the namespace: every key it
 *       could match is one a template or pattern of the namespace could produce
 *       ({@link Patterns#within}, decided on what the glob matches, not on its text). {@code *:*},
 *       {@code [a-z]*} and {@code ?*} match keys of other namespaces ({@code foreign-pattern}).
 *       A pattern covering a template's whole key space needs {@code allow-namespace-wide}
 *       ({@code namespace-wide-pattern}).</li>
 * </ol>
 * With {@code streams.watermark-key} set, a record these rules admit is applied only when its
 * signature verifies ({@link #signatureRefusal}, {@code untrusted-record}). Without the key, what
 * this cannot prove: that an event within these rules came from Lethe. A producer with
 * write access can still invalidate any key of a namespace at any admissible version, or send a
 * namespace-scoped invalidation of a template's glob (what a TRUNCATE sends): the harm is misses,
 * never a stale or foreign value, and it is bounded by the namespaces the topic carries. Kafka
 * ACLs (only streams' principal writes the region topics) are what keeps such producers out.
 */
public final class EventRules {
    private final Map<String, NamespaceConfig> namespaces;
    private final String configFile;
    private final long maxLsnLead;

    /** The longest pattern a region judges at all (configured patterns excepted): four times the default max-key-bytes. */
    static final int MAX_PATTERN_CHARS = 4096;
    /** The most {@code *} a pattern may hold (configured patterns excepted). */
    static final int MAX_PATTERN_STARS = 32;

    public EventRules(Map<String, NamespaceConfig> namespaces, String configFile, long maxLsnLead) {
        this.namespaces = namespaces;
        this.configFile = configFile;
        this.maxLsnLead = maxLsnLead;
    }

    /** Why an invalidation is refused: the reason (its {@link DlqReason#code()} goes in the DLQ header) and a message naming what is wrong. */
    public record Refusal(DlqReason reason, String message) {
    }

    /**
     * Why {@code e} must not be applied, if it must not.
     *
     * @param lastWatermarkLsn the highest LSN of a watermark the region has merged, or -1 when it has
     *                         seen none yet (then no LSN ceiling applies)
     */
    public Optional<Refusal> refusal(InvalidationEvent e, long lastWatermarkLsn) {
        NamespaceConfig ns = namespaces.get(e.namespace());
        if (ns == null) {
            return refuse(DlqReason.UNKNOWN_NAMESPACE, "unknown namespace '" + e.namespace() + "' (not in " + configFile + ")");
        }
        Optional<Refusal> version = versionRefusal(e, ns, lastWatermarkLsn);
        if (e.scope().isPattern()) {
            Optional<Refusal> pattern = patternRefusal(e, ns);
            return pattern.isPresent() ? pattern : version;
        }
        if (e.key().startsWith(RedisLayout.RESERVED_PREFIX)) {
            return refuse(DlqReason.RESERVED_KEY, "key '" + e.key() + "' is one of Lethe's own (prefix " + RedisLayout.RESERVED_PREFIX
                    + "): no invalidation may touch it");
        }
        // an upsert writes a row's payload: only into a key a row-scoped template renders; a delete may name any
        // template's key (lethe invalidate --key purges derived keys too)
        List<KeyTemplate> templates = e.action() == Action.UPSERT ? ns.keys().stream().filter(ns::isRowScoped).toList() : ns.keys();
        if (templates.stream().noneMatch(t -> t.matches(e.key()))) {
            return refuse(DlqReason.FOREIGN_KEY, "key '" + e.key() + "' is not one namespace " + ns.name() + "'s "
                    + (e.action() == Action.UPSERT ? "row-scoped " : "") + "key templates " + templates + " can render");
        }
        if (e.action() == Action.UPSERT && ns.mode() != Mode.UPSERT) {
            return refuse(DlqReason.UPSERT_NOT_CONFIGURED, "an upsert in namespace " + ns.name() + ", whose mode is " + ns.mode()
                    + " (" + configFile + "); only mode: upsert namespaces receive payloads");
        }
        return version;
    }

    /** A namespace reset that deletes whatever is there (2^64 - 1): capture's after the source's history changed, and others. */
    static boolean deletesWhateverIsThere(InvalidationEvent e) {
        return e.scope() == Scope.NAMESPACE && e.op() == Op.RESET && Versions.compare(e.version(), Versions.MAX) == 0;
    }

    private Optional<Refusal> versionRefusal(InvalidationEvent e, NamespaceConfig ns, long lastWatermarkLsn) {
        // in every namespace: the positions an event carries feed the replica gate (it waits for the replica to replay
        // commitLsn), the scan and wide watermarks (lsn): one beyond the source's reach would stall the gate or turn every
        // later upsert into a delete
        if (lastWatermarkLsn >= 0) {
            long highest = Math.max(e.lsn(), e.commitLsn() == null ? 0 : e.commitLsn());
            if (highest - lastWatermarkLsn > maxLsnLead) {
                return refuse(DlqReason.VERSION_OUT_OF_RANGE,
                        "LSN " + highest + " (lsn " + e.lsn() + ", commitLsn " + e.commitLsn() + ") is "
                                + (highest - lastWatermarkLsn) + " bytes of WAL beyond the region's last watermark (" + lastWatermarkLsn
                                + "); apply.max-lsn-lead-mib allows " + (maxLsnLead >> 20) + " MiB");
            }
        }
        if (e.lsn() < 0 || e.commitLsn() != null && e.commitLsn() < 0) {
            return refuse(DlqReason.VERSION_OUT_OF_RANGE, "negative LSN (lsn " + e.lsn() + ", commitLsn " + e.commitLsn() + ")");
        }
        if (e.scope() == Scope.DERIVED) {
            return Optional.empty(); // always "0" (the schema says so)
        }
        if (ns.version().isLsn()) {
            if (e.scope() == Scope.NAMESPACE && e.op() == Op.RESET && Versions.compare(e.version(), Versions.MAX) == 0) {
                // capture's reset after the source's history changed (Resets.allWholesale): it deletes whatever is there,
                // and no position of the old history can be compared with the new one's, so its version is the highest
                return Optional.empty();
            }
            if (!Long.toString(e.lsn()).equals(Versions.canonical(e.version()))) {
                return refuse(DlqReason.VERSION_OUT_OF_RANGE, "version " + abbreviate(e.version()) + " in lsn-versioned namespace "
                        + ns.name() + " is not the event's LSN " + e.lsn());
            }
            if (lastWatermarkLsn >= 0 && e.lsn() - lastWatermarkLsn > maxLsnLead) {
                return refuse(DlqReason.VERSION_OUT_OF_RANGE, "LSN " + e.lsn() + " is " + (e.lsn() - lastWatermarkLsn)
                        + " bytes of WAL beyond the region's last watermark (" + lastWatermarkLsn + "); apply.max-lsn-lead-mib allows "
                        + (maxLsnLead >> 20) + " MiB");
            }
            return Optional.empty();
        }
        if (e.action() == Action.UPSERT && Versions.compare(e.version(), Versions.MAX_UPSERT) > 0) {
            return refuse(DlqReason.VERSION_OUT_OF_RANGE, "upsert at version " + abbreviate(e.version()) + " in namespace " + ns.name()
                    + ": above " + Versions.MAX_UPSERT + " (bigint), the highest an upsert may carry");
        }
        if (Versions.compare(e.version(), Versions.MAX) > 0) {
            return refuse(DlqReason.VERSION_OUT_OF_RANGE, "version " + abbreviate(e.version()) + " is above " + Versions.MAX);
        }
        return Optional.empty();
    }

    private Optional<Refusal> patternRefusal(InvalidationEvent e, NamespaceConfig ns) {
        String glob = e.pattern();
        if (e.scope() == Scope.PATTERN && ns.patterns().contains(glob)) {
            return Optional.empty();
        }
        if (e.scope() == Scope.NAMESPACE
                && (ns.namespaceGlobs().contains(glob) || ns.keys().stream().anyMatch(k -> k.glob().equals(glob)))) {
            return Optional.empty();
        }
        if (glob.length() > MAX_PATTERN_CHARS || glob.chars().filter(c -> c == '*').count() > MAX_PATTERN_STARS) {
            // judging, scanning and matching a glob costs with its length and its stars (matching backtracks over them):
            // no configured or manual pattern comes near these, a forged one must not stall the region
            return refuse(DlqReason.FOREIGN_PATTERN, "pattern of " + glob.length() + " characters and "
                    + glob.chars().filter(c -> c == '*').count() + " '*': more than " + MAX_PATTERN_CHARS + " characters or "
                    + MAX_PATTERN_STARS + " '*' is no pattern Lethe sends");
        }
        if (Patterns.matchesEverything(glob)) {
            return refuse(DlqReason.MATCH_ALL_PATTERN, "pattern '" + glob + "' matches every key in Redis");
        }
        if (!ns.confines(glob)) {
            return refuse(DlqReason.FOREIGN_PATTERN, "pattern '" + glob + "' can match keys namespace " + ns.name()
                    + " does not hold (its templates' globs and patterns: " + ns.keySpace() + ")");
        }
        if (!ns.allowNamespaceWide() && ns.isNamespaceWide(glob)) {
            return refuse(DlqReason.NAMESPACE_WIDE_PATTERN, "pattern '" + glob + "' covers all of namespace " + ns.name()
                    + "; set allow-namespace-wide: true on it to permit that");
        }
        return Optional.empty();
    }

    /**
     * Why a watermark record must not be merged, if it must not: headers missing or not numbers, or,
     * with {@code streams.watermark-key} set ({@code keys} not null), a signature that verifies with
     * neither it nor {@code streams.previous-watermark-key}.
     */
    public static Optional<Refusal> watermarkRefusal(org.apache.kafka.common.header.Headers headers, SigningKeys keys) {
        Optional<Watermark> read = Watermark.read(headers);
        if (read.isEmpty() || headers.lastHeader(Watermark.LSN) == null || read.get().lsn() < 0 || read.get().source() < 0) {
            return refuse(DlqReason.UNTRUSTED_WATERMARK,
                    "a watermark record without " + Watermark.COMMIT_TS + ", " + Watermark.LSN + " and "
                            + Watermark.SOURCE + " as decimal numbers");
        }
        if (keys != null && !read.get().verifies(headers, keys)) {
            return refuse(DlqReason.UNTRUSTED_WATERMARK, "a watermark record whose " + Watermark.SIGNATURE
                    + (headers.lastHeader(Watermark.SIGNATURE) == null ? " is missing" : " does not verify")
                    + " (" + keys.refusal(headers) + "): not written by the streams application");
        }
        return Optional.empty();
    }

    /**
     * Why an invalidation record must not be applied for want of a signature, if it must not: with
     * {@code streams.watermark-key} set ({@code keys} not null), a {@link io.lethe.schemas.Headers#SIGNATURE}
     * that is missing or verifies over the record's key and value with neither it nor {@code
     * streams.previous-watermark-key}.
     */
    public static Optional<Refusal> signatureRefusal(org.apache.kafka.common.header.Headers headers, String recordKey, byte[] value,
            SigningKeys keys) {
        if (keys == null || keys.verifies(headers, recordKey, value)) {
            return Optional.empty();
        }
        return refuse(DlqReason.UNTRUSTED_RECORD, "an invalidation record whose " + io.lethe.schemas.Headers.SIGNATURE
                + (headers.lastHeader(io.lethe.schemas.Headers.SIGNATURE) == null ? " is missing" : " does not verify")
                + " (" + keys.refusal(headers) + "): not written by the streams application or lethe invalidate");
    }

    /**
     * The keys the region verifies with ({@code streams.watermark-key} and, during a rotation,
     * {@code streams.previous-watermark-key}), or null without a key: build once, not per record.
     */
    public static SigningKeys signingKeys(LetheConfig config) {
        return config.streams().signingKeys();
    }

    private static Optional<Refusal> refuse(DlqReason reason, String message) {
        return Optional.of(new Refusal(reason, message));
    }

    private static String abbreviate(String version) {
        return version.length() <= 40 ? version : version.substring(0, 40) + "... (" + version.length() + " digits)";
    }
}
