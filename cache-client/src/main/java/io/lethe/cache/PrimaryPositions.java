package io.lethe.cache;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;

/**
 * Bounds client-supplied read tokens by the primary's position. The highest position seen is kept
 * (within one history positions only rise), so the primary is asked only for a token beyond it, and
 * one question at a time: a flood of forged tokens costs one query per round trip, not one per read.
 */
final class PrimaryPositions {
    private static final CompletableFuture<Void> OK = CompletableFuture.completedFuture(null);

    private final PrimaryPosition source;
    private final Executor executor;
    private ReadToken highest;
    private CompletableFuture<ReadToken> asking;

    PrimaryPositions(PrimaryPosition source, Executor executor) {
        this.source = source;
        this.executor = executor;
    }

    /**
     * Completes when {@code token} is at or below the primary's position (or of another history, which
     * cannot be compared: such a read goes to the primary as before); fails with
     * {@link TokenAheadOfPrimaryException} when it is beyond it.
     */
    CompletableFuture<Void> check(long token, String history) {
        return check(token, history, false);
    }

    /**
     * {@code again}: the first answer was from a question asked before this reader arrived, which may
     * predate its token; any question running now was asked after that one ended, so after it arrived.
     */
    private CompletableFuture<Void> check(long token, String history, boolean again) {
        if (source == null) {
            return OK;
        }
        CompletableFuture<ReadToken> ask;
        boolean joined;
        synchronized (this) {
            if (highest != null && token <= highest.lsn() && (history == null || history.equals(highest.history()))) {
                return OK;
            }
            ask = asking;
            joined = ask != null;
            if (ask == null) {
                // the local, not the field: a question that ends at once clears the field before this line returns
                // the state is updated before the answer completes anyone's check: a caller refused by it
                // and back at once must not join this finished question again
                ask = CompletableFuture.supplyAsync(this::askAndRecord, executor);
                asking = ask;
            }
        }
        return ask.thenCompose(current -> {
            if ((history == null || history.equals(current.history())) && token > current.lsn()) {
                if (joined && !again) {
                    return check(token, history, true);
                }
                throw new TokenAheadOfPrimaryException(token, current.lsn());
            }
            return OK;
        });
    }

    private ReadToken askAndRecord() {
        ReadToken current = null;
        try {
            current = ask();
            return current;
        } finally {
            synchronized (this) {
                asking = null;
                if (current != null && (highest == null || !current.history().equals(highest.history()) || current.lsn() > highest.lsn())) {
                    highest = current;
                }
            }
        }
    }

    private ReadToken ask() {
        try {
            ReadToken current = source.current();
            if (current == null) {
                throw new CacheLoadException("the primary position source returned null");
            }
            return current;
        } catch (CacheLoadException e) {
            throw e;
        } catch (Exception e) {
            throw new CacheLoadException("cannot read the primary's position to check a read token: " + e, e);
        }
    }
}
