package io.lethe.cache;

import io.lethe.schemas.redis.AppliedLsn;
import io.lethe.schemas.redis.FillResult;
import io.lethe.schemas.redis.LuaScript;
import io.lethe.schemas.redis.RedisLayout;
import io.lettuce.core.KeyValue;
import io.lettuce.core.RedisNoScriptException;
import io.lettuce.core.RedisURI;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.SetArgs;
import io.lettuce.core.XAddArgs;
import io.lettuce.core.api.async.RedisHashAsyncCommands;
import io.lettuce.core.api.async.RedisScriptingAsyncCommands;
import io.lettuce.core.api.async.RedisStreamAsyncCommands;
import io.lettuce.core.api.async.RedisStringAsyncCommands;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Supplier;

/**
 * The cache-client's Redis commands: the miss read (entry and fence counter in one round trip),
 * fill.lua by SHA (reloading on NOSCRIPT), and the fill lock.
 */
final class CacheRedis implements AutoCloseable {
    /**
     * The TTL a fill is written with until its namespace epoch is confirmed ({@link #confirm}):
     * a process that dies between the fill and the check leaves nothing unchecked for longer.
     */
    static final long FILL_LEASE_MILLIS = 10_000;

    /** What the miss read found; {@code holds}: the namespace's {@link RedisLayout#holdsKey} (null: none, or not asked). */
    record Read(byte[] data, String version, Long softExpiry, boolean notFound, boolean legacy, String fenceCounter, String epoch,
            String holds) {
        boolean present() {
            return data != null;
        }
    }

    /** The namespace's epoch ("0" when none) and recorded holds (null: none, or not asked) after a fill. */
    record Marks(String epoch, String holds) {
    }

    private final CacheConnection connection;
    private final RedisHashAsyncCommands<String, byte[]> hashes;
    private final RedisScriptingAsyncCommands<String, byte[]> scripts;
    private final RedisStringAsyncCommands<String, byte[]> strings;
    private final RedisStreamAsyncCommands<String, byte[]> streams;
    /** The L1, or null: every write of an entry by this process drops its copy there (see {@link #ownWrite}). */
    private final NearCache near;
    /** In front of the reads every get starts with ({@link #read}, {@link #appliedLsn}); null: none (internal uses, tests). */
    private final RedisBreaker breaker;

    CacheRedis(List<RedisURI> uris, boolean cluster, NearCache near, Duration connectWithin) {
        this(uris, cluster, near, connectWithin, null, null, Clock.systemUTC(), () -> {
        });
    }

    /** @param failedConnect called after each connection attempt that failed while build() waits for Redis */
    CacheRedis(List<RedisURI> uris, boolean cluster, NearCache near, Duration connectWithin, Path trustedCertificates,
            RedisBreaker breaker, Clock clock, Runnable failedConnect) {
        this.connection = new CacheConnection(uris, cluster, near, connectWithin, trustedCertificates, breaker, clock, failedConnect);
        this.hashes = connection.hashes;
        this.scripts = connection.scripts;
        this.strings = connection.strings;
        this.streams = connection.streams;
        this.near = near;
        this.breaker = breaker;
    }

    /** Sends {@code command} through the breaker (at once when there is none). */
    private <R> CompletableFuture<R> guarded(Supplier<CompletableFuture<R>> command) {
        return breaker == null ? command.get() : breaker.call(command);
    }

    /**
     * HMGET key v d s nf, HGET fence n, GET epoch and (with {@code holds}) GET of the namespace's
     * holds key after them, pipelined on one connection: one round trip (on a Cluster, two with
     * {@code holds}). Through the breaker: while it is open this fails at once.
     */
    CompletableFuture<Read> read(String key, String namespace, boolean holds) {
        return guarded(() -> readNow(key, namespace, holds));
    }

