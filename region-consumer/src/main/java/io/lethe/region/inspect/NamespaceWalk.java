package io.lethe.region.inspect;

import io.lethe.config.KeyTemplate;
import io.lethe.config.NamespaceConfig;
import io.lettuce.core.KeyScanCursor;
import io.lettuce.core.ScanCursor;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;

/**
 * The sweep's place in one namespace's keys: the template it is scanning, its SCAN cursor and the
 * keys of the page read last, resumed one step at a time and started again from the first template
 * once the last one's scan finished (a pass). Each call to {@link #next} is one step: a key to judge,
 * or one SCAN page read (which the sweep paces like a key, so an empty or sparse keyspace costs
 * Redis no more than a full one), or the end of a pass.
 *
 * <p>The cursor lives in memory: a restarted region starts a new pass. SCAN returns every key present
 * for the whole scan; one written during it may be missed (the next pass sees it).
 */
final class NamespaceWalk {
    /** One SCAN step over the region's Redis. */
    interface Scanner {
        KeyScanCursor<String> scan(ScanCursor cursor, String glob, int count);
    }

    /** Which keys found under a template's glob are judged under it ({@link KeyChecks#judgedUnder}). */
    interface Selector {
        boolean judged(KeyTemplate template, String key, List<KeyTemplate> before);
    }

    /**
     * One step: {@code key} to judge under {@code template} (null when the step read a SCAN page),
     * and whether it ended a pass over every template.
     */
    record Step(String key, KeyTemplate template, boolean passEnded) {
    }

    /** Keys asked of each SCAN step. */
    static final int SCAN_COUNT = 1000;

    private final NamespaceConfig ns;
    /** For each of {@code ns}'s templates, the templates before it in the sweep's order (across namespaces). */
    private final List<List<KeyTemplate>> before;
    private int template;
    private ScanCursor cursor = ScanCursor.INITIAL;
    private Iterator<String> page = Collections.emptyIterator();
    private boolean scanFinished;
    private long passes;

    NamespaceWalk(NamespaceConfig ns, List<List<KeyTemplate>> before) {
        if (before.size() != ns.keys().size()) {
            throw new IllegalArgumentException("one list of earlier templates per template of " + ns.name());
        }
        this.ns = ns;
        this.before = List.copyOf(before);
    }

    NamespaceConfig namespace() {
        return ns;
    }

    /** Passes completed. */
    long passes() {
        return passes;
    }

    /** The next step: the next key judged under the current template, else the next SCAN page, else the pass's end. */
    Step next(Scanner scanner, Selector selector) {
        KeyTemplate t = ns.keys().get(template);
        while (page.hasNext()) {
            String key = page.next();
            if (selector.judged(t, key, before.get(template))) {
                return new Step(key, t, false);
            }
        }
        if (scanFinished) {
            scanFinished = false;
            cursor = ScanCursor.INITIAL;
            template++;
            if (template == ns.keys().size()) {
                template = 0;
                passes++;
                return new Step(null, null, true);
            }
            t = ns.keys().get(template);
        }
        KeyScanCursor<String> scanned = scanner.scan(cursor, t.glob(), SCAN_COUNT);
        cursor = scanned;
        page = List.copyOf(scanned.getKeys()).iterator();
        scanFinished = scanned.isFinished();
        return new Step(null, t, false);
    }
}
