package io.lethe.config.invalidate;

import io.lethe.config.LetheConfig;
import io.lethe.config.NamespaceConfig;
import io.lethe.config.Patterns;
import io.lethe.config.RegionConfig;
import io.lethe.schemas.Action;
import io.lethe.schemas.DlqReason;
import io.lethe.schemas.InvalidationEvent;
import io.lethe.schemas.Op;
import io.lethe.schemas.Scope;
import io.lethe.schemas.Versions;
import io.lethe.schemas.keys.KeyFormat;
import io.lethe.schemas.redis.RedisLayout;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * The rules of a manual purge, shared by the two sides of {@code <prefix>.invalidation-requests}:
 * {@link ManualInvalidations} refuses a bad target to its caller at once, and invalidation-streams,
 * which routes what that topic carries with its own configuration, judges every request again (whoever
 * may write the topic may write anything: streams signs what it routes, so it routes nothing but a
 * manual delete within its namespace's rules) and decides which regions it reaches.
 */
public final class ManualRequests {
    /** A decimal of 1 to 20 digits: what a version is ({@link Versions#MAX} has 20). */
    private static final Pattern DECIMAL = Pattern.compile("[0-9]{1,20}");

    private ManualRequests() {
    }

    /** Why a request is not routed: its dead letter's reason and message. */
    public record Refusal(DlqReason reason, String message) {
    }

    /** Why {@code key} is not a key of {@code ns} a purge may name, or null when it is. */
    static String notAKey(NamespaceConfig ns, String key) {
        if (key.startsWith(RedisLayout.RESERVED_PREFIX) || ns.keys().stream().noneMatch(k -> k.matches(key))) {
            return "'" + key + "' is not a key of namespace " + ns.name() + " (its key templates: " + ns.keys()
                    + "; key format 2 writes each of " + KeyFormat.RESERVED + " in a value as %XX, e.g. a time's ':' as %3A)";
        }
        return null;
    }

    /**
     * The longest pattern judged at all, and the most {@code *} it may hold: a region's limits
     * ({@code EventRules}), checked first for the same reason: judging a glob (an automaton inclusion
     * test) costs with its length and stars, and a request must not stall the streams task that also
     * maps the changes.
     */
    static final int MAX_PATTERN_CHARS = 4096;
    static final int MAX_PATTERN_STARS = 32;

    /** Why {@code glob} may reach keys outside {@code ns}, or null when every key it matches is one of the namespace's. */
    static String foreignPattern(NamespaceConfig ns, String glob) {
        long stars = glob.chars().filter(c -> c == '*').count();
        if (glob.length() > MAX_PATTERN_CHARS || stars > MAX_PATTERN_STARS) {
            return "a pattern of " + glob.length() + " characters and " + stars + " '*': more than " + MAX_PATTERN_CHARS
                    + " characters or " + MAX_PATTERN_STARS + " '*' is judged by no region";
        }
        if (ns.confines(glob)) {
            return null;
        }
        // regions refuse it too (foreign-pattern): a pattern must only reach keys of the namespace it names
        return "'" + glob + "' can match keys that are not namespace " + ns.name() + "'s ("
                + (Patterns.matchesEverything(glob) ? "it matches every key in Redis; " : "")
                + "its templates' globs and patterns: " + ns.keySpace() + "); invalidate each namespace with a pattern within it";
    }

    /**
     * Why streams does not route {@code request} under {@code config}, or empty when it does: only a
     * manual delete ({@link Op#MANUAL}, no payload) of a namespace this configuration has, of a key its
     * templates render or a pattern within its key space, whose scope says which, at a decimal version no
     * higher than {@link Versions#MAX} and a non-negative LSN, with no other positions (a signed record's
     * {@code commitLsn} feeds a region's replica gate, and a signed namespace-wide reset lifts its LSN ceiling).
     * How far ahead the LSN (and an {@code lsn} namespace's version) may be is the region's to judge: its
     * LSN ceiling holds for {@code op: manual} records even while a reset has lifted it ({@code LsnCeiling}).
     */
    public static Optional<Refusal> refusal(LetheConfig config, InvalidationEvent request) {
        if (request.action() != Action.DELETE || request.payload() != null || request.op() != Op.MANUAL) {
            return refuse(DlqReason.REFUSED_REQUEST, "a request must be a manual delete without payload, was " + request.action()
                    + " op " + request.op() + (request.payload() != null ? " with a payload" : ""));
        }
        if (!DECIMAL.matcher(request.version()).matches() || Versions.compare(request.version(), Versions.MAX) > 0
                || request.lsn() < 0 || request.commitLsn() != null) {
            return refuse(DlqReason.REFUSED_REQUEST, "version '" + request.version() + "', lsn " + request.lsn() + ", commitLsn "
                    + request.commitLsn() + ": a manual purge carries a decimal version of at most " + Versions.MAX
                    + ", a non-negative lsn and no commitLsn");
        }
        NamespaceConfig ns = config.namespaces().get(request.namespace());
        if (ns == null) {
            return refuse(DlqReason.UNKNOWN_NAMESPACE, "unknown namespace '" + request.namespace() + "'; configured in "
                    + config.file() + ": " + config.namespaces().keySet());
        }
        if (request.scope() == Scope.ROW) {
            if (request.key() == null || request.pattern() != null) {
                return refuse(DlqReason.REFUSED_REQUEST, "a row request names a key and no pattern");
            }
            String why = notAKey(ns, request.key());
            return why == null
                    ? Optional.empty()
                    : refuse(request.key().startsWith(RedisLayout.RESERVED_PREFIX) ? DlqReason.RESERVED_KEY : DlqReason.FOREIGN_KEY, why);
        }
        if (request.pattern() == null || request.key() != null) {
            return refuse(DlqReason.REFUSED_REQUEST, "a " + request.scope() + " request names a pattern and no key");
        }
        String why = foreignPattern(ns, request.pattern());
        return why == null ? Optional.empty() : refuse(DlqReason.FOREIGN_PATTERN, why);
    }

    private static Optional<Refusal> refuse(DlqReason reason, String message) {
        return Optional.of(new Refusal(reason, message));
    }

    /**
     * The regions a purge of {@code key} (or {@code pattern}) of {@code ns} reaches under {@code config}:
     * every region that receives the namespace, and every region one of whose namespaces may hold the key
     * (a pattern: reach keys) the region caches under another namespace.
     */
    public static List<String> regions(LetheConfig config, NamespaceConfig ns, String key, String pattern) {
        return config.regions().values().stream().filter(r -> config.receives(r).contains(ns.name()) || config.receives(r).stream()
                .map(config.namespaces()::get).anyMatch(n -> pattern != null ? n.mayReach(pattern) : n.mayHold(key)))
                .map(RegionConfig::name).toList();
    }
}
