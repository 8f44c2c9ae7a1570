package io.lethe.cli;

import io.lethe.config.LetheConfig;
import io.lethe.region.inspect.CacheInspector;
import io.lethe.region.inspect.Finding;
import java.io.PrintWriter;
import java.time.Clock;
import java.time.Duration;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code lethe inspect}: an fsck of a region's cache against PostgreSQL ({@link CacheInspector};
 * docs/design.md, "Inspecting a region's cache"). Exit 0 when nothing stale was found, 1 when a
 * stale entry was confirmed, 3 when suspects could not be confirmed (the region's applied
 * watermark did not reach the source's position in time), 2 for bad input or an unreachable
 * server. With {@code --repeat} it runs again every interval until stopped, a low-rate job.
 */
@Command(name = "inspect", mixinStandardHelpOptions = true, description = "Compare a region's cached entries with their rows in PostgreSQL; report (and with --heal invalidate) stale ones.")
public final class InspectCommand implements Callable<Integer> {
    @Mixin
    ConfigFile config;

    @Option(names = "--region", required = true, description = "the region whose Redis to inspect")
    String region;

    @Option(names = "--namespace", description = "only this namespace (repeatable; default: every namespace the region caches)")
    List<String> namespaces = List.of();

    @Option(names = "--rate", defaultValue = "500", description = "at most this many keys a second, one SELECT each (default ${DEFAULT-VALUE})")
    int rate;

    @Option(names = "--heal", description = "invalidate each confirmed stale entry (invalidate.lua at the entry's version)")
    boolean heal;

    @Option(names = "--confirm-within", defaultValue = "PT60S", description = "how long to wait for the region to apply what the source held when the rows were read (default ${DEFAULT-VALUE})")
    Duration confirmWithin;

    @Option(names = "--repeat", description = "run again this long after each pass ends, until stopped (e.g. PT10M)")
    Duration repeat;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        PrintWriter err = spec.commandLine().getErr();
        PrintWriter out = spec.commandLine().getOut();
        LetheConfig cfg = config.loadOrReport();
        if (cfg == null) {
            return ConfigFile.INVALID;
        }
        if (repeat != null && (repeat.isNegative() || repeat.isZero())) {
            err.println("lethe inspect: --repeat must be positive, was " + repeat);
            return 2;
        }
        try (CacheInspector inspector = new CacheInspector(cfg, region, new CacheInspector.Options(namespaces, rate, heal, confirmWithin),
                Clock.systemUTC())) {
            while (true) {
                int code = once(inspector, out, err);
                if (repeat == null) {
                    return code;
                }
                Thread.sleep(repeat.toMillis());
            }
        } catch (IllegalArgumentException | IllegalStateException e) {
            err.println();
            err.println("lethe inspect: " + e.getMessage());
            return 2;
        }
    }

    private int once(CacheInspector inspector, PrintWriter out, PrintWriter err) throws Exception {
        CacheInspector.Summary s;
        Progress progress = Progress.onStderr(err);
        try {
            s = inspector.run((scanned, suspects, namespace) -> progress.update(String.format("inspect %s: %d keys, %d suspects%s",
                    region, scanned, suspects, namespace.isEmpty() ? "" : " (" + namespace + ")")));
        } catch (java.sql.SQLException | RuntimeException e) {
            // with --repeat the next pass tries again: a database or Redis that was away for a while ends no job
            progress.end();
            err.println("lethe inspect: the pass failed: " + e);
            return 2;
        }
        progress.end();
        out.print(table(s));
        for (CacheInspector.Report r : s.confirmed()) {
            out.printf("stale %s %s %s entry-version=%s row-version=%s%s: %s%n", r.namespace(), r.finding(), r.key(), r.entryVersion(),
                    r.rowVersion() == null ? "-" : r.rowVersion(), heal ? " healed" : "", r.detail());
        }
        for (CacheInspector.Report r : s.unconfirmed()) {
            out.printf("unconfirmed %s %s %s entry-version=%s: %s%n", r.namespace(), r.finding(), r.key(), r.entryVersion(), r.detail());
        }
        out.printf("inspect %s: %d keys in %.1f s, rows read from the %s; %d stale confirmed%s, %d unconfirmed, %d cleared on re-check "
                + "(changes in flight)%n", region, s.scanned(), s.took().toMillis() / 1000.0, s.rowsFrom(), s.confirmed().size(),
                heal ? " (" + s.healed() + " healed)" : "", s.unconfirmed().size(), s.cleared());
        out.flush();
        if (s.staleFound()) {
            return 1;
        }
        return s.unconfirmed().isEmpty() ? 0 : 3;
    }

    /** Namespaces down, findings across; only the findings some namespace has, besides OK. */
    static String table(CacheInspector.Summary s) {
        EnumMap<Finding, Boolean> used = new EnumMap<>(Finding.class);
        used.put(Finding.OK, true);
        s.counts().values().forEach(m -> m.forEach((f, n) -> used.put(f, true)));
        s.unconfirmed().forEach(r -> used.put(r.finding(), true));
        int width = Math.max(9, s.counts().keySet().stream().mapToInt(String::length).max().orElse(0));
        StringBuilder b = new StringBuilder();
        b.append(String.format("%-" + width + "s", "namespace"));
        used.keySet().forEach(f -> b.append("  ").append(f.name()));
        b.append("  unconfirmed\n");
        for (Map.Entry<String, Map<Finding, Long>> row : s.counts().entrySet()) {
            b.append(String.format("%-" + width + "s", row.getKey()));
            for (Finding f : used.keySet()) {
                b.append(String.format("  %" + f.name().length() + "d", row.getValue().getOrDefault(f, 0L)));
            }
            long unconfirmed = s.unconfirmed().stream().filter(r -> r.namespace().equals(row.getKey())).count();
            b.append(String.format("  %11d%n", unconfirmed));
        }
        return b.toString();
    }
}
