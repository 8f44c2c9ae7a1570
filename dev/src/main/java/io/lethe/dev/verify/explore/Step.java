package io.lethe.dev.verify.explore;

import java.util.List;

/**
 * One thing the writer does. SQL steps run as one transaction; {@code ${publication}} in their
 * SQL stands for the run's publication.
 *
 * @param kind   what it is
 * @param table  the table it concerns (SQL steps), else null
 * @param sql    the statements (SQL steps)
 * @param region the region index it concerns ({@code *} for all), else null
 * @param a      kind-specific: the namespace of a read or a configuration change, the stage of a restart, stop or
 *               start, the pause in ms
 * @param b      kind-specific: the template tag of a read ({@code list} for the pattern key), how a stop stops
 *               ({@code kill} or {@code stop}), the configuration change ({@link Kind#CONFIG})
 * @param rids   the rows a read reads (by rid)
 */
record Step(Kind kind, String table, List<String> sql, String region, String a, String b, List<Integer> rids) {
    Step {
        sql = sql == null ? List.of() : List.copyOf(sql);
        rids = rids == null ? List.of() : List.copyOf(rids);
    }

    enum Kind {
        /** A transaction of DML (INSERT, UPDATE, DELETE, TRUNCATE, savepoints). */
        TX,
        /** A DDL transaction; {@code a} says which feature it exercises. */
        DDL,
        /** Synchronous reads through cache-client of some rows' keys of one template. */
        READ,
        /** Stop a stage and start it again ({@code a}: capture, streams or region). */
        RESTART,
        /** kill -9 of a stage process, then start it again. */
        KILL,
        /**
         * A stage stopped ({@code a}: capture, streams or region) and left down until a {@link #START}
         * of it: {@code b} {@code stop} closes it as an operator would, {@code kill} is a kill -9 of its
         * process. Stopping a stopped stage does nothing; a stage still down when the steps end is started
         * then (consumers first), and a CHECK while one is down is an invalid step (nothing could quiesce).
         */
        STOP,
        /** A stage a {@link #STOP} left down started again; starting a running stage does nothing. */
        START,
        /** SAVE of a region's Redis (a later REDIS_RDB restores it). */
        REDIS_SAVE,
        /** SHUTDOWN NOSAVE of a region's Redis, restarted from its last RDB snapshot. */
        REDIS_RDB,
        /** kill -9 of a region's Redis (appendonly yes since the start), restarted from its AOF. */
        REDIS_AOF,
        /** The broker stopped for {@code a} ms, then started again. */
        BROKER,
        /** {@code a} partitions added to the changes topic and every region topic. */
        PARTITIONS,
        /** The writer waits {@code a} ms (readers go on). */
        PAUSE,
        /**
         * The writer waits until everything committed so far reached every region ({@code lethe.changes}
         * quiesced), then reads the keys of {@code rids} of template {@code b} of namespace {@code a} in
         * every region caching it, through the cache, and compares each with the database: what a
         * later change may heal (a wholesale reset for other DDL, a write of the row) is judged here.
         */
        CHECK,
        /**
         * The configuration changed across a restart of every stage, for namespace {@code a}: {@code b} is
         * {@code version <source>} (its version source becomes {@code lsn} or {@code column:ver}),
         * {@code subscribe} or {@code unsubscribe} (the region that caches some namespaces only caches it
         * too, or no longer). Every stage stops, the readers switch to the new definitions (rolled out
         * first), and the stages start again under the new lethe.yml, capture first and consumers last.
         * A change that changes nothing (a shrunk program lost what it applied to) does nothing. With
         * {@code rids}, the readers roll out last instead: once every region runs the new file (its marker
         * records it), the readers still on the old definitions read those rows of namespace {@code a} in every
         * region (their fills tagged as the old file tags them), then switch.
         */
        CONFIG
    }

    static Step tx(String table, List<String> sql) {
        return new Step(Kind.TX, table, sql, null, null, null, null);
    }

    static Step ddl(Feature feature, String table, List<String> sql) {
        return new Step(Kind.DDL, table, sql, null, feature.id(), null, null);
    }

    static Step read(String namespace, String tag, String region, List<Integer> rids) {
        return new Step(Kind.READ, null, null, region, namespace, tag, rids);
    }

    static Step check(String namespace, String tag, List<Integer> rids) {
        return new Step(Kind.CHECK, null, null, "*", namespace, tag, rids);
    }

    static Step fault(Kind kind, String region, String a) {
        return new Step(kind, null, null, region, a, null, null);
    }

    static Step stop(String stage, String region, boolean kill) {
        return new Step(Kind.STOP, null, null, region, stage, kill ? "kill" : "stop", null);
    }

    static Step start(String stage, String region) {
        return new Step(Kind.START, null, null, region, stage, null, null);
    }

    static Step config(String namespace, String change, List<Integer> lateReads) {
        return new Step(Kind.CONFIG, null, null, null, namespace, change, lateReads);
    }

    /** One line for the step log. */
    String describe() {
        return switch (kind) {
            case TX, DDL ->
                kind + (a == null ? "" : " " + a) + " " + table + ": " + String.join("; ", sql.stream().map(Step::abbreviate).toList());
            case READ -> "READ " + a + ":" + b + " rids " + rids + " in region " + region;
            case CHECK -> "CHECK " + a + ":" + b + " rids " + rids + " in every region, once every change so far is applied";
            case RESTART, KILL, START -> kind + " " + a + (region == null ? "" : " " + region);
            case STOP -> (b.equals("kill") ? "STOP (kill -9) " : "STOP ") + a + (region == null ? "" : " " + region);
            case REDIS_SAVE, REDIS_RDB, REDIS_AOF -> kind + " region " + region;
            case BROKER -> "BROKER down for " + a + " ms";
            case PARTITIONS -> "PARTITIONS +" + a;
            case PAUSE -> "PAUSE " + a + " ms";
            case CONFIG -> "CONFIG " + a + ": " + switch (b) {
                case "subscribe" -> "the region caching some namespaces caches it too";
                case "unsubscribe" -> "the region caching some namespaces no longer caches it";
                default -> b;
            } + (rids.isEmpty()
                    ? " (every stage stopped, readers switched, stages started under the new lethe.yml)"
                    : " (every stage stopped and started under the new lethe.yml, then readers on the old one read rids " + rids
                            + ", then switched)");
        };
    }

    private static String abbreviate(String sql) {
        return sql.length() <= 400 ? sql : sql.substring(0, 400) + "...";
    }
}
