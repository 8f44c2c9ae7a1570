package io.lethe.cli.doctor;

import io.lethe.capture.source.CheckResult;
import io.lethe.cli.lag.LagReport;
import io.lethe.cli.lag.SigningReport;
import io.lethe.config.LetheConfig;
import io.lethe.schemas.SigningKeys;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * {@code lethe doctor}'s watermark-signature check with what the topics say: the settings alone
 * ({@link TransportChecks#watermarkKey}) plus, when Kafka answers, which key each signer's newest
 * watermarks carry ({@link io.lethe.schemas.Headers#KEY_ID}, read as {@code lethe lag} reads them).
 *
 * <p>Why both: the file says a rotation is under way but not which step it is at (step 1's and step
 * 2's files both hold two keys, only their order differs, and doctor cannot know which key is the
 * new one); the watermarks say which signers still sign with this file's previous key, which is what
 * decides whether step 3 may start, and whether a signer uses a key this file refuses (a FAIL: every
 * verifier on this file dead-letters what that stage writes).
 */
final class RotationCheck {
    private RotationCheck() {
    }

    /** The check, reading the newest watermarks when the file has a key (null when Kafka cannot be read: the settings alone). */
    static CheckResult run(LetheConfig config) {
        if (config.streams().signingKeys() == null) {
            return of(config, null);
        }
        Map<String, Set<String>> signers;
        try {
            signers = new LagReport(config, Clock.systemUTC()).readSigning().signers();
        } catch (RuntimeException e) {
            signers = null; // Kafka is unreachable: the Kafka checks say so
        }
        return of(config, signers);
    }

    /** {@code signers}: per signer and topic, the key ids of its newest watermarks ("" for none); null when unknown. */
    static CheckResult of(LetheConfig config, Map<String, Set<String>> signers) {
        CheckResult base = TransportChecks.watermarkKey(config);
        SigningKeys keys = config.streams().signingKeys();
        if (keys == null || signers == null || signers.isEmpty()) {
            return base;
        }
        List<String> onCurrent = new ArrayList<>();
        List<String> onPrevious = new ArrayList<>();
        List<String> refused = new ArrayList<>();
        signers.forEach((signer, ids) -> ids.stream().filter(id -> !id.isEmpty()).forEach(id -> {
            if (id.equals(keys.signsWith())) {
                onCurrent.add(signer);
            } else if (keys.previousId().filter(id::equals).isPresent()) {
                onPrevious.add(signer);
            } else {
                refused.add(signer + (id.equals(SigningReport.UNVERIFIED) ? " (" + id + ")" : " (key " + id + ")"));
            }
        }));
        StringBuilder seen = new StringBuilder(". The newest watermarks: ");
        seen.append(onCurrent.isEmpty() ? "none" : String.join(", ", onCurrent)).append(" signed with this file's current key ")
                .append(keys.signsWith());
        keys.previousId().ifPresent(previous -> seen.append("; ").append(onPrevious.isEmpty() ? "none" : String.join(", ", onPrevious))
                .append(" still with its previous key ").append(previous)
                .append(onPrevious.isEmpty()
                        ? ""
                        : " (step 2 has not reached them, or, if this is step 1's file, they already run step 2's)"));
        if (!refused.isEmpty()) {
            return CheckResult.fail(base.check(), base.message() + seen + "; signed with a key this file does not accept: "
                    + String.join(", ", refused),
                    "give every stage the same keys (docs/security.md, \"Rotating the watermark key\"): "
                            + "a verifier on this file refuses what those stages write (untrusted-record, untrusted-watermark); "
                            + "if this file is behind the one the stages run, check that one instead");
        }
        return new CheckResult(base.check(), base.status(), base.message() + seen, base.fix());
    }
}
