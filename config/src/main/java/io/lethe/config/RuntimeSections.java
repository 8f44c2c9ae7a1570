package io.lethe.config;

import java.net.URI;
import java.net.URISyntaxException;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The sections of how the stages run, each with a default for every setting: {@code streams},
 * {@code apply}, {@code http}, {@code metrics} and {@code tracing} (their OTLP endpoints).
 */
final class RuntimeSections {
    private RuntimeSections() {
    }

    static StreamsConfig streams(YamlSection s) {
        String appId = s.string("application-id", Defaults.STREAMS_APPLICATION_ID);
        String guarantee = s.string("processing-guarantee", Defaults.PROCESSING_GUARANTEE);
        if (!List.of("at_least_once", "exactly_once_v2").contains(guarantee)) {
            s.error(s.child("processing-guarantee"), "expected at_least_once or exactly_once_v2, found '" + guarantee + "'");
        }
        Duration commit = ConfigLoader.positive(s, "commit-interval",
                "exactly_once_v2".equals(guarantee) ? Defaults.COMMIT_INTERVAL_EXACTLY_ONCE : Defaults.COMMIT_INTERVAL);
        Duration linger = s.duration("linger", Defaults.PRODUCER_LINGER);
        int maxKey = s.integer("max-key-bytes", Defaults.MAX_KEY_BYTES, 16, 512 * 1024 * 1024);
        int threads = s.integer("threads", Defaults.STREAM_THREADS, 1, 64);
        String stateDir = s.string("state-dir", null);
        Secret watermarkKey = s.secret("watermark-key");
        if (watermarkKey != null && watermarkKey.reveal().length() < 16) {
            s.error(s.child("watermark-key"), "must be at least 16 characters (an HMAC-SHA256 key; e.g. ${LETHE_WATERMARK_KEY} "
                    + "from `openssl rand -hex 32`)");
        }
        Secret previousKey = s.secret("previous-watermark-key");
        if (previousKey != null) {
            // accepted as the current key is, never signed with: only meaningful next to a current key, and another one
            if (watermarkKey == null) {
                s.error(s.child("previous-watermark-key"), "is set without streams.watermark-key: the previous key is accepted "
                        + "next to the current one during a rotation (docs/security.md, \"Rotating the watermark key\"); set "
                        + "watermark-key, or drop previous-watermark-key");
            } else if (previousKey.equals(watermarkKey)) {
                s.error(s.child("previous-watermark-key"), "must differ from watermark-key (it is the key accepted during a rotation "
                        + "besides the one everything is signed with; docs/security.md, \"Rotating the watermark key\"): drop it, "
                        + "or set the other key");
            } else if (previousKey.reveal().length() < 16) {
                s.error(s.child("previous-watermark-key"), "must be at least 16 characters (an HMAC-SHA256 key, as watermark-key)");
            }
        }
        s.finish("application-id, processing-guarantee, commit-interval, linger, max-key-bytes, threads, state-dir, watermark-key, "
                + "previous-watermark-key");
        return new StreamsConfig(appId, guarantee, commit, linger, maxKey, threads, stateDir, watermarkKey, previousKey);
    }

    static ApplyConfig apply(YamlSection s) {
        String group = s.string("group-prefix", Defaults.GROUP_PREFIX);
        int maxPoll = s.integer("max-poll-records", Defaults.MAX_POLL_RECORDS, 1, 100_000);
        Duration commitInterval = ConfigLoader.positive(s, "commit-interval", Defaults.APPLY_COMMIT_INTERVAL);
        Duration min = ConfigLoader.positive(s, "retry-backoff-min", Defaults.RETRY_BACKOFF_MIN);
        Duration max = ConfigLoader.positive(s, "retry-backoff-max", Defaults.RETRY_BACKOFF_MAX);
        if (max.compareTo(min) < 0) {
            s.error(s.child("retry-backoff-max"), "must be at least retry-backoff-min (" + min + ")");
        }
        Duration timeout = ConfigLoader.positive(s, "command-timeout", Defaults.COMMAND_TIMEOUT);
        int connections = s.integer("connections", Defaults.REDIS_CONNECTIONS, 1, 64);
        int scanCount = s.integer("pattern-scan-count", Defaults.PATTERN_SCAN_COUNT, 1, 100_000);
        int keysPerSecond = s.integer("pattern-keys-per-second", Defaults.PATTERN_KEYS_PER_SECOND, 1, 10_000_000);
        Duration replicaPoll = ConfigLoader.positive(s, "replica-poll-interval", Defaults.REPLICA_POLL_INTERVAL);
        YamlSection prober = s.section("prober");
        int sampleEvery = prober.integer("sample-every", Defaults.PROBER_SAMPLE_EVERY, 0, Integer.MAX_VALUE);
        List<Duration> windows = prober.durations("windows", Defaults.PROBER_WINDOWS);
        if (prober.has("verify-values")) {
            // was reserved and never implemented: the prober judges presence and versions; values are judged by lethe inspect
            prober.error(prober.child("verify-values"), "is not a setting: the prober judges presence and versions only; to compare "
                    + "cached values with their rows run `lethe inspect --region <name>` (docs/design.md, \"Inspecting a region's cache\")");
        }
        prober.finish("sample-every, windows");
        int lead = s.integer("max-lsn-lead-mib", Defaults.MAX_LSN_LEAD_MIB, 1, 1 << 30);
        ApplyConfig.Sweep sweep = sweep(s.section("sweep"));
        s.finish("group-prefix, max-poll-records, commit-interval, retry-backoff-min, retry-backoff-max, command-timeout, connections, "
                + "pattern-scan-count, pattern-keys-per-second, replica-poll-interval, prober, max-lsn-lead-mib, sweep");
        return new ApplyConfig(group, maxPoll, commitInterval, min, max, timeout, connections, scanCount, keysPerSecond, replicaPoll,
                sampleEvery, windows, lead, sweep);
    }

