package io.lethe.dev.verify.scenario;

import io.lethe.config.LetheConfig;
import io.lethe.config.RegionConfig;
import io.lethe.region.inspect.CacheInspector;
import io.lethe.region.inspect.Finding;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The second judge of {@code lethe verify}: {@code lethe inspect} (without {@code --heal}) over
 * every region of a run, after its quiescence and its own judge (docs/design.md, "Verification").
 * The first judge knows what the run wrote and computes each key's value itself; the inspector
 * knows only lethe.yml and the database, as in production, so a run where the two disagree has
 * found a bug in one of them. The sentinel namespace is left out (the run's own machinery).
 */
public final class SecondJudge {
    /** How long the inspector waits for the region's applied watermark to confirm its suspects. */
    static final Duration CONFIRM_WITHIN = Duration.ofSeconds(30);
    /** Keys a second: the judge runs on a quiet stack and its runs hold at most some thousand keys. */
    private static final int KEYS_PER_SECOND = 100_000;

    /** One region's inspection. */
    public record Verdict(String region, CacheInspector.Summary summary) {

        /** Confirmed stale entries that fail the run. */
        public List<CacheInspector.Report> failing() {
            return summary.confirmed().stream().filter(SecondJudge::fails).toList();
        }

        /** "inspector (second judge), eu: 120 keys (OK 100, UNJUDGED_VALUE 20), 0 confirmed stale, 0 unconfirmed, 3 cleared". */
        public String line() {
            Map<Finding, Long> all = new TreeMap<>();
            summary.counts().values().forEach(m -> m.forEach((f, n) -> all.merge(f, n, Long::sum)));
            List<String> parts = new ArrayList<>();
            all.forEach((f, n) -> parts.add(f + " " + n));
            return "inspector (second judge), %s: %d keys (%s), %d confirmed stale, %d unconfirmed suspects, %d cleared on re-check"
                    .formatted(region, summary.scanned(), parts.isEmpty() ? "none" : String.join(", ", parts), summary.confirmed().size(),
                            summary.unconfirmed().size(), summary.cleared());
        }
    }

    private SecondJudge() {
    }

    /**
     * A confirmed finding fails a run unless it is {@link Finding#DERIVED_ORPHAN}: a derived key
     * no row has any more may be an application's cached empty result, so the inspector reports
     * it as a suspect only ({@link CacheInspector.Summary#staleFound}).
     */
    public static boolean fails(CacheInspector.Report report) {
        return report.finding() != Finding.DERIVED_ORPHAN;
    }

    /** Inspects every given region of {@code config} (its namespaces but the sentinel), one after the other. */
    public static List<Verdict> inspect(LetheConfig config, Collection<String> regions) throws Exception {
        List<Verdict> out = new ArrayList<>();
        for (String region : regions) {
            RegionConfig rc = config.regions().get(region);
            List<String> names = (rc.namespaces().isEmpty() ? List.copyOf(config.namespaces().keySet()) : rc.namespaces()).stream()
                    .filter(n -> !n.equals("sentinel")).toList();
            if (names.isEmpty()) {
                continue;
            }
            try (CacheInspector inspector = new CacheInspector(config, region,
                    new CacheInspector.Options(names, KEYS_PER_SECOND, false, CONFIRM_WITHIN), Clock.systemUTC())) {
                out.add(new Verdict(region, inspector.run((scanned, suspects, namespace) -> {
                })));
            }
        }
        return out;
    }

    /** One line for a confirmed or unconfirmed finding. */
    public static String describe(String region, CacheInspector.Report r) {
        return "%s %s %s (namespace %s, entry v %s, row v %s)%s".formatted(r.finding(), region, r.key(), r.namespace(), r.entryVersion(),
                r.rowVersion(), r.detail().isEmpty() ? "" : ": " + r.detail());
    }
}
