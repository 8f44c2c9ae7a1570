package io.lethe.region.redis;

import io.lethe.schemas.DlqReason;
import io.lethe.stage.failure.Failure;
import io.lettuce.core.RedisCommandExecutionException;
import io.lettuce.core.RedisCommandTimeoutException;
import io.lettuce.core.RedisConnectionException;
import io.lettuce.core.RedisNoScriptException;
import java.util.List;
import java.util.Locale;

/**
 * The one place where a Redis error is classified, from Lettuce's typed exceptions and, for a
 * server error reply, its first word. Transient states (a server loading its data, busy in a
 * script, a replica during failover, a cluster moving slots) are retried; credentials and ACL
 * refusals of a command are configuration errors; an error this key's call will always meet (WRONGTYPE,
 * OOM, a key outside the ACL user's key patterns, a script's own refusal) is poison. An unknown error reply is retried, not dropped.
 */
public final class RedisFailures {
    private static final List<String> RETRIABLE_REPLIES = List.of("BUSY", "LOADING", "READONLY", "MASTERDOWN", "TRYAGAIN",
            "CLUSTERDOWN", "MOVED", "ASK", "NOREPLICAS");

    private RedisFailures() {
    }

    public static Failure classify(Throwable e, String server) {
        if (e instanceof RedisNoScriptException) {
            return Failure.retriable("noscript", e);
        }
        if (e instanceof RedisCommandTimeoutException) {
            return Failure.retriable("timeout", e);
        }
        if (e instanceof RedisConnectionException) {
            return Failure.retriable("connection", e);
        }
        if (!(e instanceof RedisCommandExecutionException)) {
            return Failure.retriable("connection", e);
        }
        // a script's error reply names the inner error after its first word on Redis 7 and
        // after "ERR Error running script ... @user_script:N:" on Redis 6: look for the word anywhere
        String message = String.valueOf(e.getMessage());
        String word = message.split("[ :]", 2)[0].toUpperCase(Locale.ROOT);
        if (message.contains("NOAUTH") || message.contains("WRONGPASS")) {
            return Failure.fatal("authentication", "Redis " + server + " refused the credentials: set the region's password "
                    + "(regions.<name>.redis-password) to the server's requirepass or its ACL user's password", e);
        }
        String lower = message.toLowerCase(Locale.ROOT);
        if (lower.contains("access one of the keys") || lower.contains("access a key")
                || lower.contains("access at least one of the keys")) {
            // the key lies outside the ACL user's key patterns: every call for it will be refused, the others are not
            return Failure.poison(DlqReason.REDIS_KEY_DENIED, e);
        }
        if (message.contains("NOPERM") || lower.contains("acl failure") || lower.contains("can't run this command")) {
            return Failure.fatal("authorization", "Redis " + server + " denied a command (" + message + "): give the region's "
                    + "ACL user the commands listed in docs/runbook.md, \"Redis refuses Lethe's commands\"", e);
        }
        if (message.contains("WRONGTYPE")) {
            return Failure.poison(DlqReason.REDIS_WRONGTYPE, e);
        }
        if (message.contains("OOM command not allowed")) {
            return Failure.poison(DlqReason.REDIS_OOM, e);
        }
        if (RETRIABLE_REPLIES.contains(word) || message.contains("max number of clients")) {
            return Failure.retriable(word.toLowerCase(Locale.ROOT), e);
        }
        if (message.startsWith("ERR lethe:") || message.contains("Error running script") || message.contains("@user_script")) {
            return Failure.poison(DlqReason.REDIS_REFUSED, e);
        }
        return Failure.retriable("error", e);
    }
}
