package io.lethe.cache;

import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Read-your-writes reads of a namespace ({@link CacheNamespace#get(String, Loader, ReadToken)}): the
 * token is checked against the primary's position, the region's applied watermark is read before
 * the entry, and the entry is served only when the watermark covers the token. Otherwise the value
 * is loaded by a load that started after the reader arrived (never one already running, which may
 * have read the row before the reader's write): at most one load runs and one waits per key.
 */
final class TokenReads<T> {
    private final NamespaceContext<T> ns;
    /** The region's applied-watermark key. */
    private final String appliedLsnKey;
    private final PrimaryPositions positions;
    private final NamespaceLoads<T> loads;
    private final FencedFill<T> fills;
    private final ShadowReads<T> shadow;
    /** Token reads' loads per key: see {@link #tokenLoad}. */
    private final ConcurrentHashMap<String, TokenLoads<T>> tokenLoads = new ConcurrentHashMap<>();

    TokenReads(NamespaceContext<T> ns, String appliedLsnKey, PrimaryPositions positions, NamespaceLoads<T> loads, FencedFill<T> fills,
            ShadowReads<T> shadow) {
        this.ns = ns;
        this.appliedLsnKey = appliedLsnKey;
        this.positions = positions;
        this.loads = loads;
        this.fills = fills;
        this.shadow = shadow;
    }

    /** The value of {@code key} for a reader holding {@code token} (of {@code history}, or null when the token names none). */
    CompletableFuture<T> read(String key, Loader<T> loader, long token, String history) {
        // tokens come from the application's callers: one beyond the primary's position is refused
        return positions.check(token, history).thenCompose(ok -> tokenRead(key, loader, token, history));
    }

    private CompletableFuture<T> tokenRead(String key, Loader<T> loader, long token, String history) {
        long missedAt = System.nanoTime();
        CacheRedis redis = ns.redis();
        // the watermark is read before the entry: then the entry reflects every invalidation the
        // watermark covers (one connection keeps the order; a cluster's nodes do not, so it waits)
        CompletableFuture<OptionalLong> applied = redis.appliedLsn(appliedLsnKey, history)
                .handle((lsn, error) -> error == null ? lsn : OptionalLong.empty());
        CompletableFuture<CacheRedis.Read> read = redis.orderedAfter(applied, () -> ns.read(key))
                .handle((r, error) -> error == null ? r : null);
        return applied.thenCombine(read, (lsn, r) -> afterTokenRead(key, loader, token, lsn, r, missedAt))
                .thenCompose(value -> value);
    }

    private CompletableFuture<T> afterTokenRead(String key, Loader<T> loader, long token, OptionalLong applied, CacheRedis.Read read,
            long missedAt) {
        CacheMetrics metrics = ns.metrics();
        if (read == null) {
            metrics.tokenRead(false);
            metrics.get("error");
            return tokenLoad(key, loader).thenApply(Loaded::value);
        }
        boolean covered = applied.isPresent() && applied.getAsLong() >= token;
        boolean fresh = ns.fresh(read.softExpiry()) || ns.policy().consistency() == Policy.Consistency.EVENTUAL;
        if (covered && read.present() && fresh) {
            metrics.tokenRead(true);
            metrics.get(read.notFound() ? "negative" : "hit");
            shadow.sample(key, read, loader);
            return CompletableFuture.completedFuture(ns.decode(read));
        }
        // the fill is judged against this reader's own miss read, taken before the shared load started
        CompletableFuture<Loaded<T>> loading = tokenLoad(key, loader);
        metrics.tokenRead(false); // after joining a load: a count tells how many readers wait on one
        metrics.get("miss");
        return loading.thenCompose(loaded -> fills.fill(key, loaded, read, read.present(), missedAt));
    }

    /** One key's token loads: the one running, and the one that will start after it (which readers arriving now join). */
    private static final class TokenLoads<T> {
        CompletableFuture<Loaded<T>> running;
        CompletableFuture<Loaded<T>> next;
        Loader<T> nextLoader;
    }

    /**
     * A load for a token reader that arrived now: the pending load of its key, which starts after
     * the running one ends (or at once). Never a load that already started: it may have read the row
     * before this reader's write committed. At most one load runs and one waits per key.
     */
    private CompletableFuture<Loaded<T>> tokenLoad(String key, Loader<T> loader) {
        @SuppressWarnings("unchecked")
        CompletableFuture<Loaded<T>>[] joined = new CompletableFuture[1];
        boolean[] start = {false};
        tokenLoads.compute(key, (k, s) -> {
            TokenLoads<T> state = s == null ? new TokenLoads<>() : s;
            if (state.next == null) {
                state.next = new CompletableFuture<>();
                state.nextLoader = loader;
                start[0] = state.running == null;
            }
            joined[0] = state.next;
            return state;
        });
        if (start[0]) {
            startTokenLoad(key);
        }
        return joined[0];
    }

    private void startTokenLoad(String key) {
        @SuppressWarnings("unchecked")
        CompletableFuture<Loaded<T>>[] promise = new CompletableFuture[1];
        @SuppressWarnings("unchecked")
        Loader<T>[] loader = new Loader[1];
        tokenLoads.computeIfPresent(key, (k, state) -> {
            promise[0] = state.next;
            loader[0] = state.nextLoader;
            state.running = state.next;
            state.next = null;
            state.nextLoader = null;
            return state;
        });
        loads.load(key, loader[0]).whenComplete((loaded, error) -> {
            boolean[] again = {false};
            tokenLoads.computeIfPresent(key, (k, state) -> {
                state.running = null;
                again[0] = state.next != null;
                return again[0] ? state : null;
            });
            if (again[0]) {
                startTokenLoad(key);
            }
            if (error != null) {
                promise[0].completeExceptionally(SingleFlight.unwrap(error));
            } else {
                promise[0].complete(loaded);
            }
        });
    }
}