    private CompletableFuture<Read> readNow(String key, String namespace, boolean withHolds) {
        CompletableFuture<List<KeyValue<String, byte[]>>> entry = hashes.hmget(key,
                RedisLayout.ENTRY_VERSION, RedisLayout.ENTRY_DATA, RedisLayout.ENTRY_SOFT_EXPIRY, RedisLayout.ENTRY_NOT_FOUND)
                .toCompletableFuture();
        CompletableFuture<byte[]> counter = hashes.hget(RedisLayout.fenceKey(key), RedisLayout.FENCE_COUNTER).toCompletableFuture();
        CompletableFuture<byte[]> epochRead = strings.get(RedisLayout.epochKey(namespace)).toCompletableFuture();
        // after the entry and the epoch (a Cluster's nodes do not keep that order): a holds key read old was read before the
        // region wrote the new one, so the entry and epoch read first are older than the wholesale invalidation after it
        CompletableFuture<byte[]> holdsRead = withHolds
                ? orderedAfter(CompletableFuture.allOf(entry, epochRead), () -> strings.get(RedisLayout.holdsKey(namespace))
                        .toCompletableFuture())
                : CompletableFuture.completedFuture(null);
        // The replies arrive on the I/O thread; combine only once all are in (never block it).
        return CompletableFuture.allOf(entry, counter, epochRead, holdsRead).handle((ignored, firstError) -> {
            byte[] n = counter.join(); // already complete: rethrows if the fence read failed
            String fence = n == null ? null : new String(n, StandardCharsets.UTF_8);
            byte[] epochBytes = epochRead.join();
            String epoch = epochBytes == null ? "0" : new String(epochBytes, StandardCharsets.UTF_8);
            byte[] holdsBytes = holdsRead.join();
            String holds = holdsBytes == null ? null : new String(holdsBytes, StandardCharsets.UTF_8);
            List<KeyValue<String, byte[]>> fields;
            try {
                fields = entry.join();
            } catch (CompletionException e) {
                if (String.valueOf(e.getCause().getMessage()).startsWith("WRONGTYPE")) {
                    // a legacy entry (plain SET by another application): treat as a miss and replace it
                    return new Read(null, null, null, false, true, fence, epoch, holds);
                }
                throw e;
            }
            String version = text(fields.get(0));
            byte[] data = fields.get(1).hasValue() ? fields.get(1).getValue() : null;
            String soft = text(fields.get(2));
            boolean notFound = fields.get(3).hasValue();
            if (data == null && version == null) {
                return new Read(null, null, null, false, false, fence, epoch, holds);
            }
            return new Read(data == null ? new byte[0] : data, version, soft == null ? null : Long.parseLong(soft), notFound, false,
                    fence, epoch, holds);
        });
    }

    private static String text(KeyValue<String, byte[]> kv) {
        return kv.hasValue() ? new String(kv.getValue(), StandardCharsets.UTF_8) : null;
    }

    /** fill.lua: see its header for the arguments. */
    CompletableFuture<FillResult> fill(String key, String version, String n0, byte[] payload, long ttlMillis,
            Long softExpiry, boolean replace, boolean notFound) {
        String[] k = {key, RedisLayout.fenceKey(key)};
        byte[][] args = {
                utf8(version), utf8(n0 == null ? "" : n0), payload, utf8(Long.toString(ttlMillis)),
                utf8(softExpiry == null ? "" : Long.toString(softExpiry)), utf8(replace ? "1" : "0"), utf8(notFound ? "1" : "0")
        };
        return ownWrite(key, () -> guarded(() -> evalsha(LuaScript.FILL, k, args))).thenApply(FillResult::of);
    }

    /**
     * confirm.lua: gives a fill whose epoch was confirmed its real TTL ({@code 0}: none), if the key
     * still holds it (returns 1; 0 when an invalidation or another fill replaced it).
     */
    CompletableFuture<Long> confirm(String key, String version, byte[] payload, long ttlMillis) {
        String[] k = {key};
        byte[][] args = {utf8("h"), payload, utf8(version), utf8(Long.toString(ttlMillis))};
        return ownWrite(key, () -> guarded(() -> evalsha(LuaScript.CONFIRM, k, args)));
    }

    /**
     * A write of {@code key}'s entry by this process. Tracking runs with NOLOOP, so Redis tells no
     * one here about it, and it also ends the tracking of the key for this connection: a copy the
     * L1 kept would be served, and never invalidated again, until the L1's own TTL. So the L1 copy
     * is dropped before the write is sent (a read in flight then cannot keep what it read) and
     * again once its reply is in, failed or not (a read sent between the two may have filled L1
     * with what the write replaced or undid; a failed reply may still have been applied). Replies
     * on the one connection come in the order the commands were sent, so a read whose reply comes
     * later was sent after the write and saw it.
     */
    private <R> CompletableFuture<R> ownWrite(String key, Supplier<CompletableFuture<R>> write) {
        if (near == null) {
            return write.get();
        }
        List<String> keys = List.of(key);
        near.invalidate(keys);
        return write.get().whenComplete((result, error) -> near.invalidate(keys));
    }

    /** EVALSHA of {@code script}; on NOSCRIPT (a restarted or flushed Redis) the script is loaded and called again. */
    private CompletableFuture<Long> evalsha(LuaScript script, String[] k, byte[][] args) {
        return scripts.<Long>evalsha(script.sha1(), ScriptOutputType.INTEGER, k, args).toCompletableFuture().exceptionallyCompose(error -> {
            Throwable cause = error instanceof CompletionException ? error.getCause() : error;
            if (cause instanceof RedisNoScriptException) {
                return scripts.scriptLoad(script.source()).toCompletableFuture()
                        .thenCompose(sha -> scripts.<Long>evalsha(script.sha1(), ScriptOutputType.INTEGER, k, args).toCompletableFuture());
            }
            return CompletableFuture.failedFuture(cause);
        });
    }

    /**
     * Runs {@code next} after {@code first} as Redis sees them: at once on one connection (it keeps
     * the order), after {@code first} completed on a cluster (its nodes do not).
     */
    <A, B> CompletableFuture<B> orderedAfter(CompletableFuture<A> first, Supplier<CompletableFuture<B>> next) {
        if (!connection.cluster()) {
            return next.get();
        }
        return first.handle((a, e) -> null).thenCompose(x -> next.get());
    }

