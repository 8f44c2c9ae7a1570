package io.lethe.cli.lag;

import io.lethe.config.LetheConfig;
import io.lethe.region.apply.EventRules;
import io.lethe.schemas.SigningKeys;
import io.lethe.stage.health.SigningKeyIds;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Which key each stage signs its watermarks with, as the newest watermark of each partition says
 * ({@link io.lethe.schemas.Headers#KEY_ID}), next to the keys this file accepts and, where {@code
 * lethe lag} could scrape a stage's {@code /metrics}, the keys that stage accepts ({@value
 * SigningKeyIds#METRIC}). Why: during a key rotation a stage a rollout missed shows otherwise only as
 * refusals ({@code untrusted-*} dead letters, a lag that grows); here it shows by name, with ids
 * (never keys).
 *
 * <p>A watermark's id is not signed (a forger can write any id), so an id is reported together with
 * whether the watermark verifies with this file's keys; only a verifying one proves its key. The
 * signers are capture (its watermarks on the changes topic, per shard) and streams (those it
 * forwards to each region topic).
 */
public final class SigningReport {
    /** The stage name (capture, capture shard s, streams) of the newest watermark of one partition. */
    private record Seen(String signer, long offset, String id, boolean verified) {
    }

    private static final Pattern SAMPLE = Pattern.compile("^lethe_signing_key\\{([^}]*)}\\s+\\S+$");
    private static final Pattern LABEL = Pattern.compile("(\\w+)=\"([^\"]*)\"");

    private final LetheConfig config;
    private final SigningKeys keys;
    /** Per topic and partition: its newest watermark. */
    private final Map<String, Map<Integer, Seen>> newest = new TreeMap<>();
    /** Per running stage seen in a scraped /metrics: role (signs, accepts) to key ids. */
    private final Map<String, Map<String, Set<String>>> scraped = new TreeMap<>();

    SigningReport(LetheConfig config) {
        this.config = config;
        this.keys = EventRules.signingKeys(config);
    }

    void clear() {
        newest.clear();
        scraped.clear();
    }

    /** A watermark read at {@code offset} of {@code topic}'s {@code partition}, of capture shard {@code shard} (null: none). */
    void saw(String topic, int partition, long offset, String shard, org.apache.kafka.common.header.Headers headers,
            boolean verified) {
        String signer = topic.equals(config.topics().changes()) ? (shard == null ? "capture" : "capture shard " + shard) : "streams";
        String id = SigningKeys.signedWith(headers).orElse("");
        newest.computeIfAbsent(topic, t -> new TreeMap<>()).merge(partition, new Seen(signer, offset, id, verified),
                (a, b) -> b.offset() > a.offset() ? b : a);
    }

    /** The {@value SigningKeyIds#METRIC} samples of one scraped /metrics body. */
    void scraped(String prometheusText) {
        for (String line : prometheusText.split("\n")) {
            Matcher m = SAMPLE.matcher(line.trim());
            if (m.matches()) {
                Map<String, String> labels = new TreeMap<>();
                Matcher l = LABEL.matcher(m.group(1));
                while (l.find()) {
                    labels.put(l.group(1), l.group(2));
                }
                if (labels.containsKey("stage") && labels.containsKey("role") && labels.containsKey("id")) {
                    scraped.computeIfAbsent(labels.get("stage"), s -> new TreeMap<>())
                            .computeIfAbsent(labels.get("role"), r -> new TreeSet<>()).add(labels.get("id"));
                }
            }
        }
    }

    /** What {@link #signers} gives for a watermark that carries no key id and does not verify with this file's keys. */
    public static final String UNVERIFIED = "no key id, does not verify";

    /**
     * Per signer and topic ({@code capture on lethe.changes}): the key ids of its newest watermarks that prove them (they
     * verify, or name a key this file does not accept); "" for a verifying one without an id (a release before ids),
     * {@link #UNVERIFIED} for one without an id that does not verify (unsigned, or an older release's other key). One
     * that claims an accepted id and does not verify is left out: a forgery, not a signer's key ({@link #lines} warns).
     */
    public Map<String, Set<String>> signers() {
        Map<String, Set<String>> out = new TreeMap<>();
        newest.forEach((topic, byPartition) -> byPartition.values().forEach(s -> {
            String id = s.verified() || keys == null
                    ? s.id()
                    : s.id().isEmpty() ? UNVERIFIED : keys.accepts().contains(s.id()) ? null : s.id();
            if (id != null) {
                out.computeIfAbsent(s.signer() + " on " + topic, k -> new TreeSet<>()).add(id);
            }
        }));
        return out;
    }

    /** What {@code lethe lag} prints: one line per signer, then a WARN line per disagreement. Empty when nothing is signed. */
    public List<String> lines() {
        List<String> lines = new ArrayList<>();
        Map<String, Set<String>> signers = signers();
        boolean anyId = signers.values().stream().anyMatch(ids -> ids.stream().anyMatch(id -> !id.isEmpty()));
        if (keys == null && !anyId) {
            return lines;
        }
        lines.add(keys == null
                ? "signing keys: this file has no streams.watermark-key (every watermark is taken on trust)"
                : "signing keys: this file signs with " + keys.signsWith() + ", accepts " + String.join(" and ", keys.accepts()));
        Set<String> distinct = new LinkedHashSet<>();
        newest.forEach((topic, byPartition) -> {
            Map<String, Set<String>> described = new TreeMap<>();
            for (Seen s : byPartition.values()) {
                described.computeIfAbsent(s.signer(), k -> new LinkedHashSet<>()).add(describe(s));
                if (!s.id().isEmpty()) {
                    distinct.add(s.id());
                }
            }
            described.forEach(
                    (signer, ds) -> lines.add(signer + " on " + topic + ": newest watermarks signed with " + String.join(", ", ds)));
        });
        if (distinct.size() > 1) {
            lines.add("WARN stages sign with different keys (" + String.join(", ", distinct) + "): a rotation's step 2 is under way or "
                    + "missed a signer; every verifier must accept all of them until it is done (docs/security.md)");
        }
        newest.values().stream().flatMap(m -> m.values().stream()).filter(s -> keys != null && s.id().isEmpty() && !s.verified())
                .map(s -> "WARN " + s.signer() + "'s newest watermarks carry no key id and do not verify: unsigned, or signed by a "
                        + "release before key ids with a key this file does not accept; a verifier on this file refuses them")
                .distinct().forEach(lines::add);
        newest.values().stream().flatMap(m -> m.values().stream()).filter(s -> keys != null && !s.id().isEmpty() && !s.verified())
                .map(s -> keys.accepts().contains(s.id())
                        ? "WARN a watermark claiming " + s.signer() + "'s key " + s.id() + " does not verify: not written by a Lethe stage"
                        : "WARN " + s.signer() + " signs with key " + s.id() + ", which this file does not accept ("
                                + String.join(" and ", keys.accepts()) + "): a verifier on this file refuses what it writes "
                                + "(untrusted-record, untrusted-watermark)")
                .distinct().forEach(lines::add);
        lines.addAll(scrapedLines());
        return lines;
    }

    /** A running stage's keys, as its /metrics says, and a WARN for each signer key it does not accept. */
    private List<String> scrapedLines() {
        List<String> lines = new ArrayList<>();
        scraped.forEach((stage, roles) -> {
            lines.add(stage + " (its /metrics): signs with " + String.join(", ", roles.getOrDefault(SigningKeyIds.SIGNS, Set.of("-")))
                    + ", accepts " + String.join(", ", roles.getOrDefault(SigningKeyIds.ACCEPTS, Set.of("-"))));
            Set<String> accepted = roles.getOrDefault(SigningKeyIds.ACCEPTS, Set.of());
            if (accepted.isEmpty()) {
                return;
            }
            // streams verifies capture's watermarks (the changes topic); a region those of its own topic
            String readTopic = stage.equals("streams")
                    ? config.topics().changes()
                    : stage.startsWith("region:") && config.regions().containsKey(stage.substring(7))
                            ? config.topics().invalidations(stage.substring(7))
                            : null;
            if (readTopic == null) {
                lines.add(stage + " is not a stage of " + config.file() + ": its keys are not compared");
                return;
            }
            newest.getOrDefault(readTopic, Map.of()).values().stream().filter(s -> !s.id().isEmpty() && !accepted.contains(s.id()))
                    .map(s -> "WARN " + stage + " does not accept key " + s.id() + " that " + s.signer() + " signs with: it refuses "
                            + "what " + s.signer() + " writes")
                    .distinct().forEach(lines::add);
        });
        return lines;
    }

    private String describe(Seen s) {
        if (s.id().isEmpty()) {
            return keys == null
                    ? "no key id"
                    : s.verified()
                            ? "no key id (signed by a release before key ids)"
                            : "no key id (does not verify: unsigned, or a key this file does not accept)";
        }
        if (keys == null) {
            return "key " + s.id() + " (not checked: no key in this file)";
        }
        String which = s.id().equals(keys.signsWith())
                ? "this file's current key"
                : keys.previousId().filter(s.id()::equals).isPresent() ? "this file's previous key" : "a key this file does not accept";
        return "key " + s.id() + " (" + which + (s.verified() ? "" : ", does not verify") + ")";
    }
}
