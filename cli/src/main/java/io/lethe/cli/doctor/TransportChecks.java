package io.lethe.cli.doctor;

import io.lethe.capture.source.CheckResult;
import io.lethe.config.JdbcUrls;
import io.lethe.config.LetheConfig;
import io.lethe.config.RegionConfig;
import io.lethe.region.redis.RedisEndpoints;
import io.lettuce.core.RedisURI;
import io.lettuce.core.SslVerifyMode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * {@code lethe doctor}'s transport checks, read from the configuration alone: every hop to another
 * host must be encrypted with its certificate verified. Each topic holds row values (keys are built
 * from them, upserts and the changes topic carry rows), and each hop carries credentials.
 * Plaintext, or TLS whose certificate or host name is not checked, is a WARN with the fix
 * ({@code lethe doctor --strict} fails on it); a hop that stays on this host (the demo, the
 * embedded stack, a sidecar) passes with a note. A key rotation left unfinished (a previous
 * watermark key still set) is a WARN too: that key stays valid for as long as it is set.
 */
public final class TransportChecks {
    private static final String DOCS = " (docs/security.md, \"TLS\")";

    private TransportChecks() {
    }

    public static List<CheckResult> run(LetheConfig config) {
        List<CheckResult> out = new ArrayList<>();
        out.add(kafka(config));
        out.add(postgres("postgres transport source", config.source().jdbcUrl(), "source.jdbc-url"));
        for (RegionConfig region : config.regions().values()) {
            out.add(redis(region));
            if (region.replicaJdbcUrl() != null) {
                out.add(postgres("postgres transport " + region.name() + " replica", region.replicaJdbcUrl(),
                        "regions." + region.name() + ".replica"));
            }
        }
        return out;
    }

    /**
     * Without {@code streams.watermark-key} every watermark and every invalidation record is taken on
     * trust: whoever can write a Lethe topic can forge one, an upsert with any payload included.
     */
    static CheckResult watermarkKey(LetheConfig config) {
        String check = "watermark signatures";
        if (config.streams().previousWatermarkKey() != null) {
            // a rotation under way: a WARN, not a note, since a forgotten step 3 keeps the previous key valid forever
            io.lethe.schemas.SigningKeys keys = config.streams().signingKeys();
            String current = keys.signsWith();
            String previous = keys.previousId().orElseThrow();
            return CheckResult.warn(check, "streams.previous-watermark-key is set: a key rotation is under way (docs/security.md, "
                    + "\"Rotating the watermark key\"); streams, regions and the CLI accept it next to streams.watermark-key, so "
                    + "until it is dropped whoever holds the previous key can forge upserts, watermarks and changes. This file signs with "
                    + "key " + current + " and accepts " + current + " and " + previous + ": step 1's file if " + current
                    + " is the key being retired, step 2's if it is the new one",
                    "finish the rotation (step 3): once every stage signs with streams.watermark-key " + current + " (step 2 reached "
                            + "capture and streams (which signs manual purges too): lethe lag and lethe doctor show no signer on "
                            + previous + ", each stage's lethe_signing_key{role=\"signs\"} is " + current + ") and every region's applied "
                            + "watermark, mirrored regions included, "
                            + "has a commit time after the moment the last of them restarted (lethe lag: its end-to-end lag shorter "
                            + "than the time since then), drop previous-watermark-key everywhere");
        }
        if (config.streams().watermarkKey() != null) {
            return CheckResult.pass(check, "capture signs its watermarks, streams the watermarks and records it writes, and regions "
                    + "apply only what verifies (streams.watermark-key)");
        }
        boolean remote = java.util.Arrays.stream(config.kafka().bootstrapServers().split(","))
                .map(String::trim).map(h -> h.substring(0, Math.max(0, h.lastIndexOf(':')))).anyMatch(h -> !isLoopback(h));
        if (!remote) {
            return CheckResult.pass(check,
                    "streams.watermark-key is not set: watermarks and records are taken on trust (Kafka on loopback: "
                            + "no one else writes its topics)");
        }
        return CheckResult.warn(check, "streams.watermark-key is not set: watermarks and records are taken on trust, so whoever can write "
                + config.topics().changes() + " or a region's topic can make read-your-writes and the lag alerts lie, and "
                + "whoever can write a region's topic can upsert any payload into a valid key at an admissible version",
                "set streams.watermark-key: ${LETHE_WATERMARK_KEY} (at least 16 characters) for capture, streams, every region and the CLI");
    }

    /** 127.0.0.0/8, ::1 and localhost: a hop that never leaves this host. */
    static boolean isLoopback(String host) {
        String h = host.toLowerCase(Locale.ROOT);
        if (h.startsWith("[") && h.endsWith("]")) {
            h = h.substring(1, h.length() - 1);
        }
        return h.equals("localhost") || h.equals("::1") || h.equals("0:0:0:0:0:0:0:1") || h.matches("127\\.\\d{1,3}\\.\\d{1,3}\\.\\d{1,3}");
    }

