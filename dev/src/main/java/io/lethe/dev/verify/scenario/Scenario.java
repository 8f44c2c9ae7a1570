package io.lethe.dev.verify.scenario;

/**
 * One adversarial situation run against the real pipeline on the embedded stack: it sets up
 * data and cache entries, does what a user's platform could do to them (a schema change, a
 * Redis restart, a slow reader, a crash at the worst moment), lets the pipeline quiesce, and is
 * judged only from Redis against what PostgreSQL holds, as a user would judge it.
 */
interface Scenario {
    /** The name given to {@code lethe verify --scenario}. */
    String name();

    /** The class of problem, in a few words, for the catalogue's table. */
    String summary();

    /** True when it runs in seconds and so is part of {@code mvn verify}. */
    default boolean fast() {
        return true;
    }

    /** Runs it: set up, act, quiesce; the run judges afterwards. */
    void run(ScenarioRun run) throws Exception;
}
