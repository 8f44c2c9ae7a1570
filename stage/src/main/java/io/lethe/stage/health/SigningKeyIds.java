package io.lethe.stage.health;

import io.lethe.schemas.SigningKeys;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Which keys a stage signs with and accepts, by id ({@link SigningKeys#keyId}, never the key):
 * {@value #METRIC}{@code {stage, role=signs|accepts, id}} = 1, and the same in {@code /health}'s
 * {@code signing} details ({@link #byStage}).
 *
 * <p>Why: a key rotation restarts every stage on a new file, three times (docs/security.md,
 * "Rotating the watermark key"), and a stage a rollout missed otherwise shows only as what it
 * refuses ({@code untrusted-*} dead letters, a lag that grows). With the ids an operator reads which
 * step each running stage is at: step 1 signs with OLD and accepts OLD and NEW, step 2 signs with
 * NEW and accepts NEW and OLD, step 3 signs with and accepts NEW alone. Nothing is registered for a
 * stage without {@code streams.watermark-key}: it signs nothing and takes everything on trust.
 */
public final class SigningKeyIds {
    /** 1 per (stage, role, key id): the keys a stage signs with ({@code role=signs}) and accepts ({@code role=accepts}). */
    public static final String METRIC = "lethe.signing.key";
    public static final String SIGNS = "signs";
    public static final String ACCEPTS = "accepts";

    private SigningKeyIds() {
    }

    /**
     * Registers what {@code stage} ({@code capture}, {@code streams}, {@code region:<name>}, as
     * {@link Misconfiguration} names them) does with {@code keys} (null: nothing). {@code signs}:
     * it signs what it writes (capture, streams); {@code accepts}: it verifies what it reads
     * (streams, regions).
     */
    public static void register(MeterRegistry registry, String stage, SigningKeys keys, boolean signs, boolean accepts) {
        if (keys == null) {
            return;
        }
        if (signs) {
            gauge(registry, stage, SIGNS, keys.signsWith());
        }
        if (accepts) {
            for (String id : keys.accepts()) {
                gauge(registry, stage, ACCEPTS, id);
            }
        }
    }

    private static void gauge(MeterRegistry registry, String stage, String role, String id) {
        Gauge.builder(METRIC, () -> 1).tag("stage", stage).tag("role", role).tag("id", id)
                .description("1 per key id a stage signs with (role=signs) or accepts (role=accepts): which step of a key rotation it runs")
                .register(registry);
    }

    /**
     * What {@link #register} registered in {@code registry}: stage to role to its key ids, sorted,
     * for {@code /health}. Empty when no stage here has a key.
     */
    public static Map<String, Map<String, List<String>>> byStage(MeterRegistry registry) {
        Map<String, Map<String, List<String>>> out = new TreeMap<>();
        for (Gauge g : registry.find(METRIC).gauges()) {
            String stage = g.getId().getTag("stage");
            String role = g.getId().getTag("role");
            String id = g.getId().getTag("id");
            if (stage != null && role != null && id != null) {
                List<String> ids = out.computeIfAbsent(stage, s -> new TreeMap<>()).computeIfAbsent(role, r -> new ArrayList<>());
                if (!ids.contains(id)) {
                    ids.add(id);
                    ids.sort(null);
                }
            }
        }
        return out;
    }
}
