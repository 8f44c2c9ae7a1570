package io.lethe.cli;

import io.lethe.config.LetheConfig;
import io.lethe.region.prewarm.Prewarm;
import java.io.PrintWriter;
import java.time.Clock;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code lethe prewarm}: fills a new or recovered region's cache from a sibling region's, hottest
 * entries first, at a bounded rate, copying only what the target's own pipeline is certain to
 * remove when it changes ({@link Prewarm}; docs/design.md, "Pre-warming a region"). Both regions'
 * consumers must be running: their applied watermarks decide what may be copied; and PostgreSQL
 * ({@code source.jdbc-url}) must answer: freshness is judged on its clock.
 */
@Command(name = "prewarm", mixinStandardHelpOptions = true, description = "Copy a sibling region's cached entries into a cold region, hottest first, without breaking coherence.")
public final class PrewarmCommand implements Callable<Integer> {
    @Mixin
    ConfigFile config;

    @Option(names = "--from", required = true, description = "the region to copy from")
    String from;

    @Option(names = "--to", required = true, description = "the region to fill")
    String to;

    @Option(names = "--namespace", description = "only this namespace (repeatable; default: every namespace both regions cache)")
    List<String> namespaces = List.of();

    @Option(names = "--top", defaultValue = "0", description = "copy at most the K hottest entries (default 0: all)")
    int top;

    @Option(names = "--rate", defaultValue = "2000", description = "at most this many keys a second (default ${DEFAULT-VALUE})")
    int rate;

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
        Prewarm.Summary summary;
        Progress progress = Progress.onStderr(err);
        try (Prewarm prewarm = new Prewarm(cfg, from, to, new Prewarm.Options(namespaces, top, rate, 100), Clock.systemUTC())) {
            summary = prewarm.run((handled, candidates, sofar) -> {
                int width = 30;
                int filled = candidates == 0 ? width : (int) (width * handled / candidates);
                progress.update(String.format("[%s%s] %d/%d  copied %d  present %d  fenced %d  unproven %d  undone %d", "#".repeat(filled),
                        ".".repeat(width - filled), handled, candidates, sofar.copied(), sofar.present(), sofar.fenced(), sofar.unproven(),
                        sofar.undone()));
            });
        } catch (IllegalArgumentException | IllegalStateException e) {
            progress.end();
            err.println("lethe prewarm: " + e.getMessage());
            return 2;
        }
        progress.end();
        out.printf("prewarm %s -> %s: %d candidates (hottest first by %s) in %.1f s%n", from, to, summary.candidates(), summary.hotness(),
                summary.took().toMillis() / 1000.0);
        out.printf("  copied %d%n  already present in %s %d%n  refused, %s invalidated them recently %d%n"
                + "  not copied, freshness not provable (a lagging source or a scan past it) %d%n"
                + "  undone, not provable once written or changed in %s before confirmed %d%n  gone from %s meanwhile %d%n"
                + "  not entries (other types) %d%n",
                summary.copied(), to, summary.present(), to, summary.fenced(), summary.unproven(), to, summary.undone(), from,
                summary.vanished(), summary.otherTypes());
        return 0;
    }
}