    /** {@code apply.sweep}: the region consumers' continuous sweep of their keys against the database. */
    static ApplyConfig.Sweep sweep(YamlSection s) {
        boolean enabled = s.bool("enabled", Defaults.SWEEP_ENABLED);
        int rate = s.integer("keys-per-second", Defaults.SWEEP_KEYS_PER_SECOND, 1, 100_000);
        boolean heal = s.bool("heal", Defaults.SWEEP_HEAL);
        Duration confirm = ConfigLoader.positive(s, "confirm-within", Defaults.SWEEP_CONFIRM_WITHIN);
        s.finish("enabled, keys-per-second, heal, confirm-within");
        return new ApplyConfig.Sweep(enabled, rate, heal, confirm);
    }

    static MetricsConfig metrics(YamlSection s) {
        YamlSection otlp = s.section("otlp");
        String endpoint = otlpUrl(otlp, "metrics");
        Duration interval = ConfigLoader.positive(otlp, "interval", Defaults.OTLP_INTERVAL);
        Map<String, Secret> headers = new LinkedHashMap<>();
        otlp.stringMap("headers").forEach((name, value) -> headers.put(name, Secret.of(value)));
        otlp.finish("endpoint, interval, headers");
        s.finish("otlp");
        return new MetricsConfig(endpoint, interval, headers);
    }

    /** The section's {@code endpoint}: an OTLP/HTTP URL of {@code signal} (metrics, traces), or null. */
    private static String otlpUrl(YamlSection s, String signal) {
        String endpoint = s.string("endpoint", null);
        if (endpoint != null) {
            String expected = "expected the collector's OTLP/HTTP URL, http(s)://host:4318/v1/" + signal;
            try {
                URI uri = new URI(endpoint);
                if (!("http".equals(uri.getScheme()) || "https".equals(uri.getScheme())) || uri.getHost() == null) {
                    s.error(s.child("endpoint"), expected + ", found '" + endpoint + "'");
                }
            } catch (URISyntaxException e) {
                s.error(s.child("endpoint"), expected + ": " + e.getMessage());
            }
        }
        return endpoint;
    }

    static TracingConfig tracing(YamlSection s) {
        String endpoint = otlpUrl(s, "traces");
        double ratio = Defaults.TRACE_SAMPLE_RATIO;
        String text = s.string("sample-ratio", null);
        if (text != null) {
            try {
                ratio = Double.parseDouble(text.trim());
            } catch (NumberFormatException e) {
                ratio = Double.NaN;
            }
            if (!(ratio >= 0 && ratio <= 1)) {
                s.error(s.child("sample-ratio"), "expected the share of changes traced, a number from 0 to 1 (0.01: 1 in 100), found '"
                        + text + "'");
                ratio = Defaults.TRACE_SAMPLE_RATIO;
            }
        }
        Map<String, Secret> headers = new LinkedHashMap<>();
        s.stringMap("headers").forEach((name, value) -> headers.put(name, Secret.of(value)));
        s.finish("endpoint, sample-ratio, headers");
        return new TracingConfig(endpoint, ratio, headers);
    }

    static HttpConfig http(YamlSection s) {
        String host = s.string("host", Defaults.HTTP_HOST);
        int port = s.integer("port", Defaults.HTTP_PORT, 0, 65535);
        s.finish("host, port");
        return new HttpConfig(host, port);
    }
}
