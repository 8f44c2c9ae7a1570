package io.lethe.schemas;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * CloudEvents 1.0 attributes of an invalidation on the public topic, as Kafka headers in binary
 * content mode (the CloudEvents Kafka protocol binding): the record's value stays Lethe's JSON event,
 * unchanged, and {@code ce_*} headers describe it, so a CloudEvents SDK or router reads the topic
 * without knowing Lethe's schema. Additive: readers of the JSON ignore them.
 *
 * <ul>
 *   <li>{@code ce_specversion}: {@code 1.0}</li>
 *   <li>{@code ce_id}: the event's {@code id} (the same on a redelivery: deduplicate on source + id)</li>
 *   <li>{@code ce_source}: {@code /lethe/<topic prefix>}, the deployment</li>
 *   <li>{@code ce_type}: {@value #TYPE}</li>
 *   <li>{@code ce_time}: the source commit time ({@code commitTs}), RFC 3339 in UTC</li>
 *   <li>{@code ce_subject}: the record key: the cache key, or the glob of a pattern invalidation</li>
 *   <li>{@code content-type}: {@code application/json} (the event's {@code datacontenttype})</li>
 * </ul>
 */
public final class CloudEvents {
    public static final String SPECVERSION = "ce_specversion";
    public static final String ID = "ce_id";
    public static final String SOURCE = "ce_source";
    public static final String TYPE_HEADER = "ce_type";
    public static final String TIME = "ce_time";
    public static final String SUBJECT = "ce_subject";
    public static final String CONTENT_TYPE = "content-type";
    /** The CloudEvents type of an invalidation. */
    public static final String TYPE = "io.lethe.invalidation.v1";

    private CloudEvents() {
    }

    /** The source attribute of the deployment whose topics start with {@code prefix}. */
    public static String source(String prefix) {
        return "/lethe/" + prefix;
    }

    /** The headers of {@code event} on the public topic of {@code topics}, in order, as UTF-8 bytes. */
    public static Map<String, byte[]> headers(InvalidationEvent event, Topics topics) {
        Map<String, byte[]> h = new LinkedHashMap<>();
        put(h, SPECVERSION, "1.0");
        put(h, ID, event.id());
        put(h, SOURCE, source(topics.prefix()));
        put(h, TYPE_HEADER, TYPE);
        put(h, TIME,
                Instant.ofEpochSecond(Math.floorDiv(event.commitTs(), 1_000_000L), Math.floorMod(event.commitTs(), 1_000_000L) * 1_000L)
                        .toString());
        put(h, SUBJECT, event.target());
        put(h, CONTENT_TYPE, "application/json");
        return h;
    }

    private static void put(Map<String, byte[]> h, String name, String value) {
        h.put(name, value.getBytes(StandardCharsets.UTF_8));
    }
}
