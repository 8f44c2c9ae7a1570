package io.lethe.region.redis;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.lethe.stage.failure.FailureClass;
import io.lettuce.core.RedisCommandExecutionException;
import io.lettuce.core.RedisCommandTimeoutException;
import io.lettuce.core.RedisConnectionException;
import io.lettuce.core.RedisNoScriptException;
import org.junit.jupiter.api.Test;

/** Error replies as Redis 6 and 7 word them, from inside a script and outside. */
class RedisFailuresTest {
    private static String reason(Throwable e) {
        return RedisFailures.classify(e, "redis://r").reason();
    }

    private static FailureClass kind(String reply) {
        return RedisFailures.classify(new RedisCommandExecutionException(reply), "redis://r").kind();
    }

    @Test
    void transientStatesAreRetried() {
        assertEquals("noscript", reason(new RedisNoScriptException("NOSCRIPT No matching script")));
        assertEquals("timeout", reason(new RedisCommandTimeoutException("timed out")));
        assertEquals("connection", reason(new RedisConnectionException("refused")));
        for (String reply : new String[] {"BUSY Redis is busy running a script", "LOADING Redis is loading the dataset in memory",
                "READONLY You can't write against a read only replica.", "CLUSTERDOWN The cluster is down", "TRYAGAIN Multiple keys",
                "MOVED 3999 127.0.0.1:6381", "ERR max number of clients reached"}) {
            assertEquals(FailureClass.RETRIABLE, kind(reply), reply);
        }
    }

    @Test
    void credentialsAndAclsAreConfigurationErrors() {
        assertEquals(FailureClass.FATAL_CONFIG, kind("NOAUTH Authentication required."));
        assertEquals(FailureClass.FATAL_CONFIG, kind("WRONGPASS invalid username-password pair or user is disabled."));
        assertEquals(FailureClass.FATAL_CONFIG, kind("NOPERM this user has no permissions to run the 'evalsha' command"));
        assertEquals(FailureClass.FATAL_CONFIG, kind("NOPERM User lethe has no permissions to run the 'evalsha' command"));
        // a command the user lacks, called from a script: Redis 6.2 and 7 words
        assertEquals(FailureClass.FATAL_CONFIG, kind("ERR Error running script (call to f_1): @user_script:12: @user_script: 12: "
                + "The user executing the script can't run this command or subcommand"));
        assertEquals(FailureClass.FATAL_CONFIG, kind("ERR ACL failure in script: User lethe has no permissions to run the 'pexpire' "
                + "command script: 8952, on @user_script:44."));
    }

    /**
     * A key outside the user's key patterns (issue 34: a stray key under a least-privilege ACL) is
     * refused for that key alone: poison, dead-lettered, while the region goes on with the rest.
     */
    @Test
    void aKeyOutsideTheUsersPatternsIsPoisonForThatKey() {
        for (String reply : new String[] {"NOPERM this user has no permissions to access one of the keys used as arguments",
                "NOPERM No permissions to access a key",
                "ERR Error running script (call to f_1): @user_script:12: NOPERM this user has no permissions to access one of the keys",
                "ERR Error running script (call to f_1): @user_script:5: @user_script: 5: The user executing the script can't access at "
                        + "least one of the keys mentioned in the command",
                "ERR ACL failure in script: No permissions to access a key script: 8952, on @user_script:44."}) {
            assertEquals("redis-key-denied", reason(new RedisCommandExecutionException(reply)), reply);
        }
    }

    @Test
    void whatTheKeyWillAlwaysMeetIsPoison() {
        assertEquals("redis-wrongtype", reason(new RedisCommandExecutionException(
                "ERR Error running script (call to f_8952): @user_script:44: WRONGTYPE Operation against a key holding the wrong kind of value")));
        assertEquals("redis-wrongtype", reason(new RedisCommandExecutionException(
                "WRONGTYPE Operation against a key holding the wrong kind of value script: 8952, on @user_script:44.")));
        assertEquals("redis-oom", reason(new RedisCommandExecutionException(
                "OOM command not allowed when used memory > 'maxmemory'. script: 2742, on @user_script:1.")));
        assertEquals("redis-oom", reason(new RedisCommandExecutionException(
                "ERR Error running script (call to f_5c97): @user_script:45: @user_script: 45: -OOM command not allowed when used memory > 'maxmemory'.")));
        assertEquals("redis-refused", reason(new RedisCommandExecutionException("ERR lethe: version must be a decimal string")));
    }

    @Test
    void anUnknownReplyIsRetriedNotDropped() {
        assertEquals(FailureClass.RETRIABLE, kind("ERR something only a future Redis says"));
    }
}