    private static CheckResult kafka(LetheConfig config) {
        String check = "kafka transport";
        Map<String, String> props = config.kafka().properties();
        String protocol = props.getOrDefault("security.protocol", "PLAINTEXT").toUpperCase(Locale.ROOT);
        List<String> remote = new ArrayList<>();
        for (String server : config.kafka().bootstrapServers().split(",")) {
            String host = server.substring(0, server.lastIndexOf(':'));
            if (!isLoopback(host)) {
                remote.add(server);
            }
        }
        boolean tls = protocol.equals("SSL") || protocol.equals("SASL_SSL");
        if (!tls) {
            if (remote.isEmpty()) {
                return CheckResult.pass(check, protocol + " to loopback only (" + config.kafka().bootstrapServers()
                        + "): allowed for the demo and the embedded stack; any other host needs SSL or SASL_SSL");
            }
            return CheckResult.warn(check,
                    "security.protocol " + protocol + " (" + (props.containsKey("security.protocol") ? "set" : "Kafka's default")
                            + "): row data (lethe.changes, upsert payloads, keys built from column values)"
                            + (protocol.startsWith("SASL") ? " and the SASL credentials" : "") + " cross the network unencrypted to "
                            + remote,
                    "set kafka.properties.security.protocol: SASL_SSL (or SSL), with ssl.truststore.location for a private CA, in "
                            + config.file() + DOCS);
        }
        String identification = props.get("ssl.endpoint.identification.algorithm");
        if (identification != null && identification.isBlank()) {
            return CheckResult.warn(check, protocol + " but ssl.endpoint.identification.algorithm is empty: host name verification is off, "
                    + "so any certificate the CA signed (or a man in the middle holding one) is accepted for " + remote,
                    "remove kafka.properties.ssl.endpoint.identification.algorithm (the default is https) in " + config.file() + DOCS);
        }
        return CheckResult.pass(check, protocol + " with host name verification");
    }

    private static CheckResult postgres(String check, String url, String setting) {
        Map<String, String> params = JdbcUrls.parameters(url);
        String host = JdbcUrls.host(url);
        // pgjdbc: ssl=true without sslmode means verify-full; without either, prefer (TLS if offered, never verified)
        String ssl = params.get("ssl");
        String mode = params.getOrDefault("sslmode", ssl != null && !ssl.equalsIgnoreCase("false") ? "verify-full" : null);
        String shown = mode == null ? "prefer (pgjdbc's default)" : mode;
        String factory = params.get("sslfactory");
        boolean nonValidating = factory != null && factory.endsWith("NonValidatingFactory");
        if (isLoopback(host)) {
            return CheckResult.pass(check, "sslmode " + shown + " to loopback (" + host + "): allowed for the demo and the embedded stack; "
                    + "any other host needs sslmode=verify-full");
        }
        if (nonValidating) {
            return CheckResult.warn(check, setting + " uses sslfactory " + factory + ": the server's certificate is not checked for "
                    + host, "remove sslfactory and add sslmode=verify-full&sslrootcert=<CA file> to " + setting + DOCS);
        }
        if (!"verify-full".equals(mode)) {
            String why = switch (mode == null ? "prefer" : mode) {
                case "disable", "allow", "prefer" -> "the connection may be plaintext, and no certificate is checked";
                case "require" -> "encrypted, but the server's certificate is not checked (anyone in the path can answer)";
                case "verify-ca" -> "the CA is checked but not the host name";
                default -> "not a verifying mode";
            };
            return CheckResult.warn(check, setting + " has sslmode " + shown + " to " + host + ": " + why
                    + "; rows and the password cross this hop",
                    "add sslmode=verify-full&sslrootcert=<CA file> to " + setting + DOCS);
        }
        return CheckResult.pass(check, "sslmode verify-full to " + host);
    }

    private static CheckResult redis(RegionConfig region) {
        String check = "redis transport " + region.name();
        List<RedisURI> uris = RedisEndpoints.uris(region, Duration.ofSeconds(5));
        List<String> remote = new ArrayList<>();
        boolean tls = true;
        SslVerifyMode verify = SslVerifyMode.FULL;
        for (RedisURI uri : uris) {
            tls &= uri.isSsl();
            if (uri.getVerifyMode().ordinal() < verify.ordinal()) {
                verify = uri.getVerifyMode();
            }
            List<RedisURI> hosts = uri.getSentinels().isEmpty() ? List.of(uri) : uri.getSentinels();
            hosts.stream().filter(h -> !isLoopback(h.getHost())).forEach(h -> remote.add(h.getHost() + ":" + h.getPort()));
        }
        String scheme = region.redisUri().substring(0, region.redisUri().indexOf("://") + 3);
        if (remote.isEmpty()) {
            return CheckResult.pass(check,
                    scheme + " to loopback only: allowed for the demo and the embedded stack; any other host needs rediss://");
        }
        if (!tls) {
            return CheckResult.warn(check, scheme + " to " + remote + ": cached values (rows), keys and the Redis password cross the "
                    + "network unencrypted",
                    "use rediss:// in regions." + region.name() + ".redis (redis-ca-file for a private CA)" + DOCS);
        }
        if (verify != SslVerifyMode.FULL) {
            return CheckResult.warn(check, "rediss:// with verifyPeer " + verify + ": " + (verify == SslVerifyMode.NONE
                    ? "the server's certificate is not checked"
                    : "the host name is not checked") + " for " + remote,
                    "remove verifyPeer from regions." + region.name() + ".redis (full verification is the default)" + DOCS);
        }
        return CheckResult.pass(check, "rediss:// with full certificate verification");
    }
}