    /**
     * The region's applied watermark (see {@link AppliedLsn}) for a token of
     * source history {@code history} (null: a token that does not say); empty when unknown.
     */
    CompletableFuture<OptionalLong> appliedLsn(String key, String history) {
        return guarded(() -> hashes.hgetall(key).toCompletableFuture()).thenApply(raw -> {
            Map<String, String> fields = new HashMap<>();
            raw.forEach((field, value) -> fields.put(field, new String(value, StandardCharsets.UTF_8)));
            return history == null ? AppliedLsn.of(fields) : AppliedLsn.of(fields, history);
        });
    }

    /** The namespace's epoch now ("0" when none was ever set). */
    CompletableFuture<String> epoch(String namespace) {
        return guarded(() -> strings.get(RedisLayout.epochKey(namespace)).toCompletableFuture())
                .thenApply(b -> b == null ? "0" : new String(b, StandardCharsets.UTF_8));
    }

    /** The namespace's epoch and, with {@code holds}, its recorded holds (pipelined): what an accepted fill is confirmed against. */
    CompletableFuture<Marks> marks(String namespace, boolean holds) {
        CompletableFuture<byte[]> h = holds
                ? guarded(() -> strings.get(RedisLayout.holdsKey(namespace)).toCompletableFuture())
                : CompletableFuture.completedFuture(null);
        return epoch(namespace).thenCombine(h, (e, b) -> new Marks(e, b == null ? null : new String(b, StandardCharsets.UTF_8)));
    }

    /**
     * Undoes a fill whose namespace epoch moved: invalidate.lua at the fill's own version, which
     * removes it (and anything older) and moves the fence counter like any invalidation.
     */
    CompletableFuture<Long> undoFill(String key, String version, long fenceTtlMillis) {
        return invalidate(key, version, fenceTtlMillis);
    }

    /**
     * invalidate.lua at {@code version}, as the region consumers apply it: deletes the entry if it
     * is at or below that version (returns 1; 2 kept-newer, 0 absent) and moves the fence, so a
     * fill whose load started before this call is refused.
     */
    CompletableFuture<Long> invalidate(String key, String version, long fenceTtlMillis) {
        String[] k = {key, RedisLayout.fenceKey(key)};
        byte[][] args = {utf8(version), utf8(Long.toString(fenceTtlMillis)),
                utf8(Long.toString(ThreadLocalRandom.current().nextLong(1, 1L << 40)))};
        return ownWrite(key, () -> guarded(() -> evalsha(LuaScript.INVALIDATE, k, args)));
    }

    /**
     * The commit time (epoch micros) of the region's applied watermark (see
     * {@link AppliedLsn#commitTs}): everything committed before it is applied
     * in this region. Empty when unknown.
     */
    CompletableFuture<OptionalLong> appliedCommitMicros(String key) {
        return hashes.hgetall(key).toCompletableFuture().thenApply(raw -> {
            Map<String, String> fields = new HashMap<>();
            raw.forEach((field, value) -> fields.put(field, new String(value, StandardCharsets.UTF_8)));
            return AppliedLsn.commitTs(fields);
        });
    }

    /** XADD of one record to the audit stream of confirmed stale entries ({@link RedisLayout#AUDIT_STALE_STREAM}). */
    CompletableFuture<String> auditStale(Map<String, String> fields) {
        Map<String, byte[]> body = new LinkedHashMap<>();
        fields.forEach((f, v) -> body.put(f, utf8(v)));
        return streams.xadd(RedisLayout.AUDIT_STALE_STREAM,
                XAddArgs.Builder.maxlen(RedisLayout.AUDIT_STALE_MAXLEN).approximateTrimming(), body).toCompletableFuture();
    }

    /** SET lock token NX PX lease: true when this process may load. (Lock keys are Lethe's, never entries, never in L1.) */
    CompletableFuture<Boolean> tryLock(String key, String token, Duration lease) {
        return strings.set(lockKey(key), utf8(token), SetArgs.Builder.nx().px(lease.toMillis()))
                .toCompletableFuture().thenApply("OK"::equals);
    }

    /**
     * Releases the fill lock only if it still holds {@code token}: after its lease expired another
     * process may hold it, and deleting that one would let a third load at the same time.
     */
    CompletableFuture<Long> unlock(String key, String token) {
        return scripts.<Long>eval(UNLOCK, ScriptOutputType.INTEGER, new String[] {lockKey(key)}, utf8(token)).toCompletableFuture();
    }

    private static final String UNLOCK = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0";

    /** The fill lock of {@code key}: beside its fence, in the same slot. */
    static String lockKey(String key) {
        return "lethe:lock:" + RedisLayout.fenceKey(key).substring(RedisLayout.FENCE_PREFIX.length());
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Override
    public void close() {
        connection.close();
    }
}
