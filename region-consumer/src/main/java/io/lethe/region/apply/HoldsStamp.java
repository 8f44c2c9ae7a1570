package io.lethe.region.apply;

import io.lethe.config.NamespaceConfig;
import io.lethe.schemas.Action;
import io.lethe.schemas.DlqReason;
import io.lethe.schemas.Headers;
import io.lethe.schemas.InvalidationEvent;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import org.apache.kafka.common.header.Header;

/**
 * Whether an upsert was rendered under the rules this region's configuration has for its namespace:
 * invalidation-streams stamps every upsert with its namespace's {@link NamespaceConfig#holdsFingerprint}
 * ({@link Headers#HOLDS}), and the region compares the stamp with its own, worked out once per
 * namespace here. A region whose configuration changed what a namespace holds invalidates it wholesale
 * once streams proves it runs the new file ({@link StartupFeed}, {@link TopicMove}); a streams instance
 * still on the old file that gets a task back after that proof (a rolling restart, a rebalance) would
 * otherwise write what the old rules render: an entry at an LSN in a namespace now versioned by a
 * column, far above every version that namespace's invalidations carry (stale for good), or a payload
 * of another shape at a right version (wrong until the next change). Such an upsert, and one without a
 * stamp (a streams of an older release), is applied as the delete at its own version and dead-lettered
 * as {@code foreign-holds} ({@link Admission}): a delete of another configuration only costs misses
 * (one at an LSN in a {@code column:} namespace removes whatever is cached and fences the key at that
 * LSN until its fence TTL passes). Deletes carry no stamp and are not judged here.
 *
 * <p><b>Instances on different files.</b> {@code foreign-holds} is one of {@link MarkerView#SKEW_REASONS}:
 * the first such upsert of a batch makes the instance compare its view with the marker in its Redis.
 * An instance still on the old file, reading what a streams on the new one sends after another
 * instance of its group moved the region (the marker records the new file), is the one that is wrong:
 * turning those upserts into deletes would lose them (and, at column versions in a namespace it
 * takes for {@code lsn}, delete nothing an old reader filled at an LSN), and its dead letters would
 * blame streams for its own skew. It holds instead, like for every other refusal a newer file
 * explains, until it is restarted on the file the marker records, and then applies them as upserts.
 * An instance whose view matches the marker applies the delete: the record is another
 * configuration's. While no instance has moved yet (the marker records the old file, streams already
 * runs the new one) the old instances apply the new streams' upserts as deletes too: the region has
 * not invalidated the namespace yet, so it must not take entries the new rules render.
 *
 * <p><b>Signatures.</b> The stamp is not covered by {@code lethe.signature} (which signs the record's
 * key and value, {@code RecordSignature}), on purpose. Without {@code streams.watermark-key} nothing is
 * signed anyway and a producer with write access can write any upsert. With it, a producer without the
 * key cannot make a signed upsert at all; what it can do with the header alone is (1) remove or change
 * it, which turns a signed upsert into the delete at its version, a delete anyone with write access may
 * send unsigned already (applied and counted: {@code lethe.region.unsigned.deletes}); or (2) put this
 * region's fingerprint on a signed upsert streams stamped otherwise, which needs a copy of a record an
 * old-file streams wrote: written back into the topic, the copy is judged like any copy of a signed
 * record ({@link ReplayFloor}, {@link UpsertAge}), and its original, applied before it as the delete at
 * the same version (a copy under the same key lands in the same partition, after it), leaves a fence
 * the copy's upsert at that version does not pass. What remains: a copy raced onto another partition and
 * read before its original, while an old-file streams still writes after a move; Kafka ACLs (only
 * streams' principal writes the region topics) are what keeps such producers out. Signing the stamp
 * would change the signature's format: every region of an older release would then refuse every upsert
 * of a newer streams as {@code untrusted-record} during an upgrade, leaving the entries those upserts
 * replace, and each upsert would cost streams a second MAC.
 */
final class HoldsStamp {
    /** Namespace → its fingerprint under this configuration, as the header's bytes. */
    private final Map<String, byte[]> expected = new HashMap<>();
    private final String configFile;

    HoldsStamp(Map<String, NamespaceConfig> namespaces, String configFile) {
        namespaces.forEach((name, ns) -> expected.put(name, ns.holdsFingerprint().getBytes(StandardCharsets.UTF_8)));
        this.configFile = configFile;
    }

    /**
     * Why the upsert {@code e} (read with {@code headers}) must be applied as the delete at its version,
     * if it must: its stamp is missing or not this configuration's. Empty for every delete, and for an
     * upsert of a namespace this configuration lacks (the rules refuse that one first).
     */
    Optional<EventRules.Refusal> refusal(InvalidationEvent e, org.apache.kafka.common.header.Headers headers) {
        if (e.action() != Action.UPSERT) {
            return Optional.empty();
        }
        byte[] mine = expected.get(e.namespace());
        if (mine == null) {
            return Optional.empty();
        }
        Header stamp = headers.lastHeader(Headers.HOLDS);
        if (stamp != null && Arrays.equals(mine, stamp.value())) {
            return Optional.empty();
        }
        String carried = stamp == null
                ? "no " + Headers.HOLDS + " (a streams of an older release)"
                : Headers.HOLDS + " " + abbreviate(stamp.value()) + " (a streams running another configuration of the namespace)";
        return Optional.of(new EventRules.Refusal(DlqReason.FOREIGN_HOLDS, "an upsert in namespace " + e.namespace() + " with "
                + carried + ", while " + configFile + " has " + new String(mine, StandardCharsets.UTF_8)
                + " (its table, version source, mode, payload columns and row-scoped key templates): applied as the delete at its "
                + "version " + e.version()));
    }

    private static String abbreviate(byte[] value) {
        String text = value == null ? "" : new String(value, 0, Math.min(value.length, 64), StandardCharsets.UTF_8);
        return "'" + text + (value != null && value.length > 64 ? "...'" : "'");
    }
}
