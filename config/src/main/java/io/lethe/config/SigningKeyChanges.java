package io.lethe.config;

import java.util.Objects;
import java.util.Optional;

/**
 * What a new configuration does to {@code streams.watermark-key} and {@code
 * streams.previous-watermark-key}, for {@link ConfigChanges}: which step of a rotation it is
 * (docs/security.md, "Rotating the watermark key"), and whether it is lossy. The keys are compared,
 * never printed.
 *
 * <p>A rollout restarts the stages one by one, so instances of both files run side by side. It
 * loses nothing when each file's signing key is accepted by the other file (its current or previous
 * key): otherwise a region on one file refuses the upserts the other's streams writes as {@code
 * untrusted-record} (the entry keeps its old value, with every lag healthy) and its watermarks
 * (its LSN ceiling stops moving). A key introduced or removed is judged by the same rule, with
 * "no key" accepting everything and signing nothing: it loses nothing only in the order it gives.
 * Each step's finding names the keys' ids, by which the stages' metrics and {@code lethe lag} show
 * when the step is done.
 */
final class SigningKeyChanges {
    /**
     * When step 3 loses nothing. A backlog at 0 is not enough: a mirrored region's cluster may not
     * have the records signed with the old key yet. A heartbeat committed after the last signer
     * restarted is forwarded after everything signed with the old key, in every partition, and a
     * region's applied watermark passes it only once all of that is applied.
     */
    private static final String STEP_3_WHEN = "once every region's applied watermark, mirrored regions included, has a commit "
            + "time after the moment the last signer (capture, streams) restarted in step 2 (lethe lag: "
            + "its end-to-end lag shorter than the time since then; or the ts:<partition> fields of lethe:lsn:<group> in its "
            + "Redis) and the DLQ is replayed";

    private SigningKeyChanges() {
    }

    /** The key's id ({@link io.lethe.schemas.SigningKeys#keyId}): what each stage's metrics and lethe lag show, never the key. */
    private static String id(Secret key) {
        return io.lethe.schemas.SigningKeys.keyId(key.reveal().getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }

    /**
     * A finding.
     *
     * @param line  what the change is, one line
     * @param lossy true when some order of the rollout refuses real records (see the class comment)
     */
    record Finding(String line, boolean lossy) {
    }

    static Optional<Finding> between(StreamsConfig running, StreamsConfig next) {
        Secret oldCurrent = running.watermarkKey();
        Secret oldPrevious = running.previousWatermarkKey();
        Secret newCurrent = next.watermarkKey();
        Secret newPrevious = next.previousWatermarkKey();
        if (Objects.equals(oldCurrent, newCurrent) && Objects.equals(oldPrevious, newPrevious)) {
            return Optional.empty();
        }
        String prefix = "streams.watermark-key: ";
        if (oldCurrent == null) {
            return Optional.of(new Finding(prefix + "introduced; roll out capture first, then streams and every `lethe invalidate`, then "
                    + "the regions: a region with the key refuses an unsigned upsert (untrusted-record: not applied, the entry keeps "
                    + "its old value) and an unsigned watermark, so it must not run before what feeds it signs", true));
        }
        if (newCurrent == null) {
            return Optional.of(new Finding(prefix + "removed: records and watermarks are taken on trust from then on; roll out the "
                    + "regions first, then streams, then capture (a region still on the key refuses what an unsigning streams writes)",
                    true));
        }
        boolean oldSignerAccepted = oldCurrent.equals(newCurrent) || oldCurrent.equals(newPrevious);
        boolean newSignerAccepted = newCurrent.equals(oldCurrent) || newCurrent.equals(oldPrevious);
        if (!oldSignerAccepted || !newSignerAccepted) {
            String which = !oldSignerAccepted && !newSignerAccepted
                    ? "neither file accepts the key the other signs with"
                    : oldSignerAccepted
                            ? "the running file does not accept the key the new one signs with"
                            : "the new file does not accept the key the running one signs with";
            return Optional.of(new Finding(prefix + "changes, and " + which
                    + ": a lossy step. While instances of both run, a region refuses the other key's upserts (untrusted-record: "
                    + "not applied, the entry keeps its old value) and its watermarks (its LSN ceiling stops, later changes are "
                    + "refused as version-out-of-range); rotate in three rollouts instead (docs/security.md, \"Rotating the watermark "
                    + "key\"): first previous-watermark-key: <new key> everywhere, then watermark-key: <new key> with "
                    + "previous-watermark-key: <old key>, then drop previous-watermark-key", true));
        }
        if (oldCurrent.equals(newCurrent) && oldPrevious == null) {
            return Optional.of(new Finding(prefix + "unchanged; previous-watermark-key added (rotation step 1, new key " + id(newPrevious)
                    + "): every stage on the new file accepts the new key, nothing signs with it yet; roll it out to every stage, and to "
                    + "every subscriber of the public topic that verifies signatures, before step 2 (done when every stage's "
                    + "lethe_signing_key{role=\"accepts\"} includes " + id(newPrevious) + ")", false));
        }
        if (oldCurrent.equals(newCurrent) && newPrevious == null) {
            return Optional.of(new Finding(prefix + "unchanged; previous-watermark-key dropped (rotation step 3, key " + id(oldPrevious)
                    + " no longer accepted): a record or "
                    + "watermark signed with it that a region has not read yet is refused from then on (an upsert as "
                    + "untrusted-record, not applied): drop it only " + STEP_3_WHEN, false));
        }
        if (oldCurrent.equals(newCurrent)) {
            return Optional.of(new Finding(prefix + "unchanged; previous-watermark-key changes: a record signed with the one it "
                    + "replaces and not read yet is refused from then on", false));
        }
        return Optional.of(new Finding(prefix + "changes to the key the running file accepts as previous-watermark-key, which keeps "
                + "accepting the running key (rotation step 2, signers move from key " + id(oldCurrent) + " to " + id(newCurrent)
                + "; done when lethe lag shows no signer on " + id(oldCurrent)
                + "): no loss in any order only if every stage already runs the running file "
                + "(step 1), every subscriber of the public topic that verifies signatures included: one still without "
                + "previous-watermark-key: <new key> refuses what signs with the new key (this check sees two files, not which one "
                + "each stage runs); drop previous-watermark-key " + STEP_3_WHEN, false));
    }
}
